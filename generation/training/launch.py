"""Run a fine-tune in this process, or data-parallel over several processes (one per GPU).

`train(..., processes=N)` with N > 1 starts
``python -m torch.distributed.run --standalone --nproc_per_node N -m generation finetune ...``:
transformers' Trainer sees the launcher's environment and wraps the model in
DistributedDataParallel (nccl on CUDA, gloo on CPU). Each rank trains on its share of every
batch, so **the global batch is batch_size x grad_accum x processes**; keep that product to
train like a single process with the same settings (a preset plans with `processes=`).

Only rank 0 writes inkstone.json, checkpoints' model files and the final model, and only rank 0
reports progress (JSON lines on stdout, `--progress-json`). A stop request becomes a stop file;
each rank checks it after every optimizer step and the ranks agree through an all_reduce, so
all of them stop at the same step (ranks that disagree about stopping would hang in the next
collective) and rank 0 leaves a checkpoint that `resume=True` continues from.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from generation import errors
from generation.errors import GenerationError

TRAIN_FILE = "train-records.jsonl"
VALIDATION_FILE = "validation-records.jsonl"
STOP_FILE = "STOP"


def training_processes(requested: int | None = None) -> int:
    """How many training processes to start: `requested`, else one per CUDA device, else 1."""
    if requested is not None:
        if int(requested) < 1:
            raise ValueError("processes must be >= 1")
        return int(requested)
    import torch

    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 1


def agreed_stop(local: Callable[[], bool]) -> Callable[[], bool]:
    """A should_stop for one rank of a distributed run: True on every rank as soon as `local()`
    is True on any rank. It is a collective: every rank must call it at every step (the
    fine-tuning callback does, after each optimizer step)."""

    def should_stop() -> bool:
        import torch
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return local()
        device = "cpu"
        if dist.get_backend() == "nccl":
            device = f"cuda:{torch.cuda.current_device()}"
        flag = torch.tensor([1 if local() else 0], dtype=torch.int32, device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    return should_stop


def _write_records(path: Path, records: Sequence[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _progress_from(event: dict[str, Any]):
    from generation.finetune import FinetuneProgress

    names = FinetuneProgress.__dataclass_fields__
    return FinetuneProgress(**{k: v for k, v in event.items() if k in names})


def _error_from(event: dict[str, Any]) -> GenerationError:
    """The library error a rank reported, rebuilt by type name (GenerationError otherwise)."""
    cls = getattr(errors, str(event.get("type")), None)
    message = str(event.get("message") or "training failed")
    if cls is errors.TrainingDiverged:
        return cls(message, step=event.get("step"), loss=event.get("loss"),
                   learning_rate=event.get("learning_rate"))
    if isinstance(cls, type) and issubclass(cls, GenerationError):
        return cls(message)
    if "out of memory" in message.lower():
        return GenerationError(f"out of memory: {message}")
    return GenerationError(f"{event.get('type')}: {message}")


def _failure_summary(tail) -> str:
    """The lines of a failed launch's output that say why: torchrun ends with a banner of ===
    lines and a ChildFailedError table, so the last line alone says nothing. The exception
    lines (`SomeError: ...`) when there are any, else the last lines with words in them."""
    lines = [t.strip() for t in tail if t.strip(" =-\t")]
    errors_seen = [t for t in lines if re.match(r"^[\w.]*(Error|Exception)\b.*:", t) or t.startswith("error:")]
    picked = list(dict.fromkeys(errors_seen))[-3:] or lines[-3:]
    return " | ".join(picked) or "no output"


def _kill_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM the launcher's process group (launcher and every rank), SIGKILL after grace_s."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, grace_s)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


DIE_WITH_PARENT_ENV = "INKSTONE_DIE_WITH_PARENT"


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies. A training worker that
    is killed (kill -9, out of memory) then takes its torchrun launcher and, through
    INKSTONE_DIE_WITH_PARENT, every rank with it, so no orphan keeps writing to the run's folder
    while a new worker resumes it. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def train(
    base: Any,
    records: Sequence[dict[str, Any]],
    params: Any,
    *,
    processes: int = 1,
    on_progress: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_log: Callable[[str], None] | None = None,
    resume: bool = True,
    stop_grace_s: float = 120.0,
):
    """Fine-tune `base` on `records` with `params` (FinetuneParams) in `processes` processes.

    processes == 1: `generation.finetune.finetune` in this process (same arguments, same result).
    processes > 1: a torch.distributed.run subprocess (see the module docstring). `on_progress`
    gets rank 0's FinetuneProgress; `on_log` every other output line. When `should_stop()` turns
    True, every rank stops after the same step and a checkpoint is kept (result.cancelled); if the
    ranks have not stopped `stop_grace_s` later, or this call is interrupted, the whole process
    group is killed. Returns the FinetuneResult recorded in inkstone.json; raises the library
    error a rank reported (DatasetError, TrainingDiverged, ...) or GenerationError.
    """
    from generation.finetune import _result_from_metadata, finetune, read_metadata

    if processes < 1:
        raise ValueError("processes must be >= 1")
    if processes == 1:
        return finetune(base, records, params, on_progress=on_progress, should_stop=should_stop, resume=resume)

    from dataclasses import replace

    from generation.cli_finetune import params_to_args
    from generation.training.data import validate_records

    validate_records(records)  # fail here, in one line, rather than in N ranks
    out = Path(params.output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    stop_file = out / STOP_FILE
    stop_file.unlink(missing_ok=True)
    _write_records(out / TRAIN_FILE, records)
    base_spec = str(base)
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
        "-m", "generation", "finetune",
        "--data", str(out / TRAIN_FILE), "--output", str(out), "--base", base_spec,
        "--progress-json", "--stop-file", str(stop_file),
    ]
    if params.validation_records:
        _write_records(out / VALIDATION_FILE, params.validation_records)
        cmd += ["--validation-data", str(out / VALIDATION_FILE)]
    cmd += params_to_args(replace(params, validation_records=None))
    if resume:
        cmd.append("--resume")

    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env[DIE_WITH_PARENT_ENV] = "1"

    def launch() -> tuple[int, GenerationError | None, bool, deque[str]]:
        """Run the launcher: (exit status, error a rank reported, stopped by force, the last lines
        of output)."""
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            text=True, bufsize=1, start_new_session=True, preexec_fn=die_with_parent,
        )
        done = threading.Event()
        stopping: dict[str, float] = {}

        def watch_stop() -> None:
            while not done.wait(0.2):
                if "since" not in stopping and should_stop is not None and should_stop():
                    stopping["since"] = time.monotonic()
                    stop_file.touch()
                if "since" in stopping and time.monotonic() - stopping["since"] > stop_grace_s:
                    _kill_group(proc)
                    return

        watcher = threading.Thread(target=watch_stop, daemon=True, name="train-stop")
        watcher.start()
        tail: deque[str] = deque(maxlen=80)  # enough to reach a rank's traceback above torchrun's summary
        error: GenerationError | None = None
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                event = None
                if line.startswith('{"event": '):
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        event = None
                if event is None:
                    tail.append(line)
                    if on_log is not None:
                        on_log(line)
                elif event["event"] == "progress" and on_progress is not None:
                    on_progress(_progress_from(event))
                elif event["event"] == "error":
                    error = _error_from(event)
            rc = proc.wait()
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            done.set()
            watcher.join(timeout=1)
        return rc, error, "since" in stopping, tail

    try:
        rc, error, forced, tail = launch()
    finally:
        for name in (STOP_FILE, TRAIN_FILE, VALIDATION_FILE):  # not part of the model directory
            (out / name).unlink(missing_ok=True)

    meta = read_metadata(out)
    if rc in (0, 130) and meta.get("status") in ("completed", "cancelled"):
        return _result_from_metadata(out, meta)
    if error is not None:
        raise error
    if forced:
        raise errors.CancelledError(f"training was stopped by force after {stop_grace_s:.0f} s; "
                                    "resume continues from the last checkpoint")
    raise GenerationError(f"training processes failed (exit status {rc}): {_failure_summary(tail)}")


__all__ = ["agreed_stop", "train", "training_processes"]
