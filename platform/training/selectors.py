"""Reads of training runs for the pages and the WebSocket panel."""

from django.db.models import Count, Q

from accounts.permissions import can
from corpora.models import DatasetVersion, Record
from training import params as run_params
from training.chart import loss_chart
from training.models import TrainingRun
from training.services import RESUMABLE, queue_position

LOG_LINES = 200  # the run page shows the newest lines of the log
STATUS_FILTERS = TrainingRun.Status.choices


def run_list(*, workspace, status: str = ""):
    runs = TrainingRun.objects.filter(workspace=workspace).select_related("created_by")
    if status in TrainingRun.Status.values:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-pk")


def recent_runs(*, workspace, limit: int = 5) -> list[TrainingRun]:
    return list(run_list(workspace=workspace)[:limit])


def ready_versions(*, workspace):
    """Dataset versions one can train on, each with `validation_count` (its validation split)."""
    return (DatasetVersion.objects.filter(dataset__workspace=workspace, status=DatasetVersion.Status.READY,
                                          record_count__gt=0)
            .select_related("dataset")
            .annotate(validation_count=Count("records", filter=Q(records__split=Record.Split.VALIDATION)))
            .order_by("dataset__name", "-number"))


def duration(seconds) -> str:
    """'about 12 min', '40 s', '2 h 5 min'."""
    if seconds is None:
        return ""
    seconds = max(0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def log_tail(log: str, lines: int = LOG_LINES) -> str:
    return "\n".join(log.rstrip("\n").splitlines()[-lines:])


def plan_rows(run: TrainingRun) -> list[tuple[str, str]]:
    """The run's settings as (label, value), editable ones first."""
    rows = [(run_params.label(name), run_params.as_text(name, run.params[name]))
            for name in run_params.EDITABLE_PARAMS if name in run.params
            and not (run.method == TrainingRun.Method.FULL and name in run_params.LORA_ONLY)]
    return rows


def panel_context(run: TrainingRun, membership) -> dict:
    """Everything the live panel shows (progress, chart, log, buttons), for the page and the socket."""
    steps = list(run.steps.only("step", "train_loss", "val_loss").order_by("step"))
    may_manage = can(membership, "training.manage", run)
    return {
        "run": run,
        "seq": run.seq,
        "chart": loss_chart(steps, run.max_steps),
        "step_count": len(steps),
        "last_step": steps[-1] if steps else None,
        "last_val": next((s for s in reversed(steps) if s.val_loss is not None), None),
        "queue_position": queue_position(run),
        "eta": duration(run.eta_s) if run.status in TrainingRun.WORKING else "",
        "log": log_tail(run.log),
        "may_cancel": may_manage and run.status in TrainingRun.ACTIVE and run.status != TrainingRun.Status.EVALUATING
        and not run.cancel_requested,
        "may_resume": may_manage and run.status in RESUMABLE,
        "evaluation": run.evaluation or None,
    }
