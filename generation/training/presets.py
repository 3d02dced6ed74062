"""Training presets that fit the data: `plan_training` picks fine-tuning settings from the
records (how many, how long, which kind) and says why, with estimates of the work.

Why this exists: fixed defaults packed 184 short texts into 512-token blocks, which left 4
optimizer steps in an epoch and a -24% held-out perplexity, where a bare peft loop (LoRA r16 on
all linear layers, lr 3e-4, batch 8, one example per text) reached -80%. A small set of short
texts needs *updates*, not full blocks. bench/voice_presets.py measures the `quick` preset
against that bare loop.

`plan_training` runs in a web request: it tokenizes with one batched call of a fast tokenizer
and never loads a model (well under 1 s for 1,000 short records).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from generation.training.data import (
    split_records,
    to_messages,
    tokenize_supervised,
    validate_records,
)

PRESETS = ("quick", "balanced", "thorough")


@dataclass(frozen=True)
class _Preset:
    epochs: float  # passes over the data, raised until min_updates is reached (up to max_epochs)
    max_epochs: float
    min_updates: int  # optimizer steps a run should reach, when the data allows it
    lora_r: int
    lr_scheduler: str
    warmup_ratio: float
    eval_before: bool
    evaluations: int  # validation passes during the run (the last one at the end)


# quick: one pass in batches of 8 (the bare loop's cost), smaller batches only when that would
# leave fewer than 6 updates; at batch 4 the 48-record voice set took 1.9x the bare loop's time
# for 12 updates (bench/voice_presets.py).
_PRESETS = {
    "quick": _Preset(epochs=1, max_epochs=1, min_updates=6, lora_r=16, lr_scheduler="linear",
                     warmup_ratio=0.0, eval_before=True, evaluations=1),
    "balanced": _Preset(epochs=2, max_epochs=4, min_updates=60, lora_r=16, lr_scheduler="cosine",
                        warmup_ratio=0.05, eval_before=True, evaluations=4),
    "thorough": _Preset(epochs=3, max_epochs=8, min_updates=150, lora_r=32, lr_scheduler="cosine",
                        warmup_ratio=0.05, eval_before=True, evaluations=8),
}

MAX_SEQ_LEN = 512
BATCH_TOKENS = 4096  # padded tokens per forward pass: keeps activation memory flat for long texts
# Smaller batches buy updates but cost time: on the 2-core CPU a LoRA step on the default model
# takes about as long for 4 examples as for 8, while batches of 2 took 2-3x longer per example.
MIN_BATCH = 4
SHORT_TEXT_TOKENS = 128  # raw texts shorter than this (median) are trained one example per text
# Rough compute rates when nothing was measured: a 2-core CPU sustained ~3e10 FLOP/s on the
# default model's LoRA steps (bench/voice_presets.py); one modern GPU in bf16, ~5e13.
ROUGH_FLOP_RATE = {"cpu": 3e10, "cuda": 5e13}


@dataclass
class TrainingPlan:
    """What a preset chose for this data, why, and what it will cost."""

    preset: str
    params: dict[str, Any]  # FinetuneParams keyword arguments (no output_dir / validation_records)
    reasons: list[str]
    train_records: int
    val_records: int
    examples: int  # training examples per epoch (texts, or packed blocks)
    tokens: int  # training tokens over all epochs (padding excluded)
    optimizer_steps: int
    memory_bytes: int | None  # peak training memory estimate; None without the model's size
    seconds: float | None  # tokens / tokens_per_s; None when no throughput was measured
    rough_seconds: float | None  # from the model size and ROUGH_FLOP_RATE: a rough guess
    rough_flop_rate: float | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["params"] = dict(self.params)
        if "lora_target_modules" in out["params"]:
            out["params"]["lora_target_modules"] = list(out["params"]["lora_target_modules"])
        return out


# --------------------------------------------------------------------------- token lengths


def _lengths(tokenizer, records: Sequence[dict[str, Any]], kind: str) -> tuple[list[int], list[int]]:
    """(tokens per example, trained tokens per example) for unpacked examples, from one batched
    tokenizer call. Supervised records add the chat template's overhead, measured once on the
    first record (the template is the same for every record of a dataset)."""
    if not records:
        return [], []
    if kind == "text":
        ids = tokenizer([r["text"] for r in records], add_special_tokens=False)["input_ids"]
        lengths = [len(x) for x in ids]
        return lengths, lengths
    messages = [to_messages(r) for r in records]
    flat = [m["content"] for msgs in messages for m in msgs]
    ids = tokenizer(flat, add_special_tokens=False)["input_ids"]
    totals, trained, i = [], [], 0
    for msgs in messages:
        n = trained_n = 0
        for m in msgs:
            n += len(ids[i])
            if m["role"] == "assistant":
                trained_n += len(ids[i]) + 1  # + the end-of-turn token
            i += 1
        totals.append(n)
        trained.append(trained_n)
    first = tokenize_supervised(tokenizer, records[0], 1 << 30)
    overhead = max(0, len(first["input_ids"]) - totals[0])
    return [t + overhead for t in totals], trained


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


# --------------------------------------------------------------------------- estimates


def _shape(model_config: dict[str, Any] | None, model_parameters: int | None) -> dict[str, int] | None:
    """hidden size, layers, intermediate size, vocab, heads, kv heads: from config.json when
    given, else guessed from the parameter count (a Llama-like shape, aspect ratio ~64)."""
    cfg = model_config or {}
    if cfg.get("hidden_size") and cfg.get("num_hidden_layers"):
        h = int(cfg["hidden_size"])
        heads = int(cfg.get("num_attention_heads") or max(1, h // 64))
        return {
            "hidden": h,
            "layers": int(cfg["num_hidden_layers"]),
            "intermediate": int(cfg.get("intermediate_size") or 4 * h),
            "vocab": int(cfg.get("vocab_size") or 32000),
            "heads": heads,
            "kv": int(cfg.get("num_key_value_heads") or heads) * (h // heads),
        }
    if not model_parameters:
        return None
    # params ~ 12 * layers * h^2 with layers ~ h / 64  ->  h ~ (params * 64 / 12) ^ (1/3)
    h = max(64, int(round((model_parameters * 64 / 12) ** (1 / 3) / 64)) * 64)
    return {"hidden": h, "layers": max(1, h // 64), "intermediate": 4 * h, "vocab": 32000,
            "heads": max(1, h // 64), "kv": h}


def _lora_parameters(shape: dict[str, int], r: int, targets: tuple[str, ...]) -> int:
    h, i, kv = shape["hidden"], shape["intermediate"], shape["kv"]
    dims = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
            "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    chosen = dims if targets == ("all-linear",) else {k: v for k, v in dims.items() if k in targets}
    if not chosen:  # module names of another architecture: assume attention projections
        chosen = {k: dims[k] for k in ("q_proj", "k_proj", "v_proj", "o_proj")}
    return shape["layers"] * sum(r * (a + b) for a, b in chosen.values())


def _memory_bytes(shape, parameters: int, params: dict[str, Any], seq: int) -> int:
    """fp32 weights + trainable parameters with gradients and AdamW moments (16 bytes each) +
    activations of one forward pass (no gradient checkpointing: ~34 values per hidden unit
    per layer plus the attention scores, and logits three times over: logits, their float copy
    for the loss, and its gradient)."""
    act_bytes = 2 if params.get("dtype") == "bfloat16" else 4
    if params["method"] == "full":
        trainable = parameters
    else:
        trainable = _lora_parameters(shape, params["lora_r"], tuple(params["lora_target_modules"]))
    b, h, layers = params["batch_size"], shape["hidden"], shape["layers"]
    per_layer = b * seq * (34 * h + 5 * shape["heads"] * seq) * act_bytes
    logits = 3 * b * seq * shape["vocab"] * 4
    return int(parameters * 4 + trainable * 16 + layers * per_layer + logits)


# --------------------------------------------------------------------------- plan


def _learning_rate(updates: int, method: str) -> float:
    """Few updates need a larger step; measured on the default model (bench/voice_presets.py)."""
    lr = 1e-3 if updates <= 40 else 5e-4 if updates <= 200 else 3e-4
    return lr if method == "lora" else lr / 20


def _batches(examples: int, batch: int, accum: int, processes: int) -> int:
    """Optimizer steps per epoch as transformers' Trainer counts them."""
    per_rank = math.ceil(examples / processes)
    loader = math.ceil(per_rank / batch)
    return max(1, math.ceil(loader / accum))


