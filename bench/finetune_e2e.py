"""Fine-tuning through the platform vs the same `finetune()` call made directly, in one run.

Starts the real stack (embedded Redis, web, a `training` worker from the Procfile), POSTs a
*quick* LoRA run on the default model and the starter dataset to /api/trainings/, and polls it
until the worker has finished training (status `evaluating`); then makes the same `finetune()`
call (same records, same settings, same validation records) directly in this process. Both
train the same tokens, so tokens/s ratio = direct wall time / platform wall time. Rounds
alternate (platform, direct, ...); best of rounds, as the other benches do.

Also reported: the quick preset's validation perplexity before -> after (target: >= 30% lower)
and its training time (target: < 180 s on this CPU), and how long the evaluation after
training (base vs tuned samples, style fit) took.

    .venv/bin/python bench/finetune_e2e.py [--rounds 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402
from _stack import Stack, wait_until  # noqa: E402


def platform_round(stack: Stack, dataset_id: int, n: int) -> dict:
    started = time.perf_counter()
    run = stack.api("POST", "/api/trainings/", {"dataset": dataset_id, "preset": "quick", "name": f"bench-{n}"})

    def trained():
        state = stack.api("GET", f"/api/trainings/{run['id']}/")
        return state if state["status"] in ("evaluating", "completed", "failed", "cancelled") else None

    state = wait_until(trained, 900, "the training run")
    trained_at = time.perf_counter()
    if state["status"] in ("failed", "cancelled"):
        raise SystemExit(f"platform run {state['status']}: {state['error']}\n{state['log'][-2000:]}")
    final = wait_until(lambda: (s := stack.api("GET", f"/api/trainings/{run['id']}/"))["status"] in
                       ("completed", "failed") and s, 900, "the evaluation")
    return {"wall_s": trained_at - started, "evaluation_s": time.perf_counter() - trained_at, "run": final}


def direct_round(run: dict, records: list, validation: list | None) -> dict:
    from generation.finetune import FinetuneParams, finetune

    with tempfile.TemporaryDirectory() as out:
        params = FinetuneParams(**run["params"], output_dir=out, validation_records=validation)
        started = time.perf_counter()
        result = finetune("default", records, params)
        return {"wall_s": time.perf_counter() - started, "metrics": result.metrics}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    results = []
    with Stack(workers=("training",), role="admin") as stack:
        from corpora.models import Record
        from corpora.starter import seed_example_dataset

        dataset = seed_example_dataset(workspace=stack.workspace, created_by=stack.user)
        version = dataset.versions.get()
        records = [r.data for r in version.records.order_by("index")]
        validation = [r.data for r in version.records.filter(split=Record.Split.VALIDATION)] or None
        platform, direct = [], []
        for n in range(args.rounds):
            platform.append(platform_round(stack, dataset.pk, n))
            direct.append(direct_round(platform[-1]["run"], records, validation))
    best_platform = min(platform, key=lambda r: r["wall_s"])
    best_direct = min(direct, key=lambda r: r["wall_s"])
    run = best_platform["run"]
    tokens = run["metrics"]["train_tokens"]
    ratio = best_direct["wall_s"] / best_platform["wall_s"]
    results.append(emit_result(
        bench="finetune_e2e", what="training tokens/s: POST /api/trainings/ to trained vs finetune() directly",
        tokens=tokens, platform_s=round(best_platform["wall_s"], 1), direct_s=round(best_direct["wall_s"], 1),
        platform_tokens_per_s=round(tokens / best_platform["wall_s"], 1),
        direct_tokens_per_s=round(tokens / best_direct["wall_s"], 1),
        platform_rounds_s=[round(r["wall_s"], 1) for r in platform], direct_rounds_s=[round(r["wall_s"], 1) for r in direct],
        ratio=round(ratio, 3), ok=ratio >= 0.95,
    ))
    evaluation = run["evaluation"]
    before, after = evaluation["before"]["perplexity"], evaluation["after"]["perplexity"]
    change = after / before - 1
    results.append(emit_result(
        bench="finetune_e2e", what="quick preset, default model, starter dataset: validation perplexity",
        before=round(before, 2), after=round(after, 2), change=round(change, 4), steps=run["step"],
        train_seconds=run["metrics"]["train_seconds"], platform_s=round(best_platform["wall_s"], 1),
        evaluation_s=round(best_platform["evaluation_s"], 1),
        style_fit=evaluation.get("style_fit"), reasons=run["plan"]["reasons"],
        ok=change <= -0.30 and best_platform["wall_s"] < 180,
    ))
    return results


def emit_result(**fields) -> dict:
    emit(**fields)
    return fields


if __name__ == "__main__":
    outcome = main()
    sys.exit(0 if all(r["ok"] for r in outcome) else 1)
