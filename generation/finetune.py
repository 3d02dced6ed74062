"""Fine-tune a causal LM (LoRA or full) on instruction, chat or raw-text records.

The training loop is transformers' `Trainer`, not TRL's `SFTTrainer`: our records are
tokenized and label-masked here (see `generation.training.data`), so SFTTrainer would add
only a `datasets`/pyarrow dependency and a second tokenization path; `Trainer` takes a plain
list of examples, runs offline, supports checkpoint/resume, and measured within a few percent
of a bare peft+AdamW loop (bench/finetune.py).

Progress goes out as `FinetuneProgress` dataclasses through `on_progress`; `should_stop()`
is polled after every optimizer step and stops training cleanly after saving a checkpoint.

Output directory layout::

    output_dir/
        adapter_config.json, adapter_model.safetensors   (LoRA)   or   config.json, model.safetensors (full)
        tokenizer files, chat_template.jinja
        inkstone.json        metadata: base model, data hash, params, metrics, versions, times
        checkpoint-N/        while running / after a cancel or crash; removed on success
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generation.errors import DatasetError, GenerationError, InvalidModelError, TrainingDiverged
from generation.models import METADATA_FILE
from generation.training.data import (
    PadCollator,
    build_examples,
    data_hash,
    split_records,
    validate_records,
)

METADATA_FORMAT = "inkstone.finetune/1"
METHODS = ("lora", "full")
TRAIN_DTYPES = ("auto", "float32", "bfloat16")


def _help(text: str, **kw: Any) -> Any:
    return field(metadata={"help": text}, **kw)


@dataclass
class FinetuneParams:
    """Fine-tuning settings. Every field has a CLI flag of the same name (dashes for underscores)."""

    output_dir: str = _help("directory for the adapter/model, checkpoints and inkstone.json", default="")
    method: str = _help("lora (small adapter, fast) or full (all weights)", default="lora")
    epochs: float = _help("passes over the training data", default=1.0)
    max_steps: int = _help("stop after this many optimizer steps (-1: use epochs)", default=-1)
    learning_rate: float | None = _help(
        "peak learning rate (default 1e-3 for lora, 2e-5 for full)", default=None
    )
    batch_size: int = _help("examples per forward pass", default=4)
    grad_accum: int = _help("forward passes per optimizer step", default=1)
    max_seq_len: int = _help("tokens per example (longer ones are cut; text is packed to this)", default=512)
    lora_r: int = _help("LoRA rank", default=16)
    lora_alpha: int = _help("LoRA scaling alpha", default=32)
    lora_dropout: float = _help("LoRA dropout", default=0.05)
    lora_target_modules: tuple[str, ...] = _help(
        "modules that get LoRA adapters ('all-linear' for every linear layer)",
        default=("q_proj", "k_proj", "v_proj", "o_proj"),
    )
    validation_fraction: float = _help(
        "share of records held out for validation when no validation records are given", default=0.1
    )
    validation_records: list[dict[str, Any]] | None = _help(
        "explicit validation records (overrides validation_fraction)", default=None, repr=False
    )
    seed: int = _help("random seed (data split, shuffling, LoRA init)", default=42)
    save_steps: int = _help("save a checkpoint every N optimizer steps", default=50)
    eval_steps: int | None = _help("evaluate every N steps (default: save_steps)", default=None)
    logging_steps: int = _help("report progress every N steps", default=1)
    warmup_ratio: float = _help("share of steps with linear learning-rate warm-up", default=0.0)
    lr_scheduler: str = _help("learning-rate schedule: linear, cosine or constant", default="linear")
    weight_decay: float = _help("AdamW weight decay", default=0.0)
    max_grad_norm: float = _help("gradient clipping norm (0: off)", default=1.0)
    dtype: str = _help(
        "training precision: auto (bfloat16 autocast on a CUDA device that supports it, else float32), "
        "float32, or bfloat16 autocast (weights stay fp32)",
        default="auto",
    )
    pack: bool = _help("pack raw-text records into full max_seq_len blocks", default=True)
    eval_before: bool = _help("measure validation loss before training (initial_val_loss)", default=True)
    keep_checkpoints: bool = _help("keep checkpoint-N directories after a successful run", default=False)

    def __post_init__(self) -> None:
        if isinstance(self.lora_target_modules, str):
            mods = self.lora_target_modules
            self.lora_target_modules = (mods,) if mods == "all-linear" else tuple(
                m.strip() for m in mods.split(",") if m.strip()
            )
        else:
            self.lora_target_modules = tuple(self.lora_target_modules)
        if self.learning_rate is None:
            # LoRA at 1e-3: one epoch on the 48-record voice set took held-out perplexity
            # 143 -> 42 (2e-4: 143 -> 101) on the default model (bench/voice_finetune.py).
            self.learning_rate = 1e-3 if self.method == "lora" else 2e-5
        checks = [
            (bool(str(self.output_dir).strip()), "output_dir is required"),
            (self.method in METHODS, f"method must be one of {', '.join(METHODS)}, not {self.method!r}"),
            (self.epochs > 0 or self.max_steps > 0, "epochs must be > 0 (or set max_steps)"),
            (self.max_steps == -1 or self.max_steps > 0, "max_steps must be > 0 or -1"),
            (self.learning_rate > 0, "learning_rate must be > 0"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.grad_accum >= 1, "grad_accum must be >= 1"),
            (self.max_seq_len >= 8, "max_seq_len must be >= 8"),
            (self.lora_r >= 1, "lora_r must be >= 1"),
            (self.lora_alpha > 0, "lora_alpha must be > 0"),
            (0 <= self.lora_dropout < 1, "lora_dropout must be in [0, 1)"),
            (len(self.lora_target_modules) > 0, "lora_target_modules must not be empty"),
            (0 <= self.validation_fraction < 1, "validation_fraction must be in [0, 1)"),
            (self.save_steps >= 1, "save_steps must be >= 1"),
            (self.eval_steps is None or self.eval_steps >= 1, "eval_steps must be >= 1"),
            (self.logging_steps >= 1, "logging_steps must be >= 1"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
            (self.lr_scheduler in ("linear", "cosine", "constant"), "lr_scheduler must be linear, cosine or constant"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.max_grad_norm >= 0, "max_grad_norm must be >= 0"),
            (self.dtype in TRAIN_DTYPES, f"dtype must be one of {', '.join(TRAIN_DTYPES)}, not {self.dtype!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_json(self) -> dict[str, Any]:
        """Params for metadata: JSON-safe, without the validation records themselves."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "validation_records"}
        out["lora_target_modules"] = list(self.lora_target_modules)
        out["validation_records"] = len(self.validation_records) if self.validation_records else None
        return out


