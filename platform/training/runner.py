"""Worker side of training: claim a run, fine-tune, store every step, evaluate, add the candidate.

One run at a time per training worker (the `training` cluster has one worker process). A
background thread beats (heartbeat_at) and turns a cancel request into a stop that the trainer
sees after its current step; a run whose worker dies is interrupted by the heal job and resumed
from its last checkpoint (training.services).
"""

import logging
import os
import socket
import threading
import time
import traceback

from django.db import close_old_connections, connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from training.events import publish_state, publish_step
from training.models import TrainingRun, TrainingStep
from training.services import run_log, version_records

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
CANCEL_POLL_S = 0.5
SAMPLE_PROMPTS = 3


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Beat:
    """Background thread: touches heartbeat_at, and sets `stop` when a cancel is requested."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"training-{run_id}-beat", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join(5)

    def _run(self):
        last_beat = 0.0
        try:
            while not self._done.wait(CANCEL_POLL_S):
                close_old_connections()
                runs = TrainingRun.objects.filter(pk=self.run_id)
                if runs.filter(cancel_requested=True).exists():
                    self.stop.set()
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY_S:
                    runs.filter(status__in=TrainingRun.WORKING).update(heartbeat_at=timezone.now())
                    last_beat = time.monotonic()
        except Exception:
            logger.exception("training beat of run %s failed", self.run_id)
        finally:
            connection.close()


def _claim(run_id: int) -> bool:
    now = timezone.now()
    return bool(TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED, cancel_requested=False).update(
        status=TrainingRun.Status.RUNNING, worker=worker_id(), heartbeat_at=now, error="",
        started_at=Coalesce(F("started_at"), Value(now)), attempts=F("attempts") + 1))


def _set(run_id: int, **fields) -> None:
    TrainingRun.objects.filter(pk=run_id).update(**fields)
    publish_state(run_id)


def _on_progress(run: TrainingRun):
    """Store each report as its step's row (a resumed run overwrites the steps it trains again); a
    validation loss only on the step it was measured at, so the curve shows real evaluations."""

    def report(progress) -> None:
        measured = {"val_loss": progress.val_loss} if progress.val_step == progress.step else {}
        row, _ = TrainingStep.objects.update_or_create(
            run=run, step=progress.step,
            defaults={"epoch": progress.epoch, "train_loss": progress.train_loss, "learning_rate": progress.learning_rate,
                      "tokens_per_s": progress.tokens_per_s, **measured},
        )
        TrainingRun.objects.filter(pk=run.pk).update(
            step=progress.step, max_steps=progress.max_steps, epoch=progress.epoch,
            tokens_per_s=progress.tokens_per_s, eta_s=progress.eta_s, heartbeat_at=timezone.now(), seq=F("seq") + 1)
        run.refresh_from_db()
        publish_step(run, row)

    return report


def _style_examples(records: list) -> list[str]:
    from generation.training.data import to_messages

    texts = []
    for record in records[:32]:
        if "text" in record:
            texts.append(record["text"])
        else:
            replies = [m["content"] for m in to_messages(record) if m["role"] == "assistant"]
            texts.extend(replies[-1:])
    return texts


def _allowed(run: TrainingRun) -> bool:
    from accounts.permissions import decide, membership_for

    return bool(decide(membership_for(run.created_by, run.workspace_id), "training.manage"))


def run_training(run_id: int) -> None:
    """Task body: safe to run twice (a second delivery finds the run claimed and returns)."""
    from training.services import runs_sweep_stale

    if not _claim(run_id):
        runs_sweep_stale(ids=[run_id])  # its worker may have died: interrupted, resumed by the heal job
        return
    run = TrainingRun.objects.select_related("dataset_version", "workspace").get(pk=run_id)
    publish_state(run_id)
    if not _allowed(run):
        run_log(run_id, "Not run: whoever started it may no longer train models in this workspace.")
        _fail(run_id, "Not run: whoever started it may no longer train models in this workspace.")
        return
    if run.dataset_version is None:
        _fail(run_id, "Its dataset version was deleted before it ran.")
        return
    with Beat(run_id) as beat:
        try:
            _train_and_evaluate(run, beat.stop)
        except Exception as exc:
            from generation.training.failures import explain

            logger.exception("training run %s failed", run_id)
            message = explain(exc)
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            run_log(run_id, f"Failed: {last[:2000]}")
            _fail(run_id, message)
        finally:
            connection.close()


def _train_and_evaluate(run: TrainingRun, stop: threading.Event) -> None:
    from generation.finetune import FinetuneParams
    from generation.training.launch import train

    train_records, validation_records = version_records(run.dataset_version)
    params = FinetuneParams(**run.params, output_dir=run.output_dir, validation_records=validation_records or None)
    resumed = run.step > 0
    run_log(run.pk, f"{'Resuming' if resumed else 'Starting'} on {worker_id()}: {len(train_records)} training records, "
                    f"{run.processes} process{'es' if run.processes > 1 else ''}.")
    result = train(run.base_spec, train_records, params, processes=run.processes, on_progress=_on_progress(run),
                   should_stop=stop.is_set, on_log=lambda line: run_log(run.pk, line), resume=True)
    metrics = result.metrics
    TrainingRun.objects.filter(pk=run.pk).update(
        metrics=metrics, data_hash=result.metadata.get("data_hash", ""), step=result.global_step,
        tokens_per_s=metrics.get("tokens_per_s"), eta_s=None)
    if result.cancelled:
        run_log(run.pk, f"Cancelled at step {result.global_step}; its checkpoint is kept, so it can be resumed.")
        _set(run.pk, status=TrainingRun.Status.CANCELLED, finished_at=timezone.now())
        return
    run_log(run.pk, f"Trained {result.global_step} steps in {metrics.get('train_seconds', 0):.0f} s "
                    f"({metrics.get('tokens_per_s') or 0:.0f} tokens/s). Evaluating base vs tuned…")
    _set(run.pk, status=TrainingRun.Status.EVALUATING)
    evaluation = _evaluate(run, train_records, validation_records, params)
    version = _add_candidate(run, evaluation)
    _set(run.pk, status=TrainingRun.Status.COMPLETED, evaluation=evaluation, model_version=version,
         finished_at=timezone.now())
    run_log(run.pk, f"Finished: candidate model “{version.name}” is in the catalog, waiting to be promoted.")


def _evaluate(run: TrainingRun, train_records: list, validation_records: list, params) -> dict:
    """Base vs tuned on the run's validation records (the same split finetune() held out)."""
    from generation.training.data import split_records
    from generation.training.report import compare_models, sample_prompts

    if not validation_records:
        train_records, validation_records = split_records(train_records, params.validation_fraction, params.seed)
    if not validation_records:
        return {}
    return compare_models(
        run.base_spec, run.output_dir, validation_records, prompts=sample_prompts(validation_records, SAMPLE_PROMPTS),
        seed=params.seed, style_examples=_style_examples(train_records),
    )


def _add_candidate(run: TrainingRun, evaluation: dict):
    from pathlib import Path

    from catalog.services import model_add_candidate

    lineage = {"run": {"id": run.pk, "url": run.get_absolute_url(), "dataset": run.dataset_label,
                       "preset": run.preset}}
    return model_add_candidate(
        workspace=run.workspace, user=run.created_by, name=run.name, output_dir=Path(run.output_dir),
        evaluation=evaluation, lineage=lineage,
        description=f"Fine-tuned ({run.get_method_display()}, {run.get_preset_display().lower()}) on {run.dataset_label}.",
    )


def _fail(run_id: int, message: str) -> None:
    _set(run_id, status=TrainingRun.Status.FAILED, error=message, finished_at=timezone.now())