def plan_training(
    records: Sequence[dict[str, Any]],
    *,
    tokenizer: Any,
    preset: str = "quick",
    method: str = "lora",
    overrides: dict[str, Any] | None = None,
    validation_records: Sequence[dict[str, Any]] | None = None,
    validation_fraction: float = 0.1,
    seed: int = 42,
    tokens_per_s: float | None = None,
    model_parameters: int | None = None,
    model_config: dict[str, Any] | None = None,
    processes: int = 1,
    device: str = "cpu",
) -> TrainingPlan:
    """Choose FinetuneParams for `records` with `preset`, explain the choice, estimate the cost.

    `overrides` (FinetuneParams field -> value) win over the preset; each is named in the
    reasons. `tokens_per_s`: a measured training throughput (e.g. an earlier run's
    metrics["tokens_per_s"]) for `seconds`. `model_parameters` / `model_config` (the base
    model's config.json) size the memory estimate and `rough_seconds`. `processes`: data
    parallel ranks (the global batch is batch_size x grad_accum x processes).
    Raises ValueError for an unknown preset or override, DatasetError for bad records.
    """
    from generation.finetune import FinetuneParams

    if preset not in _PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    if method not in ("lora", "full"):
        raise ValueError(f"method must be one of lora, full, not {method!r}")
    if processes < 1:
        raise ValueError("processes must be >= 1")
    overrides = dict(overrides or {})
    known = {f.name for f in fields(FinetuneParams)} - {"output_dir", "validation_records"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown training setting {unknown[0]!r}")
    p = _PRESETS[preset]

    kind = validate_records(records)
    if validation_records:
        if validate_records(validation_records) != kind:
            raise ValueError("validation records must have the same shape as the training records")
        train, val = list(records), list(validation_records)
    else:
        fraction = overrides.get("validation_fraction", validation_fraction)
        train, val = split_records(records, fraction, overrides.get("seed", seed))
    max_seq_len = int(overrides.get("max_seq_len", MAX_SEQ_LEN))
    lengths, trained = _lengths(tokenizer, train, kind)
    cut = [min(n, max_seq_len) for n in lengths]
    median = int(statistics.median(cut)) if cut else 0
    p90 = _percentile(cut, 0.9) if cut else 0
    kind_words = "texts" if kind == "text" else "examples"
    reasons: list[str] = []

    # Packing: only raw text, and only when texts are long (then blocks waste nothing and
    # updates are plentiful); short texts stay one example each so a small set gets updates.
    if kind == "text":
        stream = sum(n + 1 for n in lengths)  # + EOS between texts
        packed_examples = max(1, math.ceil(stream / max_seq_len))
        pack = median >= SHORT_TEXT_TOKENS and packed_examples >= p.min_updates
    else:
        pack, packed_examples = False, len(train)

    chosen: dict[str, Any] = {
        "method": method,
        "max_seq_len": max_seq_len,
        "pack": pack,
        "lora_r": p.lora_r,
        "lora_alpha": 2 * p.lora_r,
        "lora_dropout": 0.05,
        "lora_target_modules": ("all-linear",),
        "lr_scheduler": p.lr_scheduler,
        "warmup_ratio": p.warmup_ratio,
        "eval_before": p.eval_before,
        "seed": seed,
        "validation_fraction": validation_fraction,
        "dtype": "auto",
    }
    examples = packed_examples if pack else len(train)
    seq = max_seq_len if pack else max(p90, 1)

    # Batch: at most 8, fewer when texts are long (BATCH_TOKENS padded tokens a pass) or when the
    # data is small (halve down to MIN_BATCH until an epoch gives min_updates steps).
    batch = max(1, min(8, BATCH_TOKENS // max(seq, 1)))
    while batch > MIN_BATCH and _batches(examples, batch, 1, processes) < p.min_updates:
        batch //= 2
    per_epoch = _batches(examples, batch, 1, processes)
    epochs = p.epochs
    while epochs < p.max_epochs and per_epoch * epochs < p.min_updates:
        epochs += 1
    chosen.update(batch_size=batch, grad_accum=1, epochs=float(epochs), max_steps=-1)
    updates = math.ceil(per_epoch * epochs)
    chosen["learning_rate"] = _learning_rate(updates, method)
    # Checkpoints (model + optimizer state) cost time: none in a run of fewer than 25 updates
    # (a stop request still saves one), else about four.
    chosen["save_steps"] = max(25, min(200, updates // 4))
    chosen["eval_steps"] = max(1, math.ceil(updates / p.evaluations)) if val else None
    chosen["logging_steps"] = 1

    if kind == "text":
        if pack:
            reasons.append(
                f"{len(train)} long texts (median {median} tokens): packed into {max_seq_len}-token "
                f"blocks, {examples} blocks, so no compute goes to padding."
            )
        else:
            packed_steps = _batches(packed_examples, batch, 1, processes)
            size = "short texts" if median < SHORT_TEXT_TOKENS else "texts"
            reasons.append(
                f"{len(train)} {size} (median {median} tokens): one example per text, no packing, "
                f"so one epoch gives {per_epoch} updates instead of {packed_steps}."
            )
    else:
        reasons.append(
            f"{len(train)} {'chat' if any('messages' in r for r in train[:1]) else 'instruction'} "
            f"records (median {median} tokens): one example each, loss on the answers only."
        )
    if batch < 8:
        why = "long texts keep memory flat" if seq * 8 > BATCH_TOKENS else "a small dataset needs more, smaller updates"
        reasons.append(f"Batch of {batch} {kind_words}: {why}.")
    else:
        reasons.append(f"Batch of {batch} {kind_words}.")
    if epochs > p.epochs:
        reasons.append(
            f"{epochs:g} epochs instead of {p.epochs:g}: fewer than {p.min_updates} updates would leave the "
            "model barely changed."
        )
    else:
        reasons.append(f"{epochs:g} epoch{'s' if epochs != 1 else ''} ({updates} updates), the {preset} preset.")
    if method == "lora":
        reasons.append(
            f"LoRA rank {p.lora_r} on every linear layer (attention and MLP): the most change per "
            "trained parameter for a small adapter."
        )
    reasons.append(
        f"Learning rate {chosen['learning_rate']:g} ({p.lr_scheduler} schedule): "
        + ("few updates need larger steps." if updates <= 40 else "enough updates for a moderate step.")
    )
    if not val:
        reasons.append("No validation records: the run cannot report a held-out loss.")

    for key, value in overrides.items():
        if key in chosen and chosen[key] != value:
            reasons.append(f"You set {key} = {value!r} (the {preset} preset would use {chosen[key]!r}).")
        elif key not in chosen:
            reasons.append(f"You set {key} = {value!r}.")
        chosen[key] = value
    try:
        checked = FinetuneParams(output_dir="plan", **chosen)
    except ValueError as exc:
        raise ValueError(f"invalid training setting: {exc}") from None
    params = {k: v for k, v in checked.to_json().items() if k not in ("output_dir", "validation_records")}
    params["lora_target_modules"] = tuple(params["lora_target_modules"])

    # Estimates with the final settings (overrides included).
    if kind == "text" and params["pack"]:
        examples = max(1, math.ceil(sum(n + 1 for n in lengths) / params["max_seq_len"]))
        epoch_tokens = sum(n + 1 for n in lengths)
        seq = params["max_seq_len"]
    else:
        examples = len(train)
        epoch_tokens = sum(min(n, params["max_seq_len"]) for n in lengths)
        seq = max(min(p90, params["max_seq_len"]), 1)
    per_epoch = _batches(examples, params["batch_size"], params["grad_accum"], processes)
    steps = params["max_steps"] if params["max_steps"] > 0 else math.ceil(per_epoch * params["epochs"])
    tokens = int(epoch_tokens * steps / per_epoch)
    shape = _shape(model_config, model_parameters)
    parameters = model_parameters
    if parameters is None and shape is not None and model_config:
        h, i, layers = shape["hidden"], shape["intermediate"], shape["layers"]
        parameters = layers * (2 * h * h + 2 * h * shape["kv"] + 3 * h * i) + shape["vocab"] * h
    memory = _memory_bytes(shape, parameters, params, min(seq, params["max_seq_len"])) if shape and parameters else None
    seconds = round(tokens / tokens_per_s, 1) if tokens_per_s else None
    rate = ROUGH_FLOP_RATE["cuda" if str(device).startswith("cuda") else "cpu"]
    rough = None
    if parameters:
        # forward 2N FLOPs a token, backward 2N more (4N for a full fine-tune's weight gradients)
        flops = (6 if params["method"] == "full" else 4) * parameters * tokens
        rough = round(flops / rate, 1)
    if seconds is not None:
        reasons.append(f"About {seconds:.0f} s at the measured {tokens_per_s:.0f} tokens/s.")
    elif rough is not None:
        reasons.append(
            f"Roughly {rough:.0f} s (rough: {parameters / 1e6:.0f}M parameters at an assumed "
            f"{rate:.0e} FLOP/s; a first run measures the real speed)."
        )
    return TrainingPlan(
        preset=preset,
        params=params,
        reasons=reasons,
        train_records=len(train),
        val_records=len(val),
        examples=examples,
        tokens=tokens,
        optimizer_steps=steps,
        memory_bytes=memory,
        seconds=seconds,
        rough_seconds=rough,
        rough_flop_rate=rate if rough is not None else None,
        stats={"kind": kind, "median_tokens": median, "p90_tokens": p90,
               "trained_tokens": sum(trained), "max_tokens": max(lengths) if lengths else 0},
    )


__all__ = ["PRESETS", "TrainingPlan", "plan_training"]
