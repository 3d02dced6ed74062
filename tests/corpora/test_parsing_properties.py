"""Property tests of the parsers: whatever the bytes, parse_file yields only ParsedRecord and
Problem, every Problem says where and why, and every record can be stored.

Deterministic (derandomize) and bounded, so CI runs the same examples every time in seconds.
"""

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpora.parsing import (
    BOM,
    DELIMITERS,
    CsvHeader,
    ParsedRecord,
    ParseOptions,
    Problem,
    parse_file,
    read_csv_header,
)

FUZZ = settings(
    derandomize=True, database=None, deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAMES = ["data.jsonl", "data.json", "data.csv", "data.tsv", "notes.txt", "post.md"]
HUGE = "__huge_number__"


def storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield key
            yield from strings(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from strings(sub)


def parse(name: str, content: bytes, options: ParseOptions) -> list:
    """Run the parser as the service does and check what it yields."""
    items = list(parse_file(name, io.BytesIO(content), options))
    assert items, "a file always yields a record or a problem"
    for item in items:
        assert type(item) in (ParsedRecord, Problem), item
        assert item.file == name
        if isinstance(item, Problem):
            assert item.line is None or (type(item.line) is int and item.line >= 1), item
            assert isinstance(item.reason, str) and item.reason.strip(), item
            assert storable(item.reason) and len(item.reason) <= 600, item
        else:
            assert type(item.line) is int and item.line >= 1
            assert item.kind in ("instruction", "chat", "text")
            assert item.split in ("", "train", "validation")
            for text in strings(item.data):
                assert storable(text), item
            assert item.text.strip()
    return items


options_strategy = st.builds(
    ParseOptions,
    text_separator=st.sampled_from(["", "---", "***", "\x00", " "]),
    csv_delimiter=st.sampled_from(list(DELIMITERS)),
    csv_text_column=st.sampled_from(["", "text", "body"]),
)
newlines = st.sampled_from([b"\n", b"\r\n", b"\r"])


@FUZZ
@given(name=st.sampled_from(NAMES), content=st.binary(max_size=400), options=options_strategy)
def test_arbitrary_bytes_give_only_records_and_problems(name, content, options):
    parse(name, content, options)


@FUZZ
@given(
    name=st.sampled_from(NAMES),
    content=st.lists(st.sampled_from([
        b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\r", b"\n", b'"', b",", b";", b"\t", b"{", b"}", b"[",
        b'"text"', b'"prompt"', b'"completion"', b":", b"---", b"\\u0000", b"\\ud800", b"1" * 5000,
        b"NaN", b"\xed\xa0\x80", b"\xe9", b"text", b"prompt,completion",
    ]), max_size=40).map(b"".join),
    options=options_strategy,
)
def test_near_miss_fragments_give_only_records_and_problems(name, content, options):
    parse(name, content, options)


# --------------------------------------------------------------------------- JSONL


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(codec=None), max_size=12), st.sampled_from(["", " ", "\x00", "\ud800", "ok", HUGE]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
message = st.fixed_dictionaries(
    {}, optional={"role": st.sampled_from(["user", "assistant", "system", "pirate", "\x00"]) | json_values,
                  "content": json_values},
)
record_objects = st.one_of(
    st.fixed_dictionaries({}, optional={"prompt": json_values, "completion": json_values, "split": json_values}),
    st.fixed_dictionaries({"messages": st.lists(message, max_size=3) | json_values}),
    st.fixed_dictionaries({"text": json_values}, optional={"split": st.sampled_from(["train", "test", ""])}),
    json_values,
)


def json_line(obj, ensure_ascii: bool) -> bytes:
    text = json.dumps(obj, ensure_ascii=ensure_ascii).replace(f'"{HUGE}"', "-" + "9" * 4400)
    return text.encode("utf-8", "surrogatepass")  # a raw surrogate makes invalid UTF-8: fine


@FUZZ
@given(
    objects=st.lists(record_objects, min_size=1, max_size=6),
    ensure_ascii=st.booleans(), newline=newlines, bom=st.booleans(),
)
def test_jsonl_objects_with_random_fields_give_only_records_and_problems(objects, ensure_ascii, newline, bom):
    content = (BOM if bom else b"") + newline.join(json_line(o, ensure_ascii) for o in objects)
    items = parse("data.jsonl", content, ParseOptions())
    assert len(items) == len(objects)  # one verdict per line, in order
    assert [i.line for i in items] == list(range(1, len(objects) + 1))


# --------------------------------------------------------------------------- CSV


cells = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10) | st.sampled_from(
    ['"', '""', ",", ";", "\t", "|", "\n", "\r\n", "\r", "\x00", " ", "ok"]
)


@FUZZ
@given(
    header=st.lists(st.sampled_from(["prompt", "completion", "text", "Prompt", "notes", "a,b", ""]),
                    min_size=1, max_size=4),
    rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=5),
    delimiter=st.sampled_from(list(DELIMITERS)),
    parse_delimiter=st.sampled_from(list(DELIMITERS)),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cut=st.integers(min_value=0, max_value=3),
    mapping=st.sampled_from([{}, {"csv_text_column": "notes"}, {"csv_prompt_column": "prompt", "csv_completion_column": "text"}]),
)
def test_csv_with_random_quoting_and_delimiters_gives_only_records_and_problems(
    header, rows, delimiter, parse_delimiter, quoting, newline, cut, mapping
):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline, escapechar="\\")
    try:
        writer.writerow(header)
        writer.writerows(rows)
    except csv.Error:  # QUOTE_NONE cannot write some cells: that is the writer, not us
        return
    content = out.getvalue().encode()
    content = content[: len(content) - cut]  # sometimes a cut-off last row or an open quote
    parse("data.csv", content, ParseOptions(csv_delimiter=parse_delimiter, **mapping))
    header_preview = read_csv_header("data.csv", content[:200])
    assert isinstance(header_preview, CsvHeader)
    assert header_preview.problem is None or header_preview.problem.reason


@FUZZ
@given(head=st.binary(max_size=200) | cells.map(str.encode), delimiter=st.sampled_from([None, *DELIMITERS]))
def test_csv_header_preview_never_raises(head, delimiter):
    header = read_csv_header("data.csv", head, delimiter)
    assert isinstance(header, CsvHeader) and header.delimiter in DELIMITERS
    assert header.problem is None or (header.problem.reason and storable(header.problem.reason))


# --------------------------------------------------------------------------- text


@FUZZ
@given(
    documents=st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
                       | st.sampled_from(["", " ", "---", "a\x00b", "\r", "line\n---\nline"]), max_size=5),
    separator=st.sampled_from(["", "---", "***"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    name=st.sampled_from(["notes.txt", "post.md"]),
)
def test_text_with_separators_gives_only_records_and_problems(documents, separator, newline, name):
    content = (newline + (separator or "---") + newline).join(documents).encode()
    items = parse(name, content, ParseOptions(text_separator=separator))
    plain = [d for d in documents if d.strip() and d.strip() != "***" and not set(d) & set("\x00-\r\n")]
    if separator and documents and plain == documents:  # each document comes back, stripped
        assert [i.data["text"] for i in items] == [d.strip() for d in documents]
