"""Live events of training runs on the channel layer (transport only; the database is the truth).

Every event carries the run's sequence number `seq`: each published event (a step, a log line, a
state) takes the next number, after its effect is stored, so a watcher that joins late reads the run (steps, log, status) at some `seq`
and then takes only newer events.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from training.models import TrainingRun, TrainingStep, training_group


def publish(run_id: int, event: dict) -> None:
    """Best effort: a broken channel layer must not stop a run (everything is in the database)."""
    try:
        async_to_sync(get_channel_layer().group_send)(training_group(run_id), event)
    except Exception:  # noqa: BLE001 - transport failures are logged by channels; the state is stored
        pass


def run_state(run: TrainingRun) -> dict:
    """What a watcher needs besides the steps and the log."""
    return {
        "id": run.pk,
        "seq": run.seq,
        "status": run.status,
        "step": run.step,
        "max_steps": run.max_steps,
        "epoch": run.epoch,
        "progress_percent": run.progress_percent,
        "tokens_per_s": run.tokens_per_s,
        "eta_s": run.eta_s,
        "error": run.error,
        "cancel_requested": run.cancel_requested,
    }


def step_dict(step: TrainingStep) -> dict:
    return {"step": step.step, "epoch": step.epoch, "train_loss": step.train_loss, "val_loss": step.val_loss,
            "learning_rate": step.learning_rate, "tokens_per_s": step.tokens_per_s}


def publish_state(run_id: int) -> None:
    """Announce the run's stored state as an event of its own: it takes the next sequence number
    (each event has one; status changes themselves do not count)."""
    from django.db.models import F

    TrainingRun.objects.filter(pk=run_id).update(seq=F("seq") + 1)
    run = TrainingRun.objects.filter(pk=run_id).first()
    if run is not None:
        publish(run_id, {"type": "training.state", **run_state(run)})


def publish_step(run: TrainingRun, step: TrainingStep) -> None:
    publish(run.pk, {"type": "training.step", "id": run.pk, **run_state(run), "row": step_dict(step)})


def publish_log(run_id: int, seq: int, line: str) -> None:
    publish(run_id, {"type": "training.log", "id": run_id, "seq": seq, "line": line})
