"""Training throughput of `finetune()` (transformers Trainer) vs a bare peft + AdamW loop.

Both train the same LoRA config on the same tokenized examples (the voice dataset), same
batch size, sequence length, learning rate and number of steps, on the real default model,
in the same process; rounds alternate (bare, finetune, bare, finetune, ...) and the best
round of each is compared, because the CPU is shared. Tokens are non-padding input tokens.
Prints one JSON line; target ratio >= 0.9.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/finetune.py [--steps 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from generation.finetune import FinetuneParams, finetune  # noqa: E402
from generation.models import ModelSpec, resolve_model_dir  # noqa: E402
from generation.training.data import (  # noqa: E402
    PadCollator,
    build_examples,
    read_records,
    validate_records,
)


def bare_loop(model_dir: Path, examples: list, params: FinetuneParams, steps: int, pad_id: int) -> dict:
    """The baseline: plain torch loop, no Trainer, no clipping, no scheduler, no logging."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(params.seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.config.use_cache = False
    model = get_peft_model(
        model,
        LoraConfig(
            r=params.lora_r,
            lora_alpha=params.lora_alpha,
            lora_dropout=params.lora_dropout,
            target_modules=list(params.lora_target_modules),
            task_type="CAUSAL_LM",
        ),
    )
    model.train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=params.learning_rate)
    collate = PadCollator(pad_id)
    g = torch.Generator().manual_seed(params.seed)
    tokens = 0
    t0 = time.perf_counter()
    done = 0
    while done < steps:
        order = torch.randperm(len(examples), generator=g).tolist()
        for start in range(0, len(order) - params.batch_size + 1, params.batch_size):
            batch = collate([examples[i] for i in order[start : start + params.batch_size]])
            loss = model(**batch).loss
            loss.backward()
            optim.step()
            optim.zero_grad(set_to_none=True)
            tokens += int(batch["attention_mask"].sum())
            done += 1
            if done >= steps:
                break
    seconds = time.perf_counter() - t0
    return {"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds, "loss": float(loss.detach())}


def trainer_run(model_dir: Path, records: list, params: FinetuneParams, steps: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="inkstone-bench-") as out:
        params.output_dir = out
        params.max_steps = steps
        result = finetune(str(model_dir), records, params)
    m = result.metrics
    return {
        "tokens": m["train_tokens"],
        "seconds": m["train_seconds"],
        "tokens_per_s": m["tokens_per_s"],
        "loss": m["last_train_loss"],
    }


def main(argv: list[str] | None = None) -> dict:
    from transformers import AutoTokenizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="default")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4)
    args = ap.parse_args(argv)

    model_dir = resolve_model_dir(ModelSpec(args.base))
    records = read_records(ROOT / "bench" / "data" / "voice.jsonl")
    kind = validate_records(records)
    base_params = dict(
        output_dir="unused",
        batch_size=args.batch_size,
        validation_fraction=0.0,
        eval_before=False,
        save_steps=10_000,
    )
    params = FinetuneParams(**base_params)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples, _ = build_examples(tokenizer, records, kind, params.max_seq_len)

    bare, ours = [], []
    for _ in range(args.rounds):
        bare.append(bare_loop(model_dir, examples, params, args.steps, tokenizer.pad_token_id))
        ours.append(trainer_run(model_dir, records, FinetuneParams(**base_params), args.steps))
    best_bare = max(r["tokens_per_s"] for r in bare)
    best_ours = max(r["tokens_per_s"] for r in ours)
    report = {
        "bench": "finetune_throughput",
        "model": args.base,
        "method": "lora",
        "steps": args.steps,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "bare_tokens_per_s": round(best_bare, 1),
        "finetune_tokens_per_s": round(best_ours, 1),
        "ratio": round(best_ours / best_bare, 3),
        "ratio_median": round(statistics.median(r["tokens_per_s"] for r in ours) / statistics.median(r["tokens_per_s"] for r in bare), 3),
        "target_ratio": 0.9,
        "bare_rounds": [round(r["tokens_per_s"], 1) for r in bare],
        "finetune_rounds": [round(r["tokens_per_s"], 1) for r in ours],
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
