"""The training worker, in-process, on the tiny random model: steps, evaluation, candidate,
cancel and resume, failures in plain words."""

import asyncio
import shutil
import threading
import time

import pytest

from training import services
from training.models import TrainingRun, TrainingStep
from training.runner import run_training

FAST = {"max_steps": 6, "save_steps": 2, "batch_size": 4, "max_seq_len": 64}


@pytest.fixture
def start(workspace, admin, voice_version, tiny_model, settings, tmp_path):
    settings.DATA_DIR = tmp_path

    def make(name="pirate-lora", method="lora", **params):
        return services.run_create(workspace=workspace, user=admin, request=services.RunRequest(
            dataset_version=voice_version, name=name, method=method, params={**FAST, **params}))

    return make


def listen_while(group: str, worker: threading.Thread) -> list[dict]:
    """The group's events while `worker` runs, read as they come (the channel layer drops
    messages older than a minute), in one event loop."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    async def listen():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        worker.start()
        events = []
        try:
            while True:
                try:
                    events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
                except TimeoutError:
                    if not worker.is_alive():
                        return events
        finally:
            await layer.group_discard(group, channel)

    try:
        return async_to_sync(listen)()
    finally:
        worker.join()


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_run_stores_each_step_once_evaluates_and_adds_a_candidate(start):
    run = start()
    worker = threading.Thread(target=run_training, args=(run.pk,))
    events = listen_while(run.group_name(), worker)
    run.refresh_from_db()
    assert run.status == "completed", (run.error, run.log)
    steps = list(run.steps.values_list("step", flat=True))
    assert steps == list(range(1, 7)) and run.step == run.max_steps == 6
    # the quick preset evaluates once, at the end: the validation curve has that point, not copies of it
    assert list(run.steps.exclude(val_loss=None).values_list("step", flat=True)) == [6]
    assert run.metrics["tokens_per_s"] > 0
    before, after = run.evaluation["before"], run.evaluation["after"]
    assert before["perplexity"] > 0 and after["perplexity"] > 0 and run.evaluation["samples"]
    sample = run.evaluation["samples"][0]
    assert sample["prompt"] and "base" in sample and "tuned" in sample
    version = run.model_version
    assert version.name == "pirate-lora" and version.status == "candidate" and version.kind == "lora"
    assert version.metadata["evaluation"] == run.evaluation and version.metadata["run"]["id"] == run.pk
    assert "Finished" in run.log and run.started_at <= run.finished_at
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and {e["type"] for e in events} >= {"training.step", "training.state", "training.log"}
    assert events[-1]["seq"] <= run.seq


@pytest.mark.django_db(transaction=True)
def test_running_the_task_twice_does_nothing_the_second_time(start):
    run = start()
    run_training(run.pk)
    run.refresh_from_db()
    finished, attempts = run.finished_at, run.attempts
    run_training(run.pk)
    run.refresh_from_db()
    assert (run.finished_at, run.attempts, run.status) == (finished, attempts, "completed")


@pytest.mark.django_db(transaction=True)
def test_cancel_keeps_a_checkpoint_and_resume_goes_on_without_repeating_steps(start):
    run = start(max_steps=12, save_steps=2)
    worker = threading.Thread(target=run_training, args=(run.pk,))
    worker.start()
    wait_for(lambda: TrainingStep.objects.filter(run=run, step__gte=3).exists())
    services.run_cancel(run=TrainingRun.objects.get(pk=run.pk))
    worker.join(60)
    run.refresh_from_db()
    assert run.status == "cancelled" and "checkpoint is kept" in run.log, run.log
    stopped_at = run.step
    assert 3 <= stopped_at < 12

    services.run_resume(run=run)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == "completed", run.error
    steps = list(run.steps.values_list("step", flat=True))
    assert steps == list(range(1, 13))  # one row per step, none missing, none twice
    assert run.attempts == 1 and "Resuming" in run.log  # claims since the admin's Resume


@pytest.mark.django_db(transaction=True)
def test_a_missing_base_model_fails_in_plain_words_and_keeps_the_log(start, tmp_path, tiny_model_dir):  # noqa: F811
    gone = tmp_path / "gone-model"
    shutil.copytree(tiny_model_dir, gone)
    run = start()
    TrainingRun.objects.filter(pk=run.pk).update(base_spec=str(gone))
    shutil.rmtree(gone)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "base model" in run.error.lower(), run.error
    assert "Starting" in run.log and "Failed" in run.log


@pytest.mark.django_db(transaction=True)
def test_a_diverging_run_says_the_loss_became_nan(start):
    run = start(method="full", learning_rate=1e30, max_grad_norm=0)  # overflows the weights in a few steps
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "nan" in run.error.lower() and "learning rate" in run.error.lower(), run.error


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_admin_was_demoted_is_not_run(start, admin, workspace):
    from accounts.services import membership_set

    run = start()
    membership_set(workspace=workspace, user=admin, role="writer")
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "may no longer train" in run.error and not run.steps.exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_with_two_training_processes_runs_data_parallel(start, settings):
    settings.INKSTONE_TRAINING_PROCESSES = 2
    run = start(max_steps=4)
    assert run.processes == 2
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == "completed", (run.error, run.log)
    assert list(run.steps.values_list("step", flat=True)) == [1, 2, 3, 4]  # rank 0's progress, once per step
    assert "2 processes" in run.log and run.model_version.status == "candidate"
