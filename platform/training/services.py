"""Use cases of training: plan a run (the estimate shown before launch), start, cancel, resume,
and heal runs whose worker died. The worker side is training.runner."""

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Concat
from django.utils import timezone

from catalog.models import MODEL_NAME_RE, ModelVersion
from catalog.services import DEFAULT_KEY, UnknownModel, model_resolve, workspace_adapters_dir
from core.errors import FieldErrors
from corpora.models import DatasetVersion, Record
from training.events import publish_log, publish_state
from training.models import TrainingRun
from training.params import params_errors

logger = logging.getLogger(__name__)

MAX_LOG_CHARS = 200_000  # the log keeps its newest lines


class TrainingError(FieldErrors):
    """Bad training input, as {field: message}."""


@dataclass
class RunRequest:
    """Everything an admin chooses on the new-run page (or in the API)."""

    dataset_version: DatasetVersion | None = None
    base_model: str = ""  # "default" or a catalog model's name
    method: str = TrainingRun.Method.LORA
    preset: str = TrainingRun.Preset.QUICK
    name: str = ""
    params: dict = field(default_factory=dict)  # overrides of the preset's choices
    validation_fraction: float = 0.1  # used when the version has no validation split


@dataclass
class RunPlan:
    """What launching would do: the records, the preset's params and the estimate."""

    request: RunRequest
    base_spec: str
    base_label: str
    base_version: ModelVersion | None
    train_records: list
    validation_records: list
    validation: str  # where the validation records come from, in words
    plan: object  # generation.training.presets.TrainingPlan

    @property
    def params(self) -> dict:
        return dict(self.plan.params)


# --------------------------------------------------------------------------- planning


def version_records(version: DatasetVersion) -> tuple[list, list]:
    """(training records, validation records) of a version: its validation split, if it has one,
    is the validation set; every other record trains."""
    train, validation = [], []
    for split, data in version.records.order_by("index").values_list("split", "data").iterator(chunk_size=2000):
        (validation if split == Record.Split.VALIDATION else train).append(data)
    return train, validation


_tokenizers: dict[str, object] = {}


def _tokenizer(spec: str):
    """The base model's tokenizer (cached per process: the page asks for estimates often)."""
    if spec not in _tokenizers:
        from transformers import AutoTokenizer

        from generation.models import resolve_model_dir

        _tokenizers[spec] = AutoTokenizer.from_pretrained(resolve_model_dir(spec))
    return _tokenizers[spec]


