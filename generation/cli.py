"""Command line: `python -m generation generate|info|finetune|evaluate`.

Every GenerationError (and a bad argument value) ends as one line `error: ...` on stderr and
exit status 1, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from generation.errors import GenerationError
from generation.params import SAMPLING_PARAMS, SEED

# Sub-commands other modules contribute: each module has add_parser(subparsers).
_PLUGIN_MODULES = ("generation.cli_finetune", "generation.cli_evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generation",
        description="Inkstone's ML library: load models, generate, fine-tune, evaluate.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_info(sub)
    _add_generate(sub)
    for name in _PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # not written yet, or a dependency of it is missing
            if getattr(exc, "name", None) != name:
                print(f"warning: {name} unavailable: {exc}", file=sys.stderr)
            continue
        module.add_parser(sub)
    return parser


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=os.environ.get("INKSTONE_DEFAULT_MODEL", "default"),
        metavar="SPEC",
        help="default | HF directory | cached hub id | file.gguf, optionally "
        "?dtype=bfloat16&device=cpu&adapter=DIR (default: %(default)s)",
    )


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="load a model and print its name, size, dtype, device")
    _model_arg(p)
    p.set_defaults(func=cmd_info)


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="stream a completion to stdout (usage to stderr)")
    p.add_argument("--prompt", required=True, help="user message (chat template applied)")
    p.add_argument("--system", help="system prompt")
    p.add_argument("--raw", action="store_true", help="use --prompt as raw text, no chat template")
    _model_arg(p)
    add_sampling_args(p)
    p.add_argument("--seed", type=int, help=SEED.help)
    p.add_argument("--stop", action="append", default=[], help="stop sequence (repeatable)")
    p.set_defaults(func=cmd_generate)


def add_sampling_args(p: argparse.ArgumentParser) -> None:
    """One flag per sampling parameter, from the schema (names, defaults, ranges, help)."""
    for spec in SAMPLING_PARAMS:
        p.add_argument(
            "--" + spec.name.replace("_", "-"), type=spec.type, default=spec.default, metavar="N",
            help=f"{spec.help} ({spec.minimum} to {spec.maximum}; default %(default)s)",
        )


def sampling_values(args) -> dict:
    return {spec.name: getattr(args, spec.name) for spec in SAMPLING_PARAMS}


def _spec(text: str):
    from generation.models import ModelSpec

    try:
        return ModelSpec.parse(text)
    except ValueError as exc:
        raise GenerationError(f"invalid --model {text!r}: {exc}") from None


def _ensure_cache_note(spec) -> None:
    """Convert the default model's cache up front, telling the user (it takes ~25 s once)."""
    from generation.models import ensure_default_model

    if spec.source != "default":
        return
    report = ensure_default_model()
    if report.converted:
        print(f"first use: {report}", file=sys.stderr)


def cmd_info(args) -> int:
    from generation.models import load_model

    spec = _spec(args.model)
    _ensure_cache_note(spec)
    loaded = load_model(spec)
    print(f"name: {loaded.name}")
    print(f"parameters: {loaded.parameters:,}")
    print(f"dtype: {loaded.dtype}")
    print(f"device: {loaded.device}")
    print(f"load_seconds: {loaded.load_seconds:.2f}")
    print(f"model_dir: {loaded.model_dir}")
    return 0


def cmd_generate(args) -> int:
    from generation.models import load_model
    from generation.streaming import GenerationParams, stream_generate

    try:
        params = GenerationParams(**sampling_values(args), seed=args.seed, stop=tuple(args.stop))
    except ValueError as exc:
        raise GenerationError(str(exc)) from None
    spec = _spec(args.model)
    _ensure_cache_note(spec)
    loaded = load_model(spec)
    if args.raw:
        stream = stream_generate(loaded, prompt=args.prompt, system=args.system, params=params)
    else:
        messages = [{"role": "user", "content": args.prompt}]
        stream = stream_generate(loaded, messages=messages, system=args.system, params=params)
    with stream:
        for piece in stream:
            sys.stdout.write(piece)
            sys.stdout.flush()
    result = stream.result
    u = result.usage
    sys.stdout.write("\n")
    sys.stdout.flush()
    print(
        f"[{loaded.name} {loaded.dtype}/{loaded.device}] finish={result.finish_reason} "
        f"prompt_tokens={u.prompt_tokens} completion_tokens={u.completion_tokens} "
        f"ttft={u.time_to_first_token_s or 0:.2f}s {u.tokens_per_s:.1f} tok/s "
        f"total={u.total_s:.2f}s seed={result.seed}",
        file=sys.stderr,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GenerationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
