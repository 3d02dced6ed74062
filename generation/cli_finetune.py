"""`python -m generation finetune --data FILE --output DIR [...]`.

Flags are generated from `FinetuneParams` (name, type, default and help text), so the CLI
cannot drift from the library. Ctrl-C asks training to stop after the current step (keeping
a checkpoint; `--resume` continues); a second Ctrl-C aborts at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import typing

from generation.errors import DatasetError, GenerationError

_SKIP = {"output_dir", "validation_records"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_parser(subparsers) -> argparse.ArgumentParser:
    from generation.finetune import FinetuneParams

    p = subparsers.add_parser(
        "finetune",
        help="fine-tune a model (LoRA or full) on a JSONL dataset",
        description="Fine-tune on records {prompt, completion} | {messages} | {text}, one JSON "
        "object a line. Prints one progress line a step, then the final metrics.",
    )
    p.add_argument("--data", required=True, help="training data (.jsonl, or .txt passages)")
    p.add_argument("--output", required=True, help="output directory (adapter or model)")
    p.add_argument("--base", default=None, metavar="SPEC", help="base model spec (default: $INKSTONE_DEFAULT_MODEL or default)")
    p.add_argument("--validation-data", default=None, help="explicit validation records file")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --output")
    p.add_argument("--merge-to", default=None, metavar="DIR", help="after LoRA training, also write a merged model here")
    p.add_argument("--progress-json", action="store_true",
                   help="print progress, the result and errors as JSON lines ({\"event\": ...}; rank 0 only)")
    p.add_argument("--stop-file", default=None, metavar="PATH",
                   help="stop after the current step (keeping a checkpoint) once this file exists; under "
                   "torch.distributed.run every rank stops at the same step")
    hints = typing.get_type_hints(FinetuneParams)
    for f in dataclasses.fields(FinetuneParams):
        if f.name in _SKIP:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        help_text = f.metadata.get("help", "")
        hint = hints[f.name]
        if hint is bool:
            p.add_argument(_flag(f.name), action=argparse.BooleanOptionalAction, default=default, help=help_text)
            continue
        if f.name == "lora_target_modules":
            p.add_argument(_flag(f.name), default=",".join(default), help=help_text + " (comma-separated)")
            continue
        if f.name == "method":
            p.add_argument(_flag(f.name), choices=("lora", "full"), default=default, help=help_text)
            continue
        kind = next((t for t in (int, float, str) if t is hint or t in typing.get_args(hint)), str)
        shown = "" if default is None else f" (default: {default})"
        p.add_argument(_flag(f.name), type=kind, default=default, help=help_text + shown)
    p.set_defaults(func=run)
    return p


def params_to_args(params) -> list[str]:
    """The CLI flags that rebuild `params` (without output_dir / validation_records)."""
    from generation.finetune import FinetuneParams

    out: list[str] = []
    hints = typing.get_type_hints(FinetuneParams)
    for f in dataclasses.fields(FinetuneParams):
        value = getattr(params, f.name)
        if f.name in _SKIP or value is None:
            continue
        if hints[f.name] is bool:
            out.append(_flag(f.name) if value else "--no-" + f.name.replace("_", "-"))
        elif f.name == "lora_target_modules":
            out += [_flag(f.name), ",".join(value)]
        else:
            out += [_flag(f.name), repr(value) if isinstance(value, float) else str(value)]
    return out


def _leave_process_group() -> None:
    """A rank of a data-parallel run leaves its process group once training is done. Left to the
    interpreter's exit, gloo's threads can still be running when the process ends, and the rank
    dies with SIGABRT ("terminate called without an active exception") after a finished run, so
    torchrun reports the run as failed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def format_progress(ev) -> str:
    parts = [f"step {ev.step}/{ev.max_steps}", f"epoch {ev.epoch:.2f}"]
    parts.append(f"loss {ev.train_loss:.4f}" if ev.train_loss is not None else "loss -")
    parts.append(f"val_loss {ev.val_loss:.4f}" if ev.val_loss is not None else "val_loss -")
    if ev.learning_rate is not None:
        parts.append(f"lr {ev.learning_rate:.2e}")
    parts.append(f"{ev.tokens_per_s:.0f} tok/s")
    if ev.eta_s is not None:
        parts.append(f"eta {ev.eta_s:.0f}s")
    return " | ".join(parts)


def run(args) -> int:
    import os

    if os.environ.get("INKSTONE_DIE_WITH_PARENT"):  # a rank of a worker's distributed run
        from generation.training.launch import die_with_parent

        die_with_parent()
    if not args.progress_json:
        return _run(args)
    from generation.finetune import is_main_process

    try:
        return _run(args)
    except Exception as exc:
        if is_main_process():
            _emit("error", type=type(exc).__name__, message=str(exc),
                  **{k: getattr(exc, k) for k in ("step", "loss", "learning_rate") if hasattr(exc, k)})
        raise


def _run(args) -> int:
    import os
    from pathlib import Path

    from generation.finetune import FinetuneParams, finetune, is_main_process, merge_and_export
    from generation.training.data import read_records

    records = read_records(args.data)
    if not records:
        raise DatasetError(f"{args.data}: the dataset is empty: no records")
    values = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(FinetuneParams)
        if f.name not in _SKIP and hasattr(args, f.name)
    }
    if args.validation_data:
        values["validation_records"] = read_records(args.validation_data)
    try:
        params = FinetuneParams(output_dir=args.output, **values)
    except ValueError as exc:
        raise GenerationError(str(exc)) from None
    base = args.base or os.environ.get("INKSTONE_DEFAULT_MODEL", "default")

    stop = {"requested": False}

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        print("stopping after this step (Ctrl-C again to abort)...", file=sys.stderr, flush=True)

    main = is_main_process()

    def on_progress(ev) -> None:
        if not main:
            return
        if args.progress_json:
            _emit("progress", **dataclasses.asdict(ev))
        else:
            print(format_progress(ev), flush=True)

    def asked() -> bool:
        return stop["requested"] or (args.stop_file is not None and Path(args.stop_file).exists())

    should_stop = asked
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from generation.training.launch import agreed_stop

        should_stop = agreed_stop(asked)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = finetune(base, records, params, on_progress=on_progress, should_stop=should_stop, resume=args.resume)
    finally:
        signal.signal(signal.SIGINT, previous)
    _leave_process_group()
    # Under --progress-json a stop is an outcome, not a failure (torch.distributed.run would
    # report a non-zero exit as a crashed rank); the result event says it was cancelled.
    code = 130 if result.cancelled and not args.progress_json else 0
    if not main:
        return code
    if args.progress_json:
        _emit("result", status=result.metadata.get("status"), global_step=result.global_step)
    status = "cancelled" if result.cancelled else "completed"
    print(f"{status}: step {result.global_step}/{result.max_steps} -> {result.output_dir}")
    if result.checkpoint:
        print(f"checkpoint kept: {result.checkpoint} (continue with --resume)")
    print("metrics: " + json.dumps(result.metrics, sort_keys=True))
    if args.merge_to and not result.cancelled:
        if params.method != "lora":
            raise GenerationError("--merge-to needs --method lora (a full fine-tune is already a model)")
        out = merge_and_export(result.output_dir, args.merge_to)
        print(f"merged model: {out}")
    return code  # 130 like an interrupted command