def _model_size(spec: str) -> tuple[int | None, dict | None]:
    """(rough weight count from the safetensors size, config.json) of the base, for the estimate."""
    import json

    from generation.models import resolve_model_dir

    try:
        folder = Path(resolve_model_dir(spec))
        size = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
        config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else None
    except Exception:  # noqa: BLE001 - only an estimate
        return None, None
    return (size // 4 or None), config


def measured_tokens_per_s(*, base_spec: str, method: str) -> float | None:
    """Training throughput this installation measured for the base model and method (the last
    finished run's), used to estimate a new run's time."""
    run = (TrainingRun.objects.filter(base_spec=base_spec, method=method, status=TrainingRun.Status.COMPLETED)
           .exclude(tokens_per_s=None).order_by("-finished_at").first())
    return run.tokens_per_s if run else None


def run_plan(*, workspace, request: RunRequest) -> RunPlan:
    """Check a run request and work out what it would do; raises TrainingError per field."""
    from generation.errors import GenerationError
    from generation.training.presets import PRESETS, plan_training

    errors = {}
    version = request.dataset_version
    if version is None:
        errors["dataset_version"] = "Pick the dataset version to train on."
    elif version.dataset.workspace_id != workspace.pk:
        errors["dataset_version"] = "Not found in this workspace."
    elif version.status != DatasetVersion.Status.READY:
        errors["dataset_version"] = f"{version} is {version.get_status_display().lower()}; pick a ready version."
    elif version.record_count == 0:
        errors["dataset_version"] = f"{version} has no usable records."
    if request.method not in TrainingRun.Method.values:
        errors["method"] = f"Choose {' or '.join(TrainingRun.Method.values)}."
    if request.preset not in PRESETS:
        errors["preset"] = f"Choose one of {', '.join(PRESETS)}."
    errors.update(params_errors(request.params))
    try:
        base = model_resolve(workspace, request.base_model or DEFAULT_KEY)
    except UnknownModel as exc:
        errors["base_model"] = str(exc)
        base = None
    if base is not None and base.version is not None:
        if base.version.kind == ModelVersion.Kind.LORA:
            errors["base_model"] = f"“{base.key}” is a LoRA adapter; pick the model it was trained on as the base."
        elif base.version.kind == ModelVersion.Kind.GGUF and request.method == TrainingRun.Method.FULL:
            errors["method"] = (f"“{base.key}” is a GGUF file only: a full fine-tune needs the model's own weights "
                                "(a model folder). Train a LoRA adapter on it instead.")
    if errors:
        raise TrainingError(errors)
    train, validation = version_records(version)
    has_split = bool(validation)
    if not train:
        raise TrainingError({"dataset_version": f"{version} has only validation records; nothing to train on."})
    fraction = request.validation_fraction
    if not has_split and not 0 < fraction < 1:
        raise TrainingError({"validation_fraction": "Choose a validation fraction between 0 and 1 (e.g. 0.1)."})
    if has_split:
        where = f"the version's validation split ({len(validation)} records)"
    else:
        where = f"{fraction:.0%} of the records, drawn with the run's seed"
    try:
        tokenizer = _tokenizer(base.spec)
    except (GenerationError, OSError, ValueError) as exc:
        raise TrainingError({"base_model": f"Cannot read the model “{base.key}”: {str(exc).splitlines()[0]}"}) from None
    parameters, config = _model_size(base.spec)
    try:
        plan = plan_training(
            train, tokenizer=tokenizer, preset=request.preset, method=request.method, overrides=request.params,
            validation_records=validation or None, validation_fraction=fraction,
            tokens_per_s=measured_tokens_per_s(base_spec=base.spec, method=request.method),
            model_parameters=parameters, model_config=config, processes=training_processes(),
        )
    except (GenerationError, ValueError) as exc:
        field_name = "dataset_version" if type(exc).__name__ == "DatasetError" else "params"
        raise TrainingError({field_name: str(exc)}) from None
    if problem := _too_long(plan):
        raise TrainingError({"params": problem})
    return RunPlan(request=request, base_spec=base.spec, base_label=base.label, base_version=base.version,
                   train_records=train, validation_records=validation, validation=where, plan=plan)


def _too_long(plan) -> str:
    """A run the training worker would stop at its time limit (the task's timeout) is refused."""
    seconds = plan.seconds or plan.rough_seconds
    limit = settings.Q_CLUSTER["ALT_CLUSTERS"]["training"]["timeout"]
    if seconds is None or seconds <= limit:
        return ""
    return (f"This run would take about {seconds / 3600:,.0f} h ({plan.optimizer_steps:,} optimizer steps); a training "
            f"run may take at most {limit / 3600:g} h. Lower the epochs, max steps or batch size.")


def suggested_name(*, workspace, dataset_version: DatasetVersion | None, method: str) -> str:
    """A free name such as saltbeard-pirate-voice-v1-lora."""
    stem = re.sub(r"[^a-z0-9]+", "-", (dataset_version.dataset.name if dataset_version else "voice").lower()).strip("-")
    stem = (stem or "voice")[:60]
    base = f"{stem}-v{dataset_version.number}-{method}" if dataset_version else f"{stem}-{method}"
    name, n = base, 1
    while _name_problem(workspace, name):
        n += 1
        name = f"{base}-{n}"
    return name


def _name_problem(workspace, name: str) -> str:
    if not re.match(MODEL_NAME_RE, name):
        return "Use letters, digits, dots, dashes and underscores, starting with a letter or digit."
    if name == DEFAULT_KEY:
        return "“default” is the bundled model's name; choose another."
    if TrainingRun.objects.filter(workspace=workspace, name=name).exists():
        return f"A training run named “{name}” exists; its output would be overwritten. Choose another name."
    if ModelVersion.objects.filter(workspace=workspace, name=name).exists():
        return f"This workspace already has a model named “{name}”; choose another name."
    if (workspace_adapters_dir(workspace) / name).exists():
        return f"A folder named “{name}” is already in this workspace's adapters folder; choose another name."
    return ""


# --------------------------------------------------------------------------- use cases


def run_create(*, workspace, user, request: RunRequest) -> TrainingRun:
    """Plan the run, store it and queue it on the training cluster (after commit)."""
    request.name = (request.name or "").strip() or suggested_name(
        workspace=workspace, dataset_version=request.dataset_version, method=request.method)
    if problem := _name_problem(workspace, request.name):
        raise TrainingError({"name": problem})
    planned = run_plan(workspace=workspace, request=request)
    version = request.dataset_version
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                workspace=workspace, name=request.name, created_by=user,
                dataset_version=version, dataset_label=str(version), base_model=planned.base_version,
                base_label=planned.base_label, base_spec=planned.base_spec, method=request.method,
                preset=request.preset, params=planned.params, plan=planned.plan.to_json(),
                validation=planned.validation, output_dir=str(workspace_adapters_dir(workspace) / request.name),
                processes=training_processes(), max_steps=planned.plan.optimizer_steps,
            )
            if not planned.validation_records:
                run.params["validation_fraction"] = request.validation_fraction
                run.save(update_fields=["params"])
            _enqueue(run)
    except IntegrityError:  # a concurrent request took the name
        raise TrainingError({"name": f"A training run named “{request.name}” exists; choose another name."}) from None
    return run


