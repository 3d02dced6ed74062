"""What a training run changed: the base model vs the tuned one on the same validation records
and the same prompts, as the evaluation dict of /work/shared eval-schema (JSON-safe):

    {"before": {"val_loss", "perplexity"}, "after": {...}, "improved", "change", "seed",
     "max_new_tokens", "val_records", "samples": [{"prompt", "base", "tuned", "base_style_fit",
     "tuned_style_fit", "base_grade", "tuned_grade"}], "style_fit": {"base", "tuned"},
     "reading_grade": {"base", "tuned"}, "seconds"}
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generation.errors import ModelNotFoundError
from generation.training.data import validate_records

OPENING_WORDS = 12


def sample_prompts(val_records: Sequence[dict[str, Any]], n: int = 3) -> list[str]:
    """The first `n` prompts of the validation records: an instruction's prompt, a chat's first
    user message, or a raw text's first ~12 words (the model continues it)."""
    out: list[str] = []
    for rec in val_records:
        if len(out) >= n:
            break
        if "prompt" in rec:
            text = rec["prompt"]
        elif "messages" in rec:
            text = next((m["content"] for m in rec["messages"] if m.get("role") == "user"), "")
        else:
            text = " ".join(str(rec.get("text", "")).split()[:OPENING_WORDS])
        if text.strip():
            out.append(text)
    return out


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return _round(statistics.fmean(present)) if present else None


def _scores(loaded, val_records) -> dict[str, float] | None:
    from generation.evaluate import perplexity

    if not val_records:
        return None
    with loaded.activated() as model:
        result = perplexity((model, loaded.tokenizer), list(val_records))
    return {"val_loss": _round(result.mean_loss), "perplexity": _round(result.perplexity)}


def _sample(loaded, prompt: str, chat: bool, params, style_examples, embedder) -> tuple[str, float | None, float | None]:
    from generation.evaluate import reading_grade, style_fit
    from generation.streaming import generate

    if chat:
        text = generate(loaded, messages=[{"role": "user", "content": prompt}], params=params).text
    else:
        text = generate(loaded, prompt=prompt, params=params).text
    text = text.strip()
    fit = grade = None
    if text:
        if style_examples:
            fit = _round(style_fit(text, style_examples, model=embedder))
        try:
            grade = _round(reading_grade(text), 2)
        except ValueError:
            grade = None
    return text, fit, grade


def _load_tuned(base_loaded, tuned: Path):
    """(view of the tuned model, how to undo the change to the base's model or None)."""
    from generation.models import ModelSpec, adapter_name, attach_adapters, load_model

    if (tuned / "adapter_config.json").is_file():
        name = adapter_name(tuned)
        was_peft = hasattr(base_loaded.model, "peft_config")
        if was_peft and name in base_loaded.model.peft_config:
            return attach_adapters(base_loaded, (str(tuned),)), None
        view = attach_adapters(base_loaded, (str(tuned),))

        def undo() -> None:
            with base_loaded.lock:
                if was_peft:
                    base_loaded.model.delete_adapter(name)
                else:  # it was a plain model: take the LoRA layers out again
                    base_loaded.model = base_loaded.model.unload()

        return view, undo
    if (tuned / "config.json").is_file():
        spec = ModelSpec(str(tuned), dtype=base_loaded.dtype, device=base_loaded.device)
        return load_model(spec), None
    raise ModelNotFoundError(f"no fine-tuned model in {tuned} (no adapter_config.json or config.json)")


def compare_models(
    base: Any,
    tuned: str | Path,
    val_records: Sequence[dict[str, Any]],
    *,
    prompts: Sequence[str],
    seed: int,
    style_examples: Sequence[str] = (),
    max_new_tokens: int = 96,
    loaded_base: Any = None,
) -> dict[str, Any]:
    """Evaluate the base model and the fine-tune in `tuned` (a LoRA adapter or a full model
    directory) on `val_records`, and sample both on `prompts` with the same seed and the
    default sampling. `loaded_base`: the base as a LoadedModel already in memory (a worker's
    cache), else `base` (spec or path) is loaded. A LoRA adapter is attached to that model
    for the comparison and taken out afterwards (hold no other view of it meanwhile). style_fit scores use the base model's hidden
    states against `style_examples` (the training texts); null without examples."""
    from generation.models import ModelSpec, load_model
    from generation.params import GenerationParams

    start = time.perf_counter()
    chat = validate_records(val_records) == "supervised" if val_records else True
    if loaded_base is None:
        spec = ModelSpec.parse(str(base)) if not isinstance(base, ModelSpec) else base
        loaded_base = load_model(spec)
    style_examples = tuple(t for t in style_examples if t and t.strip())
    params = GenerationParams(max_new_tokens=max_new_tokens, seed=seed)

    before = _scores(loaded_base, val_records)
    base_samples = [_sample(loaded_base, p, chat, params, style_examples, loaded_base) for p in prompts]
    tuned_loaded, undo = _load_tuned(loaded_base, Path(tuned).expanduser())
    try:
        after = _scores(tuned_loaded, val_records)
        tuned_samples = [_sample(tuned_loaded, p, chat, params, style_examples, loaded_base) for p in prompts]
    finally:
        if undo is not None:  # leave a cached base model as it was
            undo()

    samples = [
        {"prompt": p, "base": b[0], "tuned": t[0], "base_style_fit": b[1], "tuned_style_fit": t[1],
         "base_grade": b[2], "tuned_grade": t[2]}
        for p, b, t in zip(prompts, base_samples, tuned_samples, strict=True)
    ]
    out: dict[str, Any] = {
        "before": before,
        "after": after,
        "improved": None,
        "change": None,
        "seed": seed,
        "max_new_tokens": max_new_tokens,
        "val_records": len(val_records),
        "samples": samples,
        "style_fit": {"base": _mean([s["base_style_fit"] for s in samples]),
                      "tuned": _mean([s["tuned_style_fit"] for s in samples])},
        "reading_grade": {"base": _mean([s["base_grade"] for s in samples]),
                          "tuned": _mean([s["tuned_grade"] for s in samples])},
    }
    if before and after and before["perplexity"]:
        out["improved"] = after["perplexity"] < before["perplexity"]
        out["change"] = _round(after["perplexity"] / before["perplexity"] - 1)
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


__all__ = ["compare_models", "sample_prompts"]
