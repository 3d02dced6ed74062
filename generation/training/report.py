"""Base vs tuned, when a fine-tune ends: validation perplexity before and after, and samples of
both models on the same prompts with the same seed, scored for style fit and reading grade.

The result is a JSON-safe dict (the shape the platform stores and renders):

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

from generation.training.data import record_kind, to_messages

OPENING_WORDS = 12
CONTINUE_PROMPT = "Continue this text in the same voice."


def sample_prompts(val_records: Sequence[dict[str, Any]], n: int = 3) -> list[dict[str, Any]]:
    """Fixed sample requests from the first `n` validation records: the prompt (or the first user
    turn) of instruction/chat records; for raw text, its first words for the model to go on from."""
    out = []
    for i, record in enumerate(val_records[:n]):
        if record_kind(record, i) == "text":
            opening = " ".join(record["text"].split()[:OPENING_WORDS])
            out.append({"prompt": opening, "messages": [{"role": "user", "content": CONTINUE_PROMPT}],
                        "prefill": opening})
        else:
            turns = to_messages(record)
            system = [m for m in turns if m["role"] == "system"][:1]
            user = next(m for m in turns if m["role"] == "user")
            out.append({"prompt": user["content"], "messages": [*system, user], "prefill": None})
    return out


def _perplexity(loaded, records) -> dict[str, float]:
    from generation.evaluate import perplexity

    with loaded.activated() as model:
        result = perplexity((model, loaded.tokenizer), records)
    return {"val_loss": round(result.mean_loss, 4), "perplexity": round(result.perplexity, 4)}


def _samples(loaded, requests: list[dict[str, Any]], seed: int, max_new_tokens: int) -> list[str]:
    from generation.params import GenerationParams
    from generation.streaming import stream_generate

    texts = []
    for request in requests:
        params = GenerationParams(seed=seed, max_new_tokens=max_new_tokens)
        stream = stream_generate(loaded, messages=request["messages"], params=params, prefill=request["prefill"])
        texts.append("".join(stream).strip())
    return texts


def _score(text: str, examples: Sequence[str], loaded) -> tuple[float | None, float | None]:
    from generation.evaluate import reading_grade, style_fit

    if not text.strip():
        return None, None
    fit = round(style_fit(text, examples, loaded), 4) if examples else None
    return fit, round(reading_grade(text), 2)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.fmean(values), 4) if values else None


def compare_models(
    base: Any,
    tuned: str | Path,
    val_records: Sequence[dict[str, Any]],
    *,
    prompts: Sequence[dict[str, Any]] | None = None,
    seed: int = 1234,
    style_examples: Sequence[str] = (),
    max_new_tokens: int = 96,
) -> dict[str, Any]:
    """Evaluate fine-tune output `tuned` (a LoRA adapter or a full model folder) against `base`
    (a spec or folder) on `val_records`; `prompts` from sample_prompts (default: its first 3).
    Style fit is measured with the base model's hidden states for both, so the two are
    comparable."""
    from generation.models import attach_adapters, load_model

    started = time.perf_counter()
    requests = list(prompts) if prompts is not None else sample_prompts(val_records)
    base_model = load_model(base)
    before = _perplexity(base_model, val_records)
    base_texts = _samples(base_model, requests, seed, max_new_tokens)
    if (Path(tuned) / "adapter_config.json").is_file():
        tuned_model = attach_adapters(base_model, (str(tuned),))
    else:
        tuned_model = load_model(str(tuned))
    after = _perplexity(tuned_model, val_records)
    tuned_texts = _samples(tuned_model, requests, seed, max_new_tokens)
    samples = []
    for request, base_text, tuned_text in zip(requests, base_texts, tuned_texts, strict=True):
        base_fit, base_grade = _score(base_text, style_examples, base_model)
        tuned_fit, tuned_grade = _score(tuned_text, style_examples, base_model)
        samples.append({"prompt": request["prompt"], "base": base_text, "tuned": tuned_text,
                        "base_style_fit": base_fit, "tuned_style_fit": tuned_fit,
                        "base_grade": base_grade, "tuned_grade": tuned_grade})
    return {
        "before": before,
        "after": after,
        "improved": after["perplexity"] < before["perplexity"],
        "change": round(after["perplexity"] / before["perplexity"] - 1, 4),
        "seed": seed,
        "max_new_tokens": max_new_tokens,
        "val_records": len(val_records),
        "samples": samples,
        "style_fit": {"base": _mean(s["base_style_fit"] for s in samples),
                      "tuned": _mean(s["tuned_style_fit"] for s in samples)},
        "reading_grade": {"base": _mean(s["base_grade"] for s in samples),
                          "tuned": _mean(s["tuned_grade"] for s in samples)},
        "seconds": round(time.perf_counter() - started, 2),
    }
