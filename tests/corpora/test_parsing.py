"""The pure parsers: every problem names the file, the line and the reason."""

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
