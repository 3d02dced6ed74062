"""Data-parallel fine-tuning on CPU (gloo, 2 processes) through generation.training.launch."""

from __future__ import annotations

import json
import math

import pytest

from generation.errors import GenerationError
from generation.finetune import FinetuneParams, read_metadata
from generation.training.launch import train, training_processes


def records(n: int = 32) -> list[dict]:
    return [{"prompt": f"Describe item {i}.", "completion": f"Ahoy! Item {i} be grand. Fair winds and dry socks!"}
            for i in range(n)]


def params(out, **kw) -> FinetuneParams:
    base = dict(output_dir=str(out), max_seq_len=96, learning_rate=1e-2, lora_r=8, lora_alpha=16, lora_dropout=0.0,
                save_steps=100, seed=0, epochs=2, validation_records=records(36)[32:], eval_before=False)
    base.update(kw)
    return FinetuneParams(**base)


def test_training_processes():
    import torch

    assert training_processes(3) == 3
    expected = torch.cuda.device_count() if torch.cuda.is_available() else 1
    assert training_processes() == expected
    with pytest.raises(ValueError, match="processes must be >= 1"):
        training_processes(0)


def test_two_processes_match_one_with_the_same_global_batch(tiny_model_dir, tmp_path):
    # A full fine-tune moves the tiny model's loss a lot (10.8 -> ~6.4), so 5% means something.
    same = dict(method="full", learning_rate=1e-2, eval_before=True)
    one = train(tiny_model_dir, records(), params(tmp_path / "one", batch_size=8, **same), processes=1)
    events, logs = [], []
    try:
        two = train(tiny_model_dir, records(), params(tmp_path / "two", batch_size=4, **same), processes=2,
                    on_progress=events.append, on_log=logs.append)
    except GenerationError as exc:  # say what the ranks printed, not only the launcher's last words
        pytest.fail(f"{exc}\n--- launcher output ---\n" + "\n".join(logs[-80:]))
    assert not two.cancelled and two.global_step == one.global_step == 8  # 32 records / global batch 8 x 2 epochs
    assert [e.step for e in events if e.train_loss is not None][:3] == [1, 2, 3]  # rank 0 only, once each
    assert math.isclose(two.metrics["val_loss"], one.metrics["val_loss"], rel_tol=0.05), (two.metrics, one.metrics)
    assert two.metrics["val_loss"] < two.metrics["initial_val_loss"] - 2  # it learned
    meta = read_metadata(tmp_path / "two")
    assert meta["status"] == "completed" and meta["params"]["batch_size"] == 4
    assert (tmp_path / "two" / "model.safetensors").is_file()
    assert not list((tmp_path / "two").glob("checkpoint-*"))
    assert any("completed: step 8/8" in line for line in logs)


def test_stop_reaches_every_rank_and_resume_finishes(tiny_model_dir, tmp_path):
    out = tmp_path / "stop"
    p = params(out, batch_size=2, epochs=4, save_steps=1000)  # global batch 2 x 2 ranks: 16 steps
    seen = []
    result = train(tiny_model_dir, records(16), p, processes=2, on_progress=seen.append,
                   should_stop=lambda: len(seen) >= 2)
    assert result.cancelled and 2 <= result.global_step < result.max_steps
    assert result.checkpoint is not None and result.checkpoint.is_dir()
    assert result.checkpoint.name == f"checkpoint-{result.global_step}"
    # both ranks stopped at that step: each wrote its random state into the same checkpoint
    assert sorted(p.name for p in result.checkpoint.glob("rng_state_*.pth")) == ["rng_state_0.pth", "rng_state_1.pth"]
    assert read_metadata(out)["status"] == "cancelled"
    assert not (out / "adapter_model.safetensors").exists()

    steps = []
    done = train(tiny_model_dir, records(16), p, processes=2, on_progress=lambda e: steps.append(e.step))
    assert not done.cancelled and done.global_step == result.max_steps
    assert steps[0] == result.global_step + 1  # continued from the checkpoint
    assert json.loads((out / "inkstone.json").read_text())["status"] == "completed"


def test_killing_the_caller_takes_the_launcher_and_every_rank_with_it(tiny_model_dir, tmp_path):
    """A training worker killed with -9 leaves no rank writing to the run's folder (a new worker
    resumes the run there)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "killed"
    script = (
        "import sys; from generation.training.launch import train; "
        "from tests.generation.test_distributed import params, records; "
        "train(sys.argv[1], records(), params(sys.argv[2], max_steps=100000, epochs=1), processes=2, "
        "on_progress=lambda p: print('step', p.step, flush=True))"
    )
    root = Path(__file__).resolve().parents[2]
    caller = subprocess.Popen([sys.executable, "-c", script, str(tiny_model_dir), str(out)], cwd=root,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    for line in caller.stdout:
        if line.startswith("step"):
            break

    def ranks() -> list[int]:
        found = []
        for status in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(out) in status.read_bytes().decode(errors="replace"):
                    found.append(int(status.parent.name))
            except OSError:
                continue
        return [pid for pid in found if pid != caller.pid]

    assert len(ranks()) >= 3  # the launcher and two ranks
    os.kill(caller.pid, signal.SIGKILL)
    caller.wait()
    deadline = time.monotonic() + 20
    while ranks() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ranks() == []


def test_cli_flags_rebuild_the_params(tmp_path):
    """train() passes FinetuneParams to the ranks as CLI flags: every field survives the trip."""
    import argparse

    from generation.cli_finetune import _SKIP, add_parser, params_to_args

    p = FinetuneParams(output_dir=str(tmp_path), method="full", epochs=2.5, learning_rate=3e-4, pack=False,
                       lora_target_modules="all-linear", eval_steps=7, dtype="float32", max_steps=-1)
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["finetune", "--data", "d", "--output", str(tmp_path), *params_to_args(p)])
    values = {k: getattr(args, k) for k in p.to_json() if k not in _SKIP}
    assert FinetuneParams(output_dir=str(tmp_path), **values) == p


def test_a_failed_launch_says_why_not_just_the_last_banner_line():
    from generation.training.launch import _failure_summary

    tail = [
        "Traceback (most recent call last):",
        '  File "x.py", line 3, in <module>',
        "RuntimeError: Gloo connectFullMesh failed with timeout",
        "E1205 01:31:02 failed (exitcode: 1) local_rank: 0",
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
        "============================================================",
        "generation FAILED",
        "------------------------------------------------------------",
        "============================================================",
    ]
    summary = _failure_summary(tail)
    assert "RuntimeError: Gloo connectFullMesh failed with timeout" in summary
    assert "=====" not in summary
    assert _failure_summary(["", "====", "out of disk space", "===="]) == "out of disk space"
