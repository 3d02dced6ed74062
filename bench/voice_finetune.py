"""Acceptance check: one epoch of LoRA on the voice dataset with the real default model.

Reports the wall time of `finetune()` (target < 10 min on the 2-core CPU) and the held-out
perplexity (completion tokens of bench/data/voice_heldout.jsonl) before and after
(target: at least 20% lower), as one JSON line.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/voice_finetune.py [--epochs 1] [--output DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from generation.finetune import FinetuneParams, finetune  # noqa: E402
from generation.models import ModelSpec, load_model, resolve_model_dir  # noqa: E402
from generation.training.data import read_records  # noqa: E402

DATA = ROOT / "bench" / "data"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="default")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--learning-rate", type=float, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--output", default=None, help="adapter directory (default: a temp dir)")
    args = ap.parse_args(argv)

    train = read_records(DATA / "voice.jsonl")
    heldout = read_records(DATA / "voice_heldout.jsonl")
    from generation.evaluate import perplexity

    model_dir = resolve_model_dir(ModelSpec(args.base))  # convert once, outside the timing
    before = perplexity(load_model(ModelSpec(str(model_dir), dtype="float32")), heldout)

    out = Path(args.output or tempfile.mkdtemp(prefix="inkstone-voice-"))
    params = FinetuneParams(output_dir=str(out), method="lora", epochs=args.epochs, validation_fraction=0.0)
    if args.learning_rate:
        params.learning_rate = args.learning_rate
    if args.batch_size:
        params.batch_size = args.batch_size
    progress = []
    t0 = time.perf_counter()
    result = finetune(str(model_dir), train, params, on_progress=progress.append)
    wall = time.perf_counter() - t0

    tuned = load_model(ModelSpec(str(model_dir), dtype="float32", adapters=(str(out),)))
    after = perplexity(tuned, heldout)
    report = {
        "bench": "voice_finetune",
        "model": args.base,
        "train_records": len(train),
        "heldout_records": len(heldout),
        "epochs": args.epochs,
        "steps": result.global_step,
        "learning_rate": params.learning_rate,
        "batch_size": params.batch_size,
        "finetune_wall_s": round(wall, 1),
        "train_tokens": result.metrics.get("train_tokens"),
        "tokens_per_s": result.metrics.get("tokens_per_s"),
        "heldout_ppl_before": round(before.perplexity, 3),
        "heldout_ppl_after": round(after.perplexity, 3),
        "ppl_reduction": round(1 - after.perplexity / before.perplexity, 4),
        "wall_ok": wall < 600,
        "ppl_ok": after.perplexity <= 0.8 * before.perplexity,
        "adapter_dir": str(out),
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
