"""The pure parsers: every problem names the file, the line and the reason."""

import json

import pytest

from corpora.parsing import ParseOptions, Problem, json_depth_exceeds, parse_bytes, read_csv_header
from tests.corpora.conftest import jsonl, pairs


def test_jsonl_prompt_completion_and_chat_and_text():
    content = jsonl([
        {"prompt": "Hi", "completion": "Ahoy!"},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Ahoy!"}]},
        {"text": "A whole document."},
    ])
    records, problems = parse_bytes("mix.jsonl", content)
    assert problems == []
    assert [r.kind for r in records] == ["instruction", "chat", "text"]
    assert [r.line for r in records] == [1, 2, 3]
    assert records[0].data == {"prompt": "Hi", "completion": "Ahoy!"}


def test_jsonl_with_bom_and_crlf_and_blank_lines_is_accepted():
    content = b"\xef\xbb\xbf" + jsonl(pairs(2)).replace(b"\n", b"\r\n") + b"\r\n\r\n"
    records, problems = parse_bytes("bom.jsonl", content)
    assert problems == [] and len(records) == 2


def test_jsonl_broken_line_reports_line_and_json_error():
    lines = jsonl(pairs(56)) + b'{"prompt": "x", "completion": "y"\n' + jsonl(pairs(3))
    records, problems = parse_bytes("broken.jsonl", lines)
    assert len(records) == 59
    assert problems == [Problem("broken.jsonl", 57, "invalid JSON: Expecting ',' delimiter (column 34)")]


@pytest.mark.parametrize("row, reason", [
    ({"prompt": "x"}, "missing field 'completion'"),
    ({"prompt": 3, "completion": "y"}, "field 'prompt' must be a string, found a number"),
    ({"prompt": "x", "completion": "   "}, "empty text in field 'completion'"),
    ({"messages": [{"role": "user"}]}, "messages[0]: missing field 'content'"),
    ({"messages": [{"role": "pirate", "content": "x"}]}, "messages[0].role must be one of system, user, assistant, not 'pirate'"),
    ({"messages": [{"role": "user", "content": "hi"}]}, "field 'messages' needs at least one assistant message"),
    ({"title": "x"}, "missing field: expected 'prompt' and 'completion', 'messages', or 'text' (found: title)"),
    ([1, 2], "expected a JSON object, found an array"),
])
def test_jsonl_record_problems(row, reason):
    _, problems = parse_bytes("bad.jsonl", jsonl([row]))
    assert problems == [Problem("bad.jsonl", 1, reason)]


