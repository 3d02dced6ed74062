"""Planning, starting, cancelling, resuming and healing training runs (the worker is not run here)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone
from django_q.models import OrmQ

from catalog.models import ModelVersion
from tests.training.conftest import VOICE, jsonl
from training import services
from training.models import TrainingRun
from training.services import RunRequest, TrainingError


def queued_tasks() -> list[tuple[str, tuple]]:
    return [(task.func(), task.args()) for task in OrmQ.objects.all() if task.task()]


@pytest.fixture
def request_for(voice_version, tiny_model):
    def make(**kw):
        return RunRequest(dataset_version=voice_version, **kw)

    return make


def test_plan_says_what_the_preset_chose_and_estimates_the_work(workspace, request_for):
    planned = services.run_plan(workspace=workspace, request=request_for(preset="quick"))
    plan = planned.plan
    assert plan.train_records + plan.val_records == len(VOICE)
    assert plan.optimizer_steps > 0 and plan.tokens > 0 and plan.memory_bytes > 0
    assert plan.reasons and all(isinstance(reason, str) and reason for reason in plan.reasons)
    assert "drawn with the run's seed" in planned.validation
    assert plan.seconds is None and plan.rough_seconds  # nothing measured yet: a rough figure


def test_an_override_wins_and_unknown_or_bad_settings_name_their_field(workspace, request_for):
    planned = services.run_plan(workspace=workspace, request=request_for(params={"learning_rate": 0.0005}))
    assert planned.params["learning_rate"] == 0.0005
    with pytest.raises(TrainingError) as bad:
        services.run_plan(workspace=workspace, request=request_for(params={"learning_rate": -1}))
    assert bad.value.errors == {"learning_rate": "Learning rate must be > 0."}
    with pytest.raises(TrainingError) as unknown:
        services.run_plan(workspace=workspace, request=request_for(params={"learning_rat": 1e-4}))
    assert "Unknown setting: learning_rat" in unknown.value.errors["params"]


def test_refuses_a_version_without_usable_records_and_another_workspaces_version(
        workspace, other_workspace, admin, tiny_model):
    from corpora.services import dataset_create_from_upload

    theirs = dataset_create_from_upload(workspace=other_workspace, user=None, name="Theirs",
                                        files=[SimpleUploadedFile("a.jsonl", jsonl(VOICE[:4]))])
    with pytest.raises(TrainingError) as other:
        services.run_plan(workspace=workspace, request=RunRequest(dataset_version=theirs))
    assert other.value.errors == {"dataset_version": "Not found in this workspace."}
    empty = dataset_create_from_upload(workspace=workspace, user=admin, name="Empty",
                                       files=[SimpleUploadedFile("a.jsonl", jsonl(VOICE[:2]))])
    empty.record_count = 0
    empty.save()
    with pytest.raises(TrainingError) as nothing:
        services.run_plan(workspace=workspace, request=RunRequest(dataset_version=empty))
    assert "has no usable records" in nothing.value.errors["dataset_version"]


def test_refuses_a_full_fine_tune_of_a_gguf_only_model(workspace, request_for):
    ModelVersion.objects.create(workspace=workspace, name="ggufy", kind="gguf", source="/m/x.gguf", spec="/m/x.gguf",
                                status="promoted")
    with pytest.raises(TrainingError) as full:
        services.run_plan(workspace=workspace, request=request_for(base_model="ggufy", method="full"))
    assert "GGUF file only" in full.value.errors["method"]


def test_refuses_a_run_whose_output_would_overwrite_another(workspace, admin, request_for, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    run = services.run_create(workspace=workspace, user=admin, request=request_for(name="pirate-lora"))
    assert run.output_dir == str(tmp_path / "adapters" / workspace.slug / "pirate-lora")
    with pytest.raises(TrainingError) as again:
        services.run_create(workspace=workspace, user=admin, request=request_for(name="pirate-lora"))
    assert "would be overwritten" in again.value.errors["name"]
    (tmp_path / "adapters" / workspace.slug / "by-hand").mkdir(parents=True)
    with pytest.raises(TrainingError) as folder:
        services.run_create(workspace=workspace, user=admin, request=request_for(name="by-hand"))
    assert "already in this workspace's adapters folder" in folder.value.errors["name"]
    assert TrainingRun.objects.count() == 1  # nothing half-written


def test_create_queues_the_run_on_the_training_cluster_with_the_plan(
        workspace, admin, request_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_create(workspace=workspace, user=admin, request=request_for())
    assert run.status == "queued" and run.name == "pirate-voice-v1-lora"
    assert run.max_steps == run.plan["optimizer_steps"] and run.plan["reasons"]
    assert run.params["validation_fraction"] == 0.1
    task = OrmQ.objects.get()
    assert task.key == "training" and task.func() == "training.tasks.run_training" and task.args() == (run.pk,)
    assert services.queue_position(run) == 0


def test_queue_position_counts_runs_ahead(workspace, admin, request_for):
    first = services.run_create(workspace=workspace, user=admin, request=request_for(name="one"))
    second = services.run_create(workspace=workspace, user=admin, request=request_for(name="two"))
    third = services.run_create(workspace=workspace, user=admin, request=request_for(name="three"))
    TrainingRun.objects.filter(pk=first.pk).update(status="running")
    assert services.queue_position(second) == 1 and services.queue_position(third) == 2
    first.refresh_from_db()
    assert services.queue_position(first) is None


def test_cancel_a_queued_run_at_once_and_a_running_one_by_request(workspace, admin, request_for):
    waiting = services.run_create(workspace=workspace, user=admin, request=request_for(name="waiting"))
    services.run_cancel(run=waiting)
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and waiting.finished_at and "Cancelled" in waiting.log
    running = services.run_create(workspace=workspace, user=admin, request=request_for(name="running"))
    TrainingRun.objects.filter(pk=running.pk).update(status="running")
    running.refresh_from_db()
    services.run_cancel(run=running)
    running.refresh_from_db()
    assert running.status == "running" and running.cancel_requested  # the worker stops after its step
    done = services.run_create(workspace=workspace, user=admin, request=request_for(name="done"))
    TrainingRun.objects.filter(pk=done.pk).update(status="completed")
    done.refresh_from_db()
    with pytest.raises(TrainingError, match="nothing to cancel"):
        services.run_cancel(run=done)


def test_a_run_being_evaluated_cannot_be_cancelled(client, workspace, admin, request_for):
    """The worker stops looking for a cancel once training is done: a cancel then would say
    "Cancelling" and still end in a completed run with a candidate. So it is refused, and not offered."""
    run = services.run_create(workspace=workspace, user=admin, request=request_for(name="judged"))
    TrainingRun.objects.filter(pk=run.pk).update(status="evaluating")
    run.refresh_from_db()
    with pytest.raises(TrainingError, match="being evaluated"):
        services.run_cancel(run=run)
    run.refresh_from_db()
    assert not run.cancel_requested
    client.force_login(admin)
    assert ">Cancel</button>" not in client.get(run.get_absolute_url()).text


def test_resume_queues_a_stopped_run_again(workspace, admin, request_for, django_capture_on_commit_callbacks):
    run = services.run_create(workspace=workspace, user=admin, request=request_for())
    services.run_cancel(run=run)
    run.refresh_from_db()
    OrmQ.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.run_resume(run=run)
    run.refresh_from_db()
    assert run.status == "queued" and not run.cancel_requested and OrmQ.objects.count() == 1
    assert "starts from the beginning" in run.log and "last checkpoint" not in run.log  # it never trained
    with pytest.raises(TrainingError, match="only an interrupted, cancelled or failed run"):
        services.run_resume(run=run)


def test_a_run_whose_worker_stopped_beating_is_interrupted_then_queued_again(
        workspace, admin, request_for, django_capture_on_commit_callbacks):
    run = services.run_create(workspace=workspace, user=admin, request=request_for())
    TrainingRun.objects.filter(pk=run.pk).update(status="running", attempts=1,
                                                 heartbeat_at=timezone.now() - timedelta(minutes=5))
    OrmQ.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runs_sweep_stale() == 1
    run.refresh_from_db()
    assert run.status == "interrupted" and "last checkpoint" in run.error
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runs_requeue() == 1
    run.refresh_from_db()
    assert run.status == "queued" and OrmQ.objects.count() == 1
    assert "interrupted" in run.log and "Queued again" in run.log


def test_a_run_that_keeps_killing_its_worker_fails_instead_of_looping(workspace, admin, request_for):
    run = services.run_create(workspace=workspace, user=admin, request=request_for())
    TrainingRun.objects.filter(pk=run.pk).update(status="running", attempts=services.MAX_ATTEMPTS,
                                                 heartbeat_at=timezone.now() - timedelta(minutes=5))
    services.runs_heal()
    run.refresh_from_db()
    assert run.status == "failed" and "out of memory" in run.error


def test_cancel_and_resume_do_not_count_as_worker_deaths(workspace, admin, request_for):
    """Every claim by a worker counts an attempt; a run cancelled and resumed twice had used up
    MAX_ATTEMPTS, and its first real worker death failed it as "stopped 3 times" (out of memory?)."""
    run = services.run_create(workspace=workspace, user=admin, request=request_for())
    TrainingRun.objects.filter(pk=run.pk).update(status="cancelled", attempts=services.MAX_ATTEMPTS)
    run.refresh_from_db()
    services.run_resume(run=run)
    TrainingRun.objects.filter(pk=run.pk).update(status="running", attempts=F("attempts") + 1,  # claimed, then died
                                                 heartbeat_at=timezone.now() - timedelta(minutes=5))
    services.runs_sweep_stale()
    run.refresh_from_db()
    assert run.status == "interrupted" and "out of memory" not in run.error


def test_a_live_run_is_left_alone(workspace, admin, request_for):
    run = services.run_create(workspace=workspace, user=admin, request=request_for())
    TrainingRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    services.runs_heal()
    run.refresh_from_db()
    assert run.status == "running"


def test_a_run_longer_than_the_training_workers_limit_is_refused(workspace, request_for):
    with pytest.raises(TrainingError) as long_run:
        services.run_plan(workspace=workspace, request=request_for(params={"max_steps": 10**8}))
    assert "a training run may take at most 6 h" in long_run.value.errors["params"]