def training_processes() -> int:
    """Processes per run on a training worker: INKSTONE_TRAINING_PROCESSES, else one per GPU."""
    from generation.training.launch import training_processes as choose

    return choose(settings.INKSTONE_TRAINING_PROCESSES)


def _enqueue(run: TrainingRun) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task("training.tasks.run_training", run.pk, cluster="training", task_name=f"training-{run.pk}")
    )


@transaction.atomic
def run_cancel(*, run: TrainingRun) -> TrainingRun:
    """A waiting run is cancelled at once; a running one stops after its current step, keeping a
    checkpoint (so it can be resumed)."""
    waiting = (TrainingRun.Status.QUEUED, TrainingRun.Status.INTERRUPTED)
    if run.status in waiting:
        TrainingRun.objects.filter(pk=run.pk, status__in=waiting).update(
            status=TrainingRun.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now())
        run_log(run.pk, "Cancelled before it ran again.")
    elif run.status == TrainingRun.Status.EVALUATING:  # the worker no longer looks for a cancel
        raise TrainingError({"status": "Training is done and the run is being evaluated; it cannot be cancelled now. "
                                       "Delete its candidate on the Models page if you do not want it."})
    elif run.status in TrainingRun.WORKING:
        TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    else:
        raise TrainingError({"status": f"This run is {run.get_status_display().lower()}; there is nothing to cancel."})
    run.refresh_from_db()
    transaction.on_commit(lambda: publish_state(run.pk))
    return run


RESUMABLE = (TrainingRun.Status.INTERRUPTED, TrainingRun.Status.CANCELLED, TrainingRun.Status.FAILED)


@transaction.atomic
def run_resume(*, run: TrainingRun) -> TrainingRun:
    """Queue a stopped run again; it goes on from its last checkpoint (or starts over without one)."""
    if run.status not in RESUMABLE:
        raise TrainingError({"status": f"This run is {run.get_status_display().lower()}; only an interrupted, "
                                       "cancelled or failed run can be resumed."})
    if run.dataset_version_id is None:
        raise TrainingError({"dataset_version": "Its dataset version was deleted; start a new run."})
    if TrainingRun.objects.filter(pk=run.pk, status__in=RESUMABLE).update(
            status=TrainingRun.Status.QUEUED, cancel_requested=False, error="", finished_at=None,
            attempts=0):  # an admin's Resume starts a fresh count of worker deaths (MAX_ATTEMPTS)
        run_log(run.pk, "Queued again; it goes on from its last checkpoint." if run.step
                else "Queued again; it had not trained a step, so it starts from the beginning.")
        _enqueue(run)
    run.refresh_from_db()
    transaction.on_commit(lambda: publish_state(run.pk))
    return run