@dataclass
class FinetuneProgress:
    """One progress report (after an optimizer step, or after an evaluation)."""

    step: int
    max_steps: int
    epoch: float
    train_loss: float | None
    val_loss: float | None
    learning_rate: float | None
    tokens_per_s: float
    eta_s: float | None


@dataclass
class FinetuneResult:
    output_dir: Path
    method: str
    cancelled: bool
    global_step: int
    max_steps: int
    metrics: dict[str, Any]
    checkpoint: Path | None  # last checkpoint kept (after a cancel), else None
    metadata: dict[str, Any]


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("torch", "transformers", "peft", "accelerate", "safetensors"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _resolve_base(base: Any) -> tuple[str, Path]:
    """(source as the user named it, HF directory) for a ModelSpec, spec string or path."""
    from generation.models import ModelSpec, resolve_model_dir

    if isinstance(base, Path):
        base = str(base)
    spec = ModelSpec.parse(base) if isinstance(base, str) else base
    if spec.adapters:
        raise GenerationError("fine-tuning on top of adapters is not supported: merge them first")
    return spec.source, resolve_model_dir(spec)


def is_main_process() -> bool:
    """False in the ranks > 0 of a torch.distributed launch: only rank 0 writes files."""
    return int(os.environ.get("RANK", "0")) == 0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)


