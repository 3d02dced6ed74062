"""GGUF files for tests: a tiny valid one (written with the gguf package) and crafted bad ones."""

import struct
from pathlib import Path

import numpy as np

UINT8, STRING, ARRAY = 0, 8, 9  # gguf.GGUFValueType


def write_gguf(path: Path, arch: str = "llama", arrays: dict | None = None) -> Path:
    """A valid GGUF (288 bytes without `arrays`): an architecture, a block count, metadata
    `arrays` ({key: list}) and one 4x8 float32 tensor."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(1)
    for key, values in (arrays or {}).items():
        writer.add_array(key, values)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def header(tensors: int = 1, kvs: int = 1, version: int = 3) -> bytes:
    """The 24-byte GGUF header: magic, version, tensor count, metadata entry count."""
    return b"GGUF" + struct.pack("<IQQ", version, tensors, kvs)


def gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def endless_array(size: int = 4096) -> bytes:
    """A header and one uint8 array entry claiming 2**63 items, padded to `size` bytes: the
    stock GGUFReader loops on such an array instead of noticing that the file ended."""
    entry = gguf_string("tokenizer.ggml.token_type") + struct.pack("<IIQ", ARRAY, UINT8, 2**63)
    data = header(tensors=1, kvs=1) + entry
    return data + bytes(size - len(data))