def run_log(run_id: int, message: str) -> None:
    """Append a timestamped line to the run's log (its newest MAX_LOG_CHARS are kept) and tell
    the watchers."""
    from django.db.models import TextField, Value

    line = f"{timezone.now():%H:%M:%S} {message}"
    TrainingRun.objects.filter(pk=run_id).update(
        log=Concat(F("log"), Value(line + "\n", output_field=TextField())), seq=F("seq") + 1)
    run = TrainingRun.objects.filter(pk=run_id).only("log", "seq").first()
    if run is None:
        return
    if len(run.log) > MAX_LOG_CHARS:
        kept = run.log[-MAX_LOG_CHARS:]
        TrainingRun.objects.filter(pk=run_id).update(log=kept[kept.find("\n") + 1:])
    transaction.on_commit(lambda: publish_log(run_id, run.seq, line))


def queue_position(run: TrainingRun) -> int | None:
    """How many runs go before this queued one (running ones included); None unless queued."""
    if run.status != TrainingRun.Status.QUEUED:
        return None
    return TrainingRun.objects.filter(status__in=TrainingRun.WORKING).count() + TrainingRun.objects.filter(
        status=TrainingRun.Status.QUEUED, created_at__lt=run.created_at).count()


# --------------------------------------------------------------------------- healing


MAX_ATTEMPTS = 3
GAVE_UP_ERROR = ("The training worker stopped {} times while running this run (was it out of memory?). "
                 "The log is kept; try a smaller batch or max_seq_len, then Resume.")
INTERRUPTED_ERROR = "The training worker stopped; the run goes on from its last checkpoint when a worker is back."


def runs_sweep_stale(*, older_than_s: float | None = None, ids=None) -> int:
    """Runs whose worker stopped beating are marked interrupted (their checkpoints are kept)."""
    older_than_s = older_than_s or settings.INKSTONE_TRAINING_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stale = TrainingRun.objects.filter(status__in=TrainingRun.WORKING, heartbeat_at__lt=cutoff)
    if ids is not None:
        stale = stale.filter(pk__in=ids)
    swept = 0
    for pk, attempts in stale.values_list("pk", "attempts"):
        if attempts >= MAX_ATTEMPTS:  # it keeps killing its worker (out of memory?): do not loop
            update, line = {"status": TrainingRun.Status.FAILED, "error": GAVE_UP_ERROR.format(attempts),
                            "finished_at": timezone.now()}, "The worker stopped beating again: failed."
        else:
            update, line = {"status": TrainingRun.Status.INTERRUPTED, "error": INTERRUPTED_ERROR}, \
                "The worker stopped beating: interrupted."
        if stale.filter(pk=pk).update(**update):
            swept += 1
            run_log(pk, line)
            transaction.on_commit(lambda pk=pk: publish_state(pk))
    return swept


def runs_requeue(*, older_than_s: float | None = None) -> int:
    """Interrupted runs (not cancelled) are queued again, and queued runs whose task a dead worker
    had taken get a new task. A duplicate task is harmless: the runner claims a run atomically."""
    from django_q.brokers import get_broker

    requeued = 0
    for pk in TrainingRun.objects.filter(status=TrainingRun.Status.INTERRUPTED, cancel_requested=False).values_list("pk", flat=True):
        if TrainingRun.objects.filter(pk=pk, status=TrainingRun.Status.INTERRUPTED).update(
                status=TrainingRun.Status.QUEUED):
            run_log(pk, "Queued again to resume from its last checkpoint.")
            _enqueue(TrainingRun(pk=pk))
            transaction.on_commit(lambda pk=pk: publish_state(pk))
            requeued += 1
    if TrainingRun.objects.filter(status__in=TrainingRun.WORKING).exists() or get_broker("training").queue_size():
        return requeued  # a worker is busy or a task is waiting: nothing is hidden
    cutoff = timezone.now() - timedelta(seconds=older_than_s or settings.INKSTONE_TRAINING_STALE_SECONDS)
    for run in TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED, created_at__lt=cutoff):
        _enqueue(run)
        requeued += 1
    return requeued


def runs_heal() -> None:
    """Periodic job of every worker cluster (settings.WORKER_PERIODIC_JOBS)."""
    swept, requeued = runs_sweep_stale(), runs_requeue()
    if swept or requeued:
        logger.info("training runs: %d interrupted, %d queued again", swept, requeued)
