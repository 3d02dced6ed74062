"""Property tests of the parsers: whatever the bytes, parse_file yields only ParsedRecord and
Problem, every Problem says where and why, and every record can be stored.

Deterministic (derandomize) and bounded, so CI runs the same examples every time in seconds.
"""

import io

from hypothesis import given
from hypothesis import strategies as st

from corpora.parsing import (
    DELIMITERS,
    CsvHeader,
    ParsedRecord,
    ParseOptions,
    Problem,
    parse_file,
    read_csv_header,
)
from tests.corpora.strategies import (
    cells,
    csv_files,
    documents,
    fuzz_settings,
    json_line,
    jsonl_files,
    record_objects,
    storable,
    text_files,
)

FUZZ = fuzz_settings(max_examples=500)
NAMES = ["data.jsonl", "data.json", "data.csv", "data.tsv", "notes.txt", "post.md"]


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


@FUZZ
@given(content=jsonl_files())
def test_jsonl_objects_with_random_fields_give_one_verdict_per_line(content):
    items = parse("data.jsonl", content, ParseOptions())
    lines = len(content.splitlines())
    assert [i.line for i in items] == list(range(1, lines + 1))


@FUZZ
@given(
    data=st.data(), delimiter=st.sampled_from(list(DELIMITERS)),
    mapping=st.sampled_from([{}, {"csv_text_column": "notes"}, {"csv_prompt_column": "prompt", "csv_completion_column": "text"}]),
)
def test_csv_with_random_quoting_and_delimiters_gives_only_records_and_problems(data, delimiter, mapping):
    content = data.draw(csv_files(delimiter=delimiter))
    parse_delimiter = data.draw(st.sampled_from([delimiter] * 3 + list(DELIMITERS)))  # mostly the right one
    parse("data.csv", content, ParseOptions(csv_delimiter=parse_delimiter, **mapping))


@FUZZ
@given(head=st.binary(max_size=200) | cells.map(str.encode) | csv_files(), delimiter=st.sampled_from([None, *DELIMITERS]))
def test_csv_header_preview_never_raises(head, delimiter):
    header = read_csv_header("data.csv", head, delimiter)
    assert isinstance(header, CsvHeader) and header.delimiter in DELIMITERS
    assert header.problem is None or (header.problem.reason and storable(header.problem.reason))


@FUZZ
@given(docs=documents, separator=st.sampled_from(["", "---", "***"]), name=st.sampled_from(["notes.txt", "post.md"]),
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_text_with_separators_gives_only_records_and_problems(docs, separator, name, newline):
    content = (newline + (separator or "---") + newline).join(docs).encode()
    items = parse(name, content, ParseOptions(text_separator=separator))
    plain = [d for d in docs if d.strip() and d.strip() != "***" and not set(d) & set("\x00-\r\n")]
    if separator and docs and plain == docs:  # each document comes back, stripped
        assert [i.data["text"] for i in items] == [d.strip() for d in docs]


@FUZZ
@given(content=text_files(separator="***"))
def test_text_files_with_another_separator_give_only_records_and_problems(content):
    parse("notes.md", content, ParseOptions(text_separator="***"))


@FUZZ
@given(obj=record_objects)
def test_each_json_value_alone_is_a_record_or_one_problem(obj):
    assert len(parse("one.jsonl", json_line(obj), ParseOptions())) == 1
