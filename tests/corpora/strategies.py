"""Hypothesis strategies for near-valid dataset files, shared by the parser and service properties."""

import csv
import io
import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from corpora.parsing import BOM, DELIMITERS

HUGE = "__huge_number__"


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic (derandomize, no example database) and bounded, for CI."""
    return settings(
        derandomize=True, database=None, deadline=None, max_examples=max_examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.function_scoped_fixture],
    )


def storable(text: str) -> bool:
    """PostgreSQL can store it as text and in JSONB: UTF-8 encodable, no NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


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
good_records = st.sampled_from([
    {"prompt": "Where be the lanterns?", "completion": "Aft, matey."},
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Ahoy!"}]},
    {"text": "Fair winds and dry socks!", "split": "train"},
])
record_objects = st.one_of(
    good_records,
    st.fixed_dictionaries({}, optional={"prompt": json_values, "completion": json_values, "split": json_values}),
    st.fixed_dictionaries({"messages": st.lists(message, max_size=3) | json_values}),
    st.fixed_dictionaries({"text": json_values}, optional={"split": st.sampled_from(["train", "test", ""])}),
    json_values,
)
newlines = st.sampled_from([b"\n", b"\r\n", b"\r"])


def json_line(obj, ensure_ascii: bool = True) -> bytes:
    text = json.dumps(obj, ensure_ascii=ensure_ascii).replace(f'"{HUGE}"', "-" + "9" * 4400)
    return text.encode("utf-8", "surrogatepass")  # a raw surrogate makes invalid UTF-8: fine


@st.composite
def jsonl_files(draw, max_lines: int = 6) -> bytes:
    objects = draw(st.lists(record_objects, min_size=1, max_size=max_lines))
    ensure_ascii = draw(st.booleans())
    bom = BOM if draw(st.booleans()) else b""
    return bom + draw(newlines).join(json_line(o, ensure_ascii) for o in objects)


# --------------------------------------------------------------------------- CSV

cells = st.one_of(
    st.sampled_from(["Ahoy", "Where be the lanterns?", " ", ""]),
    st.sampled_from(['"', '""', ",", ";", "\t", "|", "\n", "\r\n", "\r", " "]),
    st.sampled_from(["\x00", "a\x00b", "tab\tand \x00"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10),
)
csv_headers = st.lists(st.sampled_from(["prompt", "completion", "text", "Prompt", "notes", "a,b", ""]),
                       min_size=1, max_size=4)


@st.composite
def csv_files(draw, delimiter: str | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter or draw(st.sampled_from(list(DELIMITERS))), escapechar="\\",
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE])),
        lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
    )
    header = draw(st.sampled_from([["prompt", "completion"], ["text"], ["notes", "text"]]) | csv_headers)
    width = len(header)
    rows = st.lists(cells, min_size=width, max_size=width) | st.lists(cells, max_size=5)  # mostly the right width
    try:
        writer.writerow(header)
        writer.writerows(draw(st.lists(rows, max_size=5)))
    except csv.Error:  # QUOTE_NONE cannot write some cells
        pass
    content = out.getvalue().encode()
    return content[: len(content) - draw(st.integers(min_value=0, max_value=3))]  # a cut-off row, an open quote


# --------------------------------------------------------------------------- text

documents = st.lists(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
    | st.sampled_from(["", " ", "---", "a\x00b", "\r", "line\n---\nline"]),
    max_size=5,
)


@st.composite
def text_files(draw, separator: str = "---") -> bytes:
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return (newline + separator + newline).join(draw(documents)).encode()


any_file = st.one_of(
    st.tuples(st.just("data.jsonl"), jsonl_files()),
    st.tuples(st.just("data.csv"), csv_files(delimiter=",")),
    st.tuples(st.just("notes.txt"), text_files()),
    st.tuples(st.sampled_from(["data.jsonl", "data.csv", "notes.md"]), st.binary(max_size=200)),
)
