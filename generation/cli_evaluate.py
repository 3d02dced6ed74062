"""`python -m generation evaluate --data FILE [--model SPEC] [--adapter DIR]`: perplexity.

Strings (`{"text"}` records, `.txt` passages) are scored on every token; instruction/chat
records on their completion/assistant tokens only, exactly as fine-tuning trains them.
"""

from __future__ import annotations

import os

from generation.errors import DatasetError, GenerationError


def add_parser(subparsers):
    p = subparsers.add_parser(
        "evaluate",
        help="perplexity / mean loss of a model (optionally with LoRA adapters) on a dataset",
    )
    p.add_argument("--data", required=True, help="evaluation data (.jsonl records or .txt passages)")
    p.add_argument(
        "--model",
        default=os.environ.get("INKSTONE_DEFAULT_MODEL", "default"),
        metavar="SPEC",
        help="model spec (default: %(default)s)",
    )
    p.add_argument("--adapter", action="append", default=[], metavar="DIR", help="LoRA adapter directory (repeatable)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-seq-len", type=int, default=1024)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from dataclasses import replace

    from generation.evaluate import perplexity
    from generation.models import ModelSpec, load_model
    from generation.training.data import read_records, validate_records

    records = read_records(args.data)
    if not records:
        raise DatasetError(f"{args.data}: the dataset is empty: no records")
    validate_records(records)
    try:
        spec = ModelSpec.parse(args.model)
        if args.adapter:
            spec = replace(spec, adapters=spec.adapters + tuple(args.adapter))
    except ValueError as exc:
        raise GenerationError(f"invalid --model: {exc}") from None
    if args.batch_size < 1:
        raise GenerationError("--batch-size must be >= 1")
    loaded = load_model(spec)
    result = perplexity(loaded, records, batch_size=args.batch_size, max_seq_len=args.max_seq_len)
    print(f"model: {loaded.name}")
    print(f"records: {len(records)}")
    print(f"tokens: {result.tokens}")
    print(f"loss: {result.mean_loss:.4f}")
    print(f"perplexity: {result.perplexity:.3f}")
    return 0