def test_deeply_nested_json_is_refused_without_recursion_error():
    line = b'{"prompt": "x", "completion": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    _, problems = parse_bytes("deep.jsonl", line)
    assert problems == [Problem("deep.jsonl", 1, "JSON nested deeper than 20 levels")]
    assert not json_depth_exceeds('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 20)  # brackets in strings


def test_latin1_bytes_are_reported_with_offset():
    content = jsonl(pairs(1)) + '{"prompt": "café", "completion": "crème"}\n'.encode("latin-1")
    records, problems = parse_bytes("latin.jsonl", content)
    assert len(records) == 1
    assert problems[0].line == 2
    assert "not UTF-8 text: byte 0xe9" in problems[0].reason
    assert f"byte offset {len(jsonl(pairs(1))) + 15}" in problems[0].reason


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.txt", "empty.md"])
def test_empty_file(name):
    assert parse_bytes(name, b"") == ([], [Problem(name, None, "the file is empty")])


def test_unsupported_extension():
    _, problems = parse_bytes("sheet.xlsx", b"x")
    assert "unsupported file type .xlsx" in problems[0].reason


def test_csv_with_header_mapping_and_quoted_newlines():
    content = b'question,answer,notes\n"Hi, there","Multi\nline",x\nQ2,A2,y\n'
    options = ParseOptions(csv_prompt_column="question", csv_completion_column="answer")
    records, problems = parse_bytes("qa.csv", content, options)
    assert problems == []
    assert [r.data for r in records] == [
        {"prompt": "Hi, there", "completion": "Multi\nline"}, {"prompt": "Q2", "completion": "A2"},
    ]
    assert [r.line for r in records] == [3, 4]


def test_csv_prompt_completion_columns_found_by_name():
    records, problems = parse_bytes("auto.csv", b"Prompt,Completion\na,b\n")
    assert problems == [] and records[0].data == {"prompt": "a", "completion": "b"}


def test_csv_text_column():
    records, _ = parse_bytes("t.csv", b"id,body\n1,Hello\n", ParseOptions(csv_text_column="body"))
    assert records[0].kind == "text" and records[0].data == {"text": "Hello"}


def test_csv_wrong_delimiter_says_which_one():
    _, problems = parse_bytes("semi.csv", b"prompt;completion\na;b\n")
    assert problems == [Problem(
        "semi.csv", 1,
        "looks like ';'-separated; expected ','. Choose ';' as the delimiter or save the file with commas",
    )]
    _, problems = parse_bytes("tabs.csv", b"prompt\tcompletion\na\tb\n")
    assert "looks like tab-separated" in problems[0].reason
    records, problems = parse_bytes("semi.csv", b"prompt;completion\na;b\n", ParseOptions(csv_delimiter=";"))
    assert problems == [] and len(records) == 1


def test_tsv_files_are_tab_separated():
    records, problems = parse_bytes("qa.tsv", b"prompt\tcompletion\nHi, you\tAhoy\n")
    assert problems == [] and records[0].data == {"prompt": "Hi, you", "completion": "Ahoy"}


def test_csv_row_problems():
    content = b"prompt,completion\na,b\nonly-one\nc,\n"
    records, problems = parse_bytes("rows.csv", content)
    assert len(records) == 1
    assert problems == [
        Problem("rows.csv", 3, "expected 2 fields, found 1"),
        Problem("rows.csv", 4, "empty text in column 'completion'"),
    ]


def test_csv_unmapped_columns_are_named():
    _, problems = parse_bytes("x.csv", b"a,b\n1,2\n")
    assert problems == [Problem("x.csv", 1, "choose which columns hold the prompt and completion, or the text (columns: a, b)")]


def test_csv_header_preview_guesses_the_delimiter():
    header = read_csv_header("x.csv", b"question;answer\n1;2\n")
    assert header.delimiter == ";" and header.columns == ["question", "answer"]
    assert read_csv_header("x.csv", b"a,b\n", ",").columns == ["a", "b"]


def test_text_file_is_one_document_or_split_on_separator():
    content = b"# Title\n\nFirst part.\n---\nSecond part.\n---\n"
    records, problems = parse_bytes("post.md", content)
    assert problems == [] and len(records) == 1 and records[0].data["text"].startswith("# Title")
    records, problems = parse_bytes("post.md", content, ParseOptions(text_separator="---"))
    assert [r.data["text"] for r in records] == ["# Title\n\nFirst part.", "Second part."]
    assert [r.line for r in records] == [1, 5]


def test_text_empty_document_between_separators():
    _, problems = parse_bytes("p.txt", b"a\n---\n\n---\nb\n", ParseOptions(text_separator="---"))
    assert problems == [Problem("p.txt", 3, "empty text between separators")]


def test_latin1_text_file_is_refused_not_mojibake():
    records, problems = parse_bytes("notes.txt", "Première ligne\nDeuxième".encode("latin-1"))
    assert records == []
    assert problems == [Problem(
        "notes.txt", 1, "not UTF-8 text: byte 0xe8 at byte offset 5 (column 6); save the file as UTF-8"
    )]


def test_exported_split_label_is_read_back():
    records, _ = parse_bytes("e.jsonl", jsonl([{"text": "x", "split": "validation"}]))
    assert records[0].split == "validation"
    _, problems = parse_bytes("e.jsonl", jsonl([{"text": "x", "split": "test"}]))
    assert "field 'split' must be train or validation" in problems[0].reason


# --------------------------------------------------------------------------- nothing unstorable, nothing raised


def storable(text: str) -> bool:
    """PostgreSQL stores it as text and as JSONB: UTF-8 encodable, no NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def test_a_json_number_too_long_to_read_is_a_problem_naming_the_field():
    digits = "7" * 5000
    content = jsonl(pairs(2)) + f'{{"prompt": "x", "completion": "y", "meta": {{"ids": [1, {digits}]}}}}\n'.encode()
    records, problems = parse_bytes("big.jsonl", content + f'{{"prompt": -{digits}, "completion": "y"}}\n'.encode())
    assert len(records) == 2
    assert problems == [
        Problem("big.jsonl", 3, "field 'meta.ids[1]' holds a number with 5000 digits; at most 4300 can be read"),
        Problem("big.jsonl", 4, "field 'prompt' holds a number with 5000 digits; at most 4300 can be read"),
    ]
    _, problems = parse_bytes("n.jsonl", digits.encode() + b"\n")
    assert problems == [Problem("n.jsonl", 1, "expected a JSON object, found a number")]


@pytest.mark.parametrize("row, field", [
    ({"prompt": "x", "completion": "ab\ud800"}, "completion"),
    ({"prompt": "\udfff", "completion": "y"}, "prompt"),
    ({"text": "a\ud800"}, "text"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "\ud83d"}]}, "messages[1].content"),
])
def test_a_lone_surrogate_is_a_problem_naming_the_field(row, field):
    records, problems = parse_bytes("s.jsonl", jsonl(pairs(2)) + jsonl([row]))  # json.dumps escapes it
    assert len(records) == 2 and len(problems) == 1
    assert problems[0].line == 3
    assert problems[0].reason.startswith(f"field '{field}' holds a lone UTF-16 surrogate (\\u")
    assert problems[0].reason.endswith("which is not text")


def test_a_lone_surrogate_message_names_the_code_point():
    _, problems = parse_bytes("s.jsonl", b'{"prompt": "x", "completion": "\\ud800"}\n')
    assert problems == [Problem(
        "s.jsonl", 1, "field 'completion' holds a lone UTF-16 surrogate (\\ud800) at character 1, which is not text"
    )]


@pytest.mark.parametrize("row, field", [
    ({"prompt": "x", "completion": "a\u0000b"}, "completion"),
    ({"text": "\u0000"}, "text"),
    ({"messages": [{"role": "user", "content": "x\u0000"}, {"role": "assistant", "content": "y"}]}, "messages[0].content"),
])
def test_a_nul_character_in_json_is_a_problem_naming_the_field(row, field):
    records, problems = parse_bytes("nul.jsonl", jsonl([row]) + jsonl(pairs(1)))
    assert len(records) == 1
    assert len(problems) == 1 and problems[0].line == 1
    assert problems[0].reason.startswith(f"field '{field}' holds a NUL character (\\u0000) at character ")
    assert problems[0].reason.endswith(", which cannot be stored")


def test_a_nul_byte_in_a_csv_cell_is_a_problem_naming_the_column():
    content = b"question,answer,notes\nHi,Ah\x00oy,x\nQ2,A2,ignored \x00 column\n"
    options = ParseOptions(csv_prompt_column="question", csv_completion_column="answer")
    records, problems = parse_bytes("qa.csv", content, options)
    assert [r.data for r in records] == [{"prompt": "Q2", "completion": "A2"}]  # unmapped columns are not stored
    assert problems == [Problem(
        "qa.csv", 2, "column 'answer' holds a NUL character (\\u0000) at character 3, which cannot be stored"
    )]


def test_a_nul_byte_in_a_text_file_is_a_problem_at_its_line():
    records, problems = parse_bytes("notes.txt", b"first\nsecond\nthi\x00rd\n---\nfine\n", ParseOptions(text_separator="---"))
    assert [r.data["text"] for r in records] == ["fine"]
    assert problems == [Problem(
        "notes.txt", 3, "the text holds a NUL character (\\u0000) at character 4, which cannot be stored"
    )]


@pytest.mark.parametrize("name, content", [
    ("cr.jsonl", b'{"text": "a"}\r{"text": "b"}\r\r{"text": "c"}'),
    ("cr.csv", b"prompt,completion\ra,b\r\rc,d\r"),
    ("cr.txt", b"a\r---\rb\r---\rc"),
])
def test_cr_only_newlines_are_line_breaks_in_every_format_and_stream(name, content):
    """Old Mac line ends: the same lines whether Django's UploadedFile or a plain file is read."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from corpora.parsing import parse_file

    options = ParseOptions(text_separator="---")
    for stream in (io.BytesIO(content), SimpleUploadedFile(name, content)):
        items = list(parse_file(name, stream, options))
        assert not [i for i in items if isinstance(i, Problem)], items
        assert [i.line for i in items] == ({"cr.jsonl": [1, 2, 4], "cr.csv": [2, 4], "cr.txt": [1, 3, 5]}[name])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("name", ["a.jsonl", "a.csv", "a.txt"])
def test_utf16_and_utf32_files_get_one_clear_problem(name, encoding):
    content = "prompt,completion\nHi,Ahoy\n" if name.endswith(".csv") else '{"text": "Ahoy"}\n'
    records, problems = parse_bytes(name, content.encode(encoding))
    expected = "UTF-32" if encoding == "utf-32" else "UTF-16"
    assert records == []
    assert len(problems) == 1 and problems[0].line is None
    assert f"the file is {expected} text" in problems[0].reason and "save it as UTF-8" in problems[0].reason


def test_problem_reasons_quoting_the_file_are_storable_and_short():
    keys = {f"k\u0000{i}\ud800": 1 for i in range(5000)}
    row = json.dumps(keys).encode()
    _, problems = parse_bytes("keys.jsonl", row + b"\n" + json.dumps({"text": "x", "split": "v" * 100_000}).encode() + b"\n")
    assert [p.line for p in problems] == [1, 2]
    for problem in problems:
        assert storable(problem.reason) and len(problem.reason) < 1000
    _, problems = parse_bytes("h.csv", b"a\x00,b\n1,2\n")  # unmapped columns are named in the reason
    assert storable(problems[0].reason) and "a\\x00" in problems[0].reason


def test_csv_header_with_cr_only_newlines_is_read():
    header = read_csv_header("x.csv", b"question;answer\r1;2\r")
    assert header.columns == ["question", "answer"] and header.problem is None


def test_a_utf16_file_without_byte_order_mark_is_recognised_from_short_lines():
    _, problems = parse_bytes("a.txt", "a\nb\n".encode("utf-16-le"))
    assert len(problems) == 1 and "the file is UTF-16 text" in problems[0].reason


def test_a_text_file_of_separators_only_is_a_problem_of_that_file():
    assert parse_bytes("seps.md", b"\n---\n\n", ParseOptions(text_separator="---")) == (
        [], [Problem("seps.md", None, "the file holds only separators (---), no text")]
    )


def test_depth_check_skips_strings_with_escaped_quotes_and_counts_past_them():
    inside = '{"a": "\\\\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'
    assert json.loads(inside) and not json_depth_exceeds(inside, 20)
    assert json_depth_exceeds('{"a": "\\"]]]]", "b": ' + "[" * 21 + "]" * 21 + "}", 20)
    assert not json_depth_exceeds("[]," * 1000, 20)  # many brackets, shallow


@pytest.mark.parametrize("content, line, reason", [
    (b'prompt,completion\na,b\n"c,d\ne,f\ng,h\n', 3, "invalid CSV: a quoted field that starts on this line is never closed"),
    (b'prompt,completion\na,b\n"c' + b"x" * 200_000 + b"\ne,f\n", 3,
     "invalid CSV: a field that starts on this line is longer than 131,072 characters (is a quote left open?)"),
])
def test_an_open_csv_quote_is_reported_where_it_opens(content, line, reason):
    records, problems = parse_bytes("q.csv", content)
    assert len(records) == 1 and problems == [Problem("q.csv", line, reason)]
