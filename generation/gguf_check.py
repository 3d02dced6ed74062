"""Check a GGUF file's header, metadata and tensor table without loading its weights.

`gguf.GGUFReader` parses a file through a memory map (cheap: nothing is loaded), but it trusts
the file: a read past the end quietly gives an empty array, so a metadata array that claims
2**63 items loops forever, and a truncated table fails somewhere inside numpy. It also turns
every item of a tokenizer's vocabulary into numpy objects (2-5 s and 160 MB for the bundled
model's 49k tokens). `check_gguf` first checks the header's counts against the file size, then
lets the reader parse with every read bounded to the file and arrays stepped over in bulk (their
items are not needed to check the file: 0.1 s, no memory), and says what is wrong in one line.
Results are remembered per file version (path, inode, size, times), because the Models page
checks every GGUF under the model folders each time an admin opens it.

Import it lazily (`gguf` takes ~0.1 s to import); `generation.models` does.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFReader, GGUFValueType
from gguf.gguf_reader import READER_SUPPORTED_VERSIONS

from generation.errors import InvalidModelError, quoted

HEADER_BYTES = 24  # magic, version (uint32), tensor count, metadata entry count (uint64 each)
MIN_ENTRY_BYTES = 8 + 4 + 1  # a metadata entry: key length, value type, a one-byte value
MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8  # a tensor: name length, dimension count, type, offset
MAX_DIMS = 4  # GGML_MAX_DIMS
# Plausible at most (real models: ~40 metadata entries, ~300-2,000 tensors, arrays of up to ~1M
# items for a tokenizer's vocabulary, merges and scores); more is refused as implausible.
MAX_ENTRIES = 100_000
MAX_TENSORS = 100_000
MAX_ARRAY_ITEMS = 16_000_000
MAX_ARRAY_DEPTH = 8


@dataclass(frozen=True)
class GGUFSummary:
    version: int
    architecture: str
    tensors: int
    metadata_entries: int
    size: int


class _Problem(Exception):
    """What is wrong with the file, as the end of a one-line message."""


def check_gguf(path: str | Path, shown: str | None = None) -> GGUFSummary:
    """Check that `path` is a complete, plausible GGUF model file, or raise InvalidModelError
    with one line that starts with `shown` (what the user typed; default: the path)."""
    path = Path(path)
    label = quoted(shown if shown is not None else str(path))
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise _Problem("is not a regular file")
        result = _check_version(str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    except _Problem as problem:
        result = str(problem)
    except OSError as exc:
        result = f"cannot read it ({os.strerror(exc.errno) if exc.errno else type(exc).__name__})"
    if isinstance(result, str):
        raise InvalidModelError(f"{label}: {result}")
    return result


@functools.lru_cache(maxsize=256)
def _check_version(path: str, dev: int, ino: int, size: int, mtime_ns: int, ctime_ns: int) -> GGUFSummary | str:
    """One version of a file, checked once: a summary, or what is wrong with it."""
    try:
        return _check(Path(path), size)
    except _Problem as problem:
        return str(problem)


def _check(path: Path, size: int) -> GGUFSummary:
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    if head[:4] != b"GGUF":
        raise _Problem("is not a GGUF file (bad magic bytes)")
    if len(head) < HEADER_BYTES:
        raise _Problem(f"truncated: a GGUF header is {HEADER_BYTES} bytes but the file ends at byte {len(head)}")
    order = "<" if struct.unpack("<I", head[4:8])[0] & 0xFFFF else ">"  # big-endian files exist
    version, tensors, entries = struct.unpack(order + "IQQ", head[4:])
    if version not in READER_SUPPORTED_VERSIONS:
        supported = " and ".join(map(str, READER_SUPPORTED_VERSIONS))
        raise _Problem(f"GGUF version {version} is not supported (versions {supported} are)")
    room = size - HEADER_BYTES
    if entries * MIN_ENTRY_BYTES > room:
        raise _Problem(f"truncated: the header says {entries} metadata entries but the file ends at byte {size}")
    if tensors * MIN_TENSOR_INFO_BYTES > room - entries * MIN_ENTRY_BYTES:
        raise _Problem(f"truncated: the tensor table says {tensors} tensors but the file ends at byte {size}")
    if tensors == 0:
        raise _Problem("has no tensors (a vocabulary-only file is not a model)")
    if entries > MAX_ENTRIES or tensors > MAX_TENSORS:
        raise _Problem(f"implausible: the header says {entries} metadata entries and {tensors} tensors "
                       f"(at most {MAX_ENTRIES:,} and {MAX_TENSORS:,} are accepted)")

    reader = _read(path)
    architecture = reader.fields.get("general.architecture")
    try:
        name = architecture.contents() if architecture is not None else None
    except UnicodeDecodeError:
        raise _Problem("corrupt metadata: general.architecture is not UTF-8 text") from None
    if not isinstance(name, str) or not name:
        raise _Problem("has no general.architecture (which model family it is), so it cannot be loaded")
    _check_tensor_table(reader, size)
    return GGUFSummary(version=version, architecture=name, tensors=len(reader.tensors),
                       metadata_entries=entries, size=size)


class _BoundedReader(GGUFReader):
    """GGUFReader whose reads stop at the end of the file, and which steps over arrays in bulk."""

    section = "header"  # what it is parsing, for messages
    array_items = 0

    def _get(self, offset, dtype, count=1, override_order=None):
        self._check_end(int(offset) + np.dtype(dtype).itemsize * int(count))
        return super()._get(offset, dtype, count, override_order)

    def _check_end(self, end: int) -> None:
        if end > len(self.data):
            raise _Problem(f"truncated: its {self.section} needs bytes up to {end} "
                           f"but the file ends at byte {len(self.data)}")

    def _get_field_parts(self, orig_offs, raw_type):
        if raw_type != GGUFValueType.ARRAY:
            return super()._get_field_parts(orig_offs, raw_type)
        return self._skip_array(orig_offs, depth=1), [], [], [GGUFValueType.ARRAY]

    def _skip_array(self, start: int, depth: int) -> int:
        """Check that an array lies inside the file and return its size in bytes, reading only
        its string lengths (its items stay unparsed: the field's contents are empty)."""
        order = "<" if (self.byte_order == "I") == (sys.byteorder == "little") else ">"
        self._check_end(start + 12)
        raw_type, count = struct.unpack_from(order + "IQ", self.data, start)
        item_type = GGUFValueType(raw_type)
        item_size = 8 if item_type == GGUFValueType.STRING else 12 if item_type == GGUFValueType.ARRAY \
            else np.dtype(self.gguf_scalar_to_np[item_type]).itemsize
        offs = start + 12
        self._check_end(offs + count * item_size)  # the least its items take
        self.array_items += count
        if self.array_items > MAX_ARRAY_ITEMS or depth > MAX_ARRAY_DEPTH:
            raise _Problem(f"implausible: its metadata arrays hold more than {MAX_ARRAY_ITEMS:,} items "
                           f"or are nested more than {MAX_ARRAY_DEPTH} deep")
        if item_type == GGUFValueType.STRING:
            for _ in range(count):
                self._check_end(offs + 8)
                offs += 8 + struct.unpack_from(order + "Q", self.data, offs)[0]
        elif item_type == GGUFValueType.ARRAY:
            for _ in range(count):
                offs += self._skip_array(offs, depth + 1)
        else:
            offs += count * item_size
        self._check_end(offs)
        return offs - start

    def _build_fields(self, offs, count):
        self.section = "metadata"
        return super()._build_fields(offs, count)

    def _build_tensor_info(self, offs, count):
        self.section = "tensor table"
        return super()._build_tensor_info(offs, count)

    def _build_tensors(self, start_offs, fields):
        self.section = "tensor table"
        _check_tensor_fields(fields)
        self.section = "tensor data"
        return super()._build_tensors(start_offs, fields)


def _read(path: Path) -> _BoundedReader:
    reader = _BoundedReader.__new__(_BoundedReader)  # kept apart from __init__ to name the section on failure
    try:
        reader.__init__(path)
    except (_Problem, OSError):
        raise
    except Exception as exc:  # the reader raises ValueError, KeyError, IndexError, ... on bad data
        raise _Problem(f"corrupt {reader.section}: {_one_line(exc)}") from None
    return reader


def _check_tensor_fields(fields) -> None:
    """Before the reader maps tensors: dimension counts and types it would trust blindly."""
    for field in fields:
        dims, raw_type = field.parts[3], int(field.parts[4][0])
        if len(dims) > MAX_DIMS:
            raise _Problem(f"corrupt tensor table: tensor {field.name!r} has {len(dims)} dimensions (at most {MAX_DIMS})")
        try:
            GGMLQuantizationType(raw_type)
        except ValueError:
            raise _Problem(f"corrupt tensor table: tensor {field.name!r} has unknown type {raw_type}") from None


def _check_tensor_table(reader, size: int) -> None:
    """Every tensor's data lies inside the file (computed without numpy's wrapping integers)."""
    for tensor in reader.tensors:
        block, type_size = GGML_QUANT_SIZES[tensor.tensor_type]
        end = tensor.data_offset + math.prod(int(d) for d in tensor.shape) * type_size // block
        if end > size:
            raise _Problem(f"truncated: tensor {tensor.name!r} needs bytes up to {end} but the file ends at byte {size}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
