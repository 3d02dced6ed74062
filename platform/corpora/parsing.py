"""Parse and validate uploaded dataset files. Pure Python: no Django, no database.

Every problem names the file, the line (None for the whole file) and the reason, so that a
person can open the file and fix it. Files are read as bytes, line by line, so a 50 MB upload
never sits in memory twice and a bad byte is reported where it is. `parse_file` yields nothing
but ParsedRecord and Problem, and every string of a ParsedRecord can be stored (PostgreSQL's text
and JSONB refuse NUL, UTF-8 refuses lone surrogates), whatever the bytes uploaded.

Formats:
- JSONL: one JSON object per line, `{"prompt": ..., "completion": ...}`,
  `{"messages": [{"role": ..., "content": ...}, ...]}` or `{"text": ...}`.
- CSV: a header row; the caller maps columns to prompt/completion or to text.
- Plain text / Markdown: one document per file, or documents separated by a line holding
  only the separator (e.g. `---`).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from core.text import unstorable_reason

MAX_DEPTH = 20
BOM = b"\xef\xbb\xbf"
CHAT_ROLES = ("system", "user", "assistant")
FORMATS = {
    ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".txt": "text", ".md": "text", ".markdown": "text", ".text": "text",
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
HEADER_PEEK_BYTES = 64 * 1024
MAX_REASON_CHARS = 600  # a reason quoting the file stays readable, however big the quote
# Byte order marks of encodings a file must be converted from (UTF-32 first: its LE mark
# starts with UTF-16's).
FOREIGN_BOMS = [
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
]


class Kind:
    INSTRUCTION = "instruction"
    CHAT = "chat"
    TEXT = "text"


def storable_text(text: str) -> str:
    """`text` with what a database cannot store (NUL, lone surrogates) shown as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show(value) -> str:
    """A value from the file, quoted for a reason: repr, shortened."""
    return shorten(repr(value))


def name_list(names, limit: int = 10) -> str:
    names = [shorten(str(n), 40) for n in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    reason: str

    def __post_init__(self) -> None:
        # Reasons quote the file (keys, header cells): keep them short and storable.
        object.__setattr__(self, "file", storable_text(self.file))
        object.__setattr__(self, "reason", shorten(storable_text(self.reason), MAX_REASON_CHARS))

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "reason": self.reason}

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "whole file"
        return f"{self.file}, {where}: {self.reason}"


@dataclass(frozen=True)
class ParsedRecord:
    kind: str
    data: dict
    file: str
    line: int
    split: str = ""  # "train" / "validation" when the file says so (an exported dataset does)

    @property
    def text(self) -> str:
        """The record's words, for token counts and lengths."""
        return record_text(self.kind, self.data)


@dataclass
class ParseOptions:
    """How to read the files of one upload."""

    text_separator: str = ""  # "" = one document per text file
    csv_delimiter: str = ","
    csv_prompt_column: str = ""
    csv_completion_column: str = ""
    csv_text_column: str = ""
    max_depth: int = MAX_DEPTH

    def __post_init__(self) -> None:
        if self.csv_delimiter not in DELIMITERS:
            names = ", ".join(f"{name} ({d!r})" for d, name in DELIMITERS.items())
            raise ValueError(f"CSV delimiter must be one of {names}")
        if (self.csv_prompt_column or self.csv_completion_column) and self.csv_text_column:
            raise ValueError("map CSV columns to prompt and completion, or to text, not both")
        if bool(self.csv_prompt_column) != bool(self.csv_completion_column):
            raise ValueError("map both a prompt column and a completion column")

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Progress:
    """Bytes consumed so far; parse_file updates it as it goes."""

    done: int = 0
    extra: dict = field(default_factory=dict)


def record_text(kind: str, data: dict) -> str:
    if kind == Kind.INSTRUCTION:
        return f"{data['prompt']}\n{data['completion']}"
    if kind == Kind.CHAT:
        return "\n".join(m["content"] for m in data["messages"])
    return data["text"]


def file_format(name: str) -> str | None:
    """'jsonl', 'csv' or 'text' from the file name's extension; None when unsupported."""
    dot = name.rfind(".")
    return FORMATS.get(name[dot:].lower()) if dot >= 0 else None