def read_metadata(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / METADATA_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def _last_checkpoint(output_dir: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    if not output_dir.is_dir():
        return None
    last = get_last_checkpoint(str(output_dir))
    return Path(last) if last else None


@contextlib.contextmanager
def _quiet():
    """Silence transformers' warnings and progress bars (callers get progress via callbacks)."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def training_dtype(requested: str) -> str:
    """The precision a run uses: "auto" is bfloat16 autocast on CUDA when the device supports it
    (as generation.models.choose_dtype picks bf16 there), float32 on CPU."""
    if requested != "auto":
        return requested
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bfloat16"
    return "float32"


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


# --------------------------------------------------------------------------- callback


def _progress_callback(on_progress, should_stop, clock_start: float, final_checkpoint: bool):
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):
        """Turns Trainer logs into FinetuneProgress; polls should_stop after each step."""

        def __init__(self) -> None:
            self.train_loss: float | None = None
            self.val_loss: float | None = None
            self.val_step = -1
            self.lr: float | None = None
            self.cancelled = False
            self.start_step = 0
            self.start_tokens = 0
            self.start_time = clock_start
            self.training = False
            self.diverged: tuple[int, float] | None = None  # (step, loss) of a non-finite loss

        def on_train_begin(self, args, state, control, **kw):
            self.training = True
            self.start_step = state.global_step
            self.start_tokens = state.num_input_tokens_seen
            self.start_time = time.perf_counter()

        def on_train_end(self, args, state, control, **kw):
            self.training = False

        def on_step_end(self, args, state, control, **kw):
            if should_stop is not None and should_stop():
                self.cancelled = True
                control.should_training_stop = True
                control.should_save = True  # keep a checkpoint at this step
            elif state.global_step >= state.max_steps and not final_checkpoint:
                # The finished model is written to output_dir right after training; a last
                # checkpoint (with optimizer state: 3x the model for full fine-tunes) would
                # only be deleted again.
                control.should_save = False

        def emit(self, state) -> None:
            if on_progress is None:
                return
            elapsed = max(time.perf_counter() - self.start_time, 1e-9)
            done = state.global_step - self.start_step
            tokens = state.num_input_tokens_seen - self.start_tokens
            eta = None
            if done > 0 and state.max_steps:
                eta = elapsed / done * max(state.max_steps - state.global_step, 0)
            on_progress(
                FinetuneProgress(
                    step=state.global_step,
                    max_steps=state.max_steps,
                    epoch=round(float(state.epoch or 0.0), 4),
                    train_loss=self.train_loss,
                    val_loss=self.val_loss,
                    learning_rate=self.lr,
                    tokens_per_s=tokens / elapsed,
                    eta_s=eta,
                )
            )

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            if "loss" in logs and not math.isfinite(float(logs["loss"])):
                # Nothing useful comes after a NaN/inf loss: stop now, keep no checkpoint of it.
                self.diverged = (state.global_step, float(logs["loss"]))
                control.should_training_stop = True
                control.should_save = False
                return
            if "loss" in logs:
                self.train_loss = _finite(logs["loss"])
                self.lr = _finite(logs.get("learning_rate"))
            elif "eval_loss" in logs:
                self.val_loss = _finite(logs["eval_loss"])
                self.val_step = state.global_step
            else:
                return
            if self.training:
                self.emit(state)

    return _Progress()


# --------------------------------------------------------------------------- finetune


def finetune(
    base: Any,
    records: Sequence[dict[str, Any]],
    params: FinetuneParams,
    on_progress: Callable[[FinetuneProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = False,
) -> FinetuneResult:
    """Fine-tune `base` (ModelSpec, spec string or model directory) on `records`.

    resume=True continues from the last `checkpoint-N` in `params.output_dir` (same data
    required: the data hash is checked) at its global step, starts afresh if there is none,
    and returns the recorded result if that directory already completed with the same data
    and params, so a task calling it with resume=True is safe to run twice. resume=False
    deletes earlier checkpoints in output_dir.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    kind = validate_records(records)
    if params.validation_records:
        if validate_records(params.validation_records) != kind:
            raise DatasetError("validation records must have the same shape as the training records")
        train_records, val_records = list(records), list(params.validation_records)
    else:
        train_records, val_records = split_records(records, params.validation_fraction, params.seed)

    output_dir = Path(params.output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    digest = data_hash(records)
    previous = read_metadata(output_dir)
    if (
        resume
        and previous.get("status") == "completed"
        and previous.get("data_hash") == digest
        and previous.get("params") == params.to_json()
    ):
        # Already finished with the same data and params (a re-delivered task): nothing to do.
        return _result_from_metadata(output_dir, previous)
    checkpoint = _last_checkpoint(output_dir) if resume else None
    main = is_main_process()
    if not resume and main:  # a fresh start: checkpoints of an earlier run must not be resumed later
        for stale in output_dir.glob("checkpoint-*"):
            shutil.rmtree(stale, ignore_errors=True)
    if checkpoint is not None and previous.get("data_hash") not in (None, digest):
        raise GenerationError(
            f"cannot resume {output_dir}: it was trained on different data "
            f"(data hash {previous['data_hash'][:12]}..., now {digest[:12]}...)"
        )

    source, model_dir = _resolve_base(base)
    torch.manual_seed(params.seed)
    try:
        with _quiet():
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    except Exception as exc:
        raise InvalidModelError(f"cannot load base model from {model_dir}: {exc}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.use_cache = False

    train_examples, dropped = build_examples(tokenizer, train_records, kind, params.max_seq_len, params.pack)
    val_examples, val_dropped = build_examples(tokenizer, val_records, kind, params.max_seq_len, params.pack)
    if not train_examples:
        raise DatasetError(
            "no training examples left: every completion was cut off by max_seq_len "
            f"({params.max_seq_len} tokens)"
        )

    if params.method == "lora":
        from peft import LoraConfig, get_peft_model

        targets = params.lora_target_modules
        lora = LoraConfig(
            r=params.lora_r,
            lora_alpha=params.lora_alpha,
            lora_dropout=params.lora_dropout,
            target_modules="all-linear" if targets == ("all-linear",) else list(targets),
            task_type="CAUSAL_LM",
        )
        try:
            with _quiet():
                model = get_peft_model(model, lora)
        except ValueError as exc:
            raise GenerationError(f"cannot apply LoRA: {exc}") from None

    started = previous.get("started_at") if checkpoint is not None else None
    metadata: dict[str, Any] = {
        "format": METADATA_FORMAT,
        "kind": params.method,
        "status": "running",
        "base_model": source,
        "base_model_dir": str(model_dir),
        "data_hash": digest,
        "data_kind": kind,
        "num_records": len(records),
        "num_train_records": len(train_records),
        "num_val_records": len(val_records),
        "num_train_examples": len(train_examples),
        "num_val_examples": len(val_examples),
        "dropped_records": dropped + val_dropped,
        "params": params.to_json(),
        "dtype": training_dtype(params.dtype),
        "metrics": {},
        "versions": library_versions(),
        "started_at": started or _now(),
        "finished_at": None,
    }
    if main:
        _write_json(output_dir / METADATA_FILE, metadata)

    dtype = training_dtype(params.dtype)
    eval_steps = params.eval_steps or params.save_steps
    has_val = bool(val_examples)
    args = TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=params.epochs,
        max_steps=params.max_steps,
        learning_rate=params.learning_rate,
        per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=params.batch_size,
        gradient_accumulation_steps=params.grad_accum,
        lr_scheduler_type=params.lr_scheduler,
        warmup_steps=params.warmup_ratio,  # a float < 1 is a ratio of the total steps
        weight_decay=params.weight_decay,
        max_grad_norm=params.max_grad_norm,
        logging_strategy="steps",
        logging_steps=params.logging_steps,
        logging_nan_inf_filter=False,  # a NaN/inf loss must reach the divergence check
        eval_strategy="steps" if has_val else "no",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=params.save_steps,
        save_total_limit=2,
        seed=params.seed,
        data_seed=params.seed,
        bf16=dtype == "bfloat16",
        use_cpu=not torch.cuda.is_available(),
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        save_only_model=False,
    )
    progress = _progress_callback(
        on_progress, should_stop, time.perf_counter(), final_checkpoint=params.keep_checkpoints
    )
    with _quiet():
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train_examples,
            eval_dataset=val_examples or None,
            data_collator=PadCollator(tokenizer.pad_token_id),
            processing_class=tokenizer,
            callbacks=[progress],
        )
    trainer.remove_callback(PrinterCallback)  # progress goes through on_progress, not stdout

    metrics: dict[str, Any] = dict(previous.get("metrics") or {}) if checkpoint else {}
    with _quiet():
        if has_val and params.eval_before and checkpoint is None:
            metrics["initial_val_loss"] = _finite(trainer.evaluate()["eval_loss"])
        t0 = time.perf_counter()
        out = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        train_seconds = time.perf_counter() - t0

    state = trainer.state
    if progress.diverged is not None:
        step, loss = progress.diverged
        message = (
            f"training diverged at step {step}: the loss became {loss} "
            f"(learning rate {params.learning_rate:g}); try a lower learning rate"
        )
        metadata.update(status="failed", error=message, finished_at=_now())
        if main:
            _write_json(output_dir / METADATA_FILE, metadata)
        raise TrainingDiverged(message, step=step, loss=loss, learning_rate=params.learning_rate)
    tokens = state.num_input_tokens_seen - progress.start_tokens
    metrics.update(
        {
            "train_loss": _finite(out.training_loss),
            "last_train_loss": progress.train_loss,
            "train_seconds": round(train_seconds, 3),
            "train_tokens": int(tokens),
            "tokens_per_s": round(tokens / train_seconds, 2) if train_seconds > 0 else None,
            "global_step": state.global_step,
            "max_steps": state.max_steps,
            "epoch": round(float(state.epoch or 0.0), 4),
        }
    )
    cancelled = progress.cancelled
    kept = _last_checkpoint(output_dir) if cancelled else None
    if has_val and not cancelled:
        if progress.val_step != state.global_step:  # Trainer did not evaluate the last step
            trainer.evaluate()
            progress.emit(state)  # the final report carries the final validation loss
        metrics["val_loss"] = progress.val_loss
        if metrics["val_loss"] is not None:
            metrics["val_perplexity"] = round(math.exp(min(metrics["val_loss"], 50)), 4)
    if not cancelled:
        with _quiet():
            trainer.save_model(str(output_dir))  # adapter or full model, + tokenizer
        if not params.keep_checkpoints and main:
            for ckpt in output_dir.glob("checkpoint-*"):
                shutil.rmtree(ckpt, ignore_errors=True)
    metadata.update(
        status="cancelled" if cancelled else "completed",
        metrics=metrics,
        finished_at=_now(),
        checkpoint=str(kept) if kept else None,
    )
    if main:
        _write_json(output_dir / METADATA_FILE, metadata)
    return FinetuneResult(
        output_dir=output_dir,
        method=params.method,
        cancelled=cancelled,
        global_step=state.global_step,
        max_steps=state.max_steps,
        metrics=metrics,
        checkpoint=kept,
        metadata=metadata,
    )


def _result_from_metadata(output_dir: Path, meta: dict[str, Any]) -> FinetuneResult:
    """The FinetuneResult a completed or cancelled run recorded in its inkstone.json."""
    metrics = meta.get("metrics") or {}
    checkpoint = meta.get("checkpoint")
    return FinetuneResult(
        output_dir=output_dir,
        method=meta.get("kind", "lora"),
        cancelled=meta.get("status") == "cancelled",
        global_step=int(metrics.get("global_step", 0)),
        max_steps=int(metrics.get("max_steps", 0)),
        metrics=metrics,
        checkpoint=Path(checkpoint) if checkpoint else None,
        metadata=meta,
    )


# --------------------------------------------------------------------------- merge


def merge_and_export(adapter_dir: str | Path, output_dir: str | Path, base: Any = None) -> Path:
    """Merge a LoRA adapter into its base model and write a standalone safetensors model
    directory (with tokenizer and inkstone.json). `base` overrides the recorded base model."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter_dir = Path(adapter_dir).expanduser()
    if not (adapter_dir / "adapter_config.json").is_file():
        raise InvalidModelError(f"{adapter_dir} is not a LoRA adapter directory (no adapter_config.json)")
    meta = read_metadata(adapter_dir)
    if base is not None:
        source, model_dir = _resolve_base(base)
    elif meta.get("base_model"):
        source = meta["base_model"]
        try:
            source, model_dir = _resolve_base(source)
        except GenerationError:
            model_dir = Path(meta["base_model_dir"])
    else:
        cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
        source, model_dir = _resolve_base(cfg["base_model_name_or_path"])

    tok_dir = adapter_dir if (adapter_dir / "tokenizer_config.json").is_file() else model_dir
    with _quiet():
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
        tokenizer = AutoTokenizer.from_pretrained(tok_dir)

    output_dir = Path(output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    merged = {
        **{k: v for k, v in meta.items() if k not in ("checkpoint",)},
        "format": METADATA_FORMAT,
        "kind": "merged",
        "base_model": source,
        "base_model_dir": str(model_dir),
        "adapter_dir": str(adapter_dir),
        "merged_at": _now(),
        "versions": library_versions(),
    }
    _write_json(output_dir / METADATA_FILE, merged)
    return output_dir


__all__ = [
    "FinetuneParams",
    "FinetuneProgress",
    "FinetuneResult",
    "finetune",
    "merge_and_export",
    "read_metadata",
]
