"""A model's files as a zip, streamed: nothing is built in memory or on disk first."""

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from catalog.models import ModelVersion

CHUNK = 1 << 20


class ModelFilesGone(Exception):
    """There is no folder or file to zip (moved, deleted, or a hub model in the workers' cache)."""


class _Sink:
    """A write-only file for ZipFile: collects what it writes until drained (not seekable, so
    ZipFile writes sizes after each file's data)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self.parts:
            data, self.parts = b"".join(self.parts), []
            yield data


def _files(root: Path) -> list[tuple[Path, str]]:
    """(file, name in the zip) under `root`, sorted; training checkpoints and links that lead
    out of the folder are left out."""
    found = []
    real_root = root.resolve()
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("checkpoint-"))
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and path.resolve().is_relative_to(real_root):
                found.append((path, path.relative_to(root).as_posix()))
    return found


def zip_name(version: ModelVersion) -> str:
    return f"{version.name}.zip"


def zip_stream(version: ModelVersion) -> Iterator[bytes]:
    """The zip of the model's folder (or its GGUF file), as chunks. Raises ModelFilesGone at
    once, before anything is sent, when there is nothing to zip."""
    if version.kind == ModelVersion.Kind.HUB:
        raise ModelFilesGone(f"“{version.name}” is a hub model in the workers' cache: there is no folder to download.")
    source = Path(version.source)
    if source.is_file():
        files = [(source, source.name)]
    elif source.is_dir():
        files = _files(source)
    else:
        raise ModelFilesGone(f"The files of “{version.name}” are gone: {version.source} no longer exists on the server.")
    return _stream(version.name, files)


def _stream(prefix: str, files: list[tuple[Path, str]]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path, name in files:
            info = zipfile.ZipInfo.from_file(path, f"{prefix}/{name}")
            with open(path, "rb") as src, archive.open(info, "w", force_zip64=info.file_size > zipfile.ZIP64_LIMIT) as dest:
                while chunk := src.read(CHUNK):
                    dest.write(chunk)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()