def unsupported_format_reason(name: str) -> str:
    ext = name[name.rfind("."):] if "." in name else "(no extension)"
    return f"unsupported file type {ext}: upload .jsonl, .csv, .txt or .md files"


# --------------------------------------------------------------------------- lines and bytes


def _lines(stream: BinaryIO | Iterable[bytes], progress: Progress | None) -> Iterator[tuple[int, int, bytes]]:
    """(line number from 1, byte offset of the line, raw bytes without the newline).

    Lines end at \\n, \\r\\n or a lone \\r, whatever the stream splits on (a plain file splits on
    \\n only, Django's UploadedFile on all three), so the worker and the request see the same lines.
    """
    offset, number = 0, 0
    for piece in stream:
        if progress is not None:
            progress.done += len(piece)
        for raw in piece.splitlines(keepends=True):
            number += 1
            start = offset
            offset += len(raw)
            if number == 1 and raw.startswith(BOM):
                raw, start = raw[len(BOM):], start + len(BOM)
            yield number, start, raw.rstrip(b"\r\n")


def _decode(raw: bytes, *, file: str, line: int, offset: int) -> str | Problem:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start:exc.start + 1].hex()
        return Problem(
            file, line,
            f"not UTF-8 text: byte 0x{bad} at byte offset {offset + exc.start} (column "
            f"{exc.start + 1}); save the file as UTF-8",
        )


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|$)')  # an unterminated one runs to the end
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [{ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(b, 0) for b in range(256)]


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit` (strings are skipped).

    At C speed (regex, bytes.translate, accumulate): a 40 MB line of brackets takes about a
    second, where a loop over its characters took 13 s.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _JSON_STRING.sub("", text).encode("utf-8").translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


class _LongNumber:
    """A JSON integer with more digits than int() reads (sys.get_int_max_str_digits)."""

    def __init__(self, digits: int):
        self.digits = digits


def _json_loads(text: str):
    """json.loads, with integers too long for int() kept as _LongNumber instead of raising;
    then a Problem reason naming the first such number's field, or None."""
    long_numbers = []

    def parse_int(digits: str):
        try:
            return int(digits)
        except ValueError:
            long_numbers.append(_LongNumber(len(digits.lstrip("-"))))
            return long_numbers[-1]

    obj = json.loads(text, parse_int=parse_int)
    if not long_numbers or isinstance(obj, _LongNumber):
        return obj, None
    path, number = next((p, v) for p, v in _leaves(obj) if isinstance(v, _LongNumber))
    return obj, (f"field '{path}' holds a number with {number.digits} digits; at most "
                 f"{sys.get_int_max_str_digits()} can be read")


def _leaves(value, path: str = "") -> Iterator[tuple[str, object]]:
    """(path, value) of each scalar in a decoded JSON value, in order; paths read 'messages[0].content'.
    Recursion is bounded: json_depth_exceeds refused anything deeper than max_depth."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _leaves(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _leaves(sub, f"{path}[{i}]")
    else:
        yield path, value


def _type_name(value) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", bool: "true/false",
        int: "a number", float: "a number", type(None): "null", _LongNumber: "a number",
    }.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- validation


SPLITS = ("train", "validation")


def validate_record(obj, *, file: str, line: int) -> ParsedRecord | Problem:
    """Check one decoded JSON value and normalise it to a record of a known kind."""
    if not isinstance(obj, dict):
        return Problem(file, line, f"expected a JSON object, found {_type_name(obj)}")
    split = obj.get("split", "")
    if split not in ("", *SPLITS):
        return Problem(file, line, f"field 'split' must be train or validation, not {show(split)}")
    result = _validate_shape(obj, file=file, line=line)
    if isinstance(result, ParsedRecord) and split:
        result = ParsedRecord(result.kind, result.data, file, line, split)
    return result


def _validate_shape(obj: dict, *, file: str, line: int) -> ParsedRecord | Problem:
    if "messages" in obj:
        return _validate_chat(obj["messages"], file=file, line=line)
    if "prompt" in obj or "completion" in obj:
        data = {}
        for key in ("prompt", "completion"):
            if key not in obj:
                return Problem(file, line, f"missing field '{key}'")
            value = obj[key]
            if not isinstance(value, str):
                return Problem(file, line, f"field '{key}' must be a string, found {_type_name(value)}")
            if not value.strip():
                return Problem(file, line, f"empty text in field '{key}'")
            data[key] = value
        return ParsedRecord(Kind.INSTRUCTION, data, file, line)
    if "text" in obj:
        value = obj["text"]
        if not isinstance(value, str):
            return Problem(file, line, f"field 'text' must be a string, found {_type_name(value)}")
        if not value.strip():
            return Problem(file, line, "empty text in field 'text'")
        return ParsedRecord(Kind.TEXT, {"text": value}, file, line)
    found = name_list(sorted(map(str, obj))) or "none"
    return Problem(
        file, line,
        f"missing field: expected 'prompt' and 'completion', 'messages', or 'text' (found: {found})",
    )


def _validate_chat(messages, *, file: str, line: int) -> ParsedRecord | Problem:
    if not isinstance(messages, list):
        return Problem(file, line, f"field 'messages' must be an array, found {_type_name(messages)}")
    if not messages:
        return Problem(file, line, "field 'messages' is empty")
    clean = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            return Problem(file, line, f"{where} must be an object, found {_type_name(message)}")
        for key in ("role", "content"):
            if key not in message:
                return Problem(file, line, f"{where}: missing field '{key}'")
            if not isinstance(message[key], str):
                return Problem(
                    file, line, f"{where}.{key} must be a string, found {_type_name(message[key])}"
                )
        if message["role"] not in CHAT_ROLES:
            return Problem(
                file, line, f"{where}.role must be one of {', '.join(CHAT_ROLES)}, not {show(message['role'])}"
            )
        if not message["content"].strip():
            return Problem(file, line, f"empty text in {where}.content")
        clean.append({"role": message["role"], "content": message["content"]})
    if not any(m["role"] == "assistant" for m in clean):
        return Problem(file, line, "field 'messages' needs at least one assistant message")
    return ParsedRecord(Kind.CHAT, {"messages": clean}, file, line)


# --------------------------------------------------------------------------- formats


def parse_jsonl(name: str, stream, options: ParseOptions, progress: Progress | None = None):
    seen_content = False
    for number, offset, raw in _lines(stream, progress):
        if not raw.strip():
            continue
        seen_content = True
        text = _decode(raw, file=name, line=number, offset=offset)
        if isinstance(text, Problem):
            yield text
            continue
        if json_depth_exceeds(text, options.max_depth):
            yield Problem(name, number, f"JSON nested deeper than {options.max_depth} levels")
            continue
        try:
            obj, unreadable = _json_loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(name, number, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:  # belt and braces; json_depth_exceeds catches it first
            yield Problem(name, number, f"JSON nested deeper than {options.max_depth} levels")
            continue
        except ValueError as exc:  # belt and braces: _json_loads reads long numbers
            yield Problem(name, number, f"invalid JSON: {exc}")
            continue
        yield Problem(name, number, unreadable) if unreadable else validate_record(obj, file=name, line=number)
    if not seen_content:
        yield Problem(name, None, "the file is empty")


def guess_delimiter(header: str) -> str | None:
    """The delimiter a one-column header most likely uses, if any."""
    counts = {d: header.count(d) for d in DELIMITERS if d != ","}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def delimiter_label(delimiter: str) -> str:
    return {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}[delimiter]


@dataclass
class CsvHeader:
    columns: list[str]
    delimiter: str
    problem: Problem | None = None


def read_csv_header(name: str, head: bytes, delimiter: str | None = None) -> CsvHeader:
    """The header of a CSV from its first bytes; guesses the delimiter when none is given."""
    first = (head.splitlines() or [b""])[0]
    if first.startswith(BOM):
        first = first[len(BOM):]
    encoding = _foreign_encoding(head)
    if encoding:
        return CsvHeader([], delimiter or ",", Problem(name, None, _foreign_encoding_reason(encoding)))
    text = _decode(first, file=name, line=1, offset=0)
    if isinstance(text, Problem):
        return CsvHeader([], delimiter or ",", text)
    if not text.strip():
        return CsvHeader([], delimiter or ",", Problem(name, 1, "the file is empty or has no header row"))
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text, delimiters="".join(DELIMITERS)).delimiter
        except csv.Error:
            delimiter = ","
    columns = [c.strip() for c in next(csv.reader([text], delimiter=delimiter))]
    return CsvHeader(columns, delimiter)


def parse_csv(name: str, stream, options: ParseOptions, progress: Progress | None = None):
    problems: list[Problem] = []
    delimiter = options.csv_delimiter
    if name.lower().endswith(".tsv") and delimiter == ",":
        delimiter = "\t"

    def decoded_lines():
        for number, offset, raw in _lines(stream, progress):
            text = _decode(raw, file=name, line=number, offset=offset)
            if isinstance(text, Problem):
                problems.append(text)
                yield "\n"
            else:
                yield text + "\n"

    reader = csv.reader(decoded_lines(), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield _csv_error(name, exc, row_start=1, line=reader.line_num)
        return
    yield from problems
    problems.clear()
    if header is None or not any(cell.strip() for cell in header):
        yield Problem(name, None, "the file is empty")
        return
    columns = [c.strip() for c in header]
    if len(columns) == 1:
        guessed = guess_delimiter(header[0])
        if guessed:
            yield Problem(
                name, 1,
                f"looks like {delimiter_label(guessed)}-separated; expected "
                f"{delimiter_label(delimiter)}. Choose {delimiter_label(guessed)} as the delimiter "
                "or save the file with commas",
            )
            return
    mapping = _csv_mapping(columns, options)
    if isinstance(mapping, str):
        yield Problem(name, 1, mapping)
        return
    kind, fields = mapping
    rows = 0
    while True:
        row_start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from problems
            problems.clear()
            yield _csv_error(name, exc, row_start=row_start, line=reader.line_num)
            return
        line = reader.line_num
        if problems:
            yield from problems
            problems.clear()
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        rows += 1
        if len(row) != len(columns):
            yield Problem(name, line, f"expected {len(columns)} fields, found {len(row)}")
            continue
        data, bad = {}, None
        for key, column in fields.items():
            value = row[columns.index(column)]
            if not value.strip():
                bad = f"empty text in column '{column}'"
                break
            unstorable = unstorable_reason(value)
            if unstorable:
                bad = f"column '{column}' {unstorable}"
                break
            data[key] = value
        yield Problem(name, line, bad) if bad else ParsedRecord(kind, data, name, line)
    yield from problems
    if rows == 0:
        yield Problem(name, None, "the file has a header but no rows")


def _csv_error(name: str, exc: csv.Error, *, row_start: int, line: int) -> Problem:
    """A csv.Error as a Problem; an open quote is reported where it opens, not where the file ends."""
    message = str(exc)
    if message == "unexpected end of data":
        return Problem(name, row_start, "invalid CSV: a quoted field that starts on this line is never closed")
    if message.startswith("field larger than field limit"):
        return Problem(
            name, row_start, f"invalid CSV: a field that starts on this line is longer than "
            f"{csv.field_size_limit():,} characters (is a quote left open?)",
        )
    return Problem(name, line, f"invalid CSV: {message}")


def _csv_mapping(columns: list[str], options: ParseOptions) -> tuple[str, dict] | str:
    lower = [c.lower() for c in columns]
    if options.csv_text_column:
        wanted = {"text": options.csv_text_column}
    elif options.csv_prompt_column:
        wanted = {"prompt": options.csv_prompt_column, "completion": options.csv_completion_column}
    elif "prompt" in lower and "completion" in lower:
        wanted = {"prompt": columns[lower.index("prompt")], "completion": columns[lower.index("completion")]}
    elif "text" in lower:
        wanted = {"text": columns[lower.index("text")]}
    else:
        return (
            "choose which columns hold the prompt and completion, or the text (columns: "
            + ", ".join(columns) + ")"
        )
    for column in wanted.values():
        if column not in columns:
            return f"column '{column}' is not in the header (columns: {', '.join(columns)})"
    return (Kind.TEXT if "text" in wanted else Kind.INSTRUCTION), wanted


def parse_text(name: str, stream, options: ParseOptions, progress: Progress | None = None):
    separator = options.text_separator.strip()
    chunks: list[tuple[int, list[str], Problem | None]] = []  # (first line, lines, bad bytes)
    current: list[str] = []
    start, broken = 1, None
    seen_content = False

    def finish(next_start: int):
        nonlocal current, start, broken
        chunks.append((start, current, broken))
        current, start, broken = [], next_start, None

    for number, offset, raw in _lines(stream, progress):
        text = _decode(raw, file=name, line=number, offset=offset)
        if isinstance(text, Problem):
            broken = broken or text
            continue
        unstorable = unstorable_reason(text)
        if unstorable:
            broken = broken or Problem(name, number, f"the text {unstorable}")
            continue
        if text.strip():
            seen_content = True
        if separator and text.strip() == separator:
            finish(number + 1)
        else:
            current.append(text)
    finish(0)
    if not seen_content and not any(b for _, _, b in chunks):
        yield Problem(name, None, "the file is empty")
        return
    last = len(chunks) - 1
    yielded = False
    for i, (first_line, lines, broken) in enumerate(chunks):
        body = "\n".join(lines).strip()
        if not broken and not body and i in (0, last):
            continue  # a separator at the very start or end
        yielded = True
        if broken:
            yield broken
        elif not body:
            yield Problem(name, first_line, "empty text between separators")
        else:
            yield ParsedRecord(Kind.TEXT, {"text": body}, name, first_line)
    if not yielded:
        yield Problem(name, None, f"the file holds only separators ({separator}), no text")


PARSERS = {"jsonl": parse_jsonl, "csv": parse_csv, "text": parse_text}


def _foreign_encoding(head: bytes) -> str | None:
    """'UTF-16' / 'UTF-32' when the file's first bytes say so (a byte order mark, or ASCII
    interleaved with NUL bytes); None otherwise."""
    for bom, encoding in FOREIGN_BOMS:
        if head.startswith(bom):
            return encoding
    if len(head) >= 4 and (
        (head[0] and not head[1] and not head[3]) or (not head[0] and head[1] and not head[2])
    ):
        return "UTF-16"
    return None


def _foreign_encoding_reason(encoding: str) -> str:
    return f"the file is {encoding} text, not UTF-8; save it as UTF-8 (“UTF-8” in the editor's Save As dialog)"


def _unstorable_field(data: dict) -> str | None:
    """"field 'messages[0].content' holds …" for the first string of a record that cannot be stored."""
    for path, value in _leaves(data):
        reason = unstorable_reason(value) if isinstance(value, str) else None
        if reason:
            return f"field '{path}' {reason}"
    return None


def parse_file(name: str, stream, options: ParseOptions, progress: Progress | None = None):
    """Yield a ParsedRecord or a Problem for each record of one file, in file order."""
    fmt = file_format(name)
    if fmt is None:
        yield Problem(name, None, unsupported_format_reason(name))
        return
    pieces = iter(stream)
    head = list(itertools.islice(pieces, 2))  # two lines: UTF-16's "a\\n" is 3 bytes before its \\n
    encoding = _foreign_encoding(b"".join(head))
    if encoding:
        yield Problem(name, None, _foreign_encoding_reason(encoding))
        return
    for item in PARSERS[fmt](name, itertools.chain(head, pieces), options, progress):
        if isinstance(item, ParsedRecord):
            # The parsers check the strings they can name best; this catches any other.
            unstorable = _unstorable_field(item.data)
            if unstorable:
                item = Problem(item.file, item.line, unstorable)
        yield item


def parse_bytes(name: str, content: bytes, options: ParseOptions | None = None) -> tuple[list[ParsedRecord], list[Problem]]:
    """Convenience for tests and small inputs: (records, problems)."""
    records, problems = [], []
    for item in parse_file(name, io.BytesIO(content), options or ParseOptions()):
        (problems if isinstance(item, Problem) else records).append(item)
    return records, problems
