"""kill -9 of the training worker mid-run under `make run`'s runner: the run is interrupted
within the stale threshold, resumes from its checkpoint on the restarted worker and finishes
with the planned steps, each stored once."""

import json
import os
import signal
import time

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.faults.conftest import wait_for
from tests.training.conftest import VOICE, jsonl
from training import services
from training.models import TrainingRun

STALE_S = 3


def test_a_killed_training_worker_resumes_the_run_from_its_checkpoint(site, make_member, workspace, tiny_model,
                                                                      settings, tmp_path):
    from corpora.services import dataset_create_from_upload

    admin = make_member("admin", workspace)
    version = dataset_create_from_upload(workspace=workspace, user=admin, name="Voice",
                                         files=[SimpleUploadedFile("v.jsonl", jsonl(VOICE))])
    running = site("web", "generation", "training", INKSTONE_DEFAULT_MODEL=tiny_model,
                   INKSTONE_TRAINING_STALE_SECONDS=str(STALE_S))
    settings.DATA_DIR = tmp_path  # the run's folder (its path is stored with the run)
    run = services.run_create(workspace=workspace, user=admin, request=services.RunRequest(
        dataset_version=version, params={"max_steps": 120, "save_steps": 10, "batch_size": 4, "max_seq_len": 64}))
    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).step >= 15, 120, message=running.log)

    killed_at = time.monotonic()
    os.kill(running.pid("training.1"), signal.SIGKILL)
    def off_the_dead_worker() -> bool:
        # interrupted, queued again, or already claimed by the restarted worker (a second attempt):
        # the heal job and the new worker may pass through the first two between two polls
        current = TrainingRun.objects.get(pk=run.pk)
        return current.status != "running" or current.attempts > 1

    wait_for(off_the_dead_worker, 30, every=0.1, message=running.log)
    left_running_s = time.monotonic() - killed_at
    assert left_running_s <= STALE_S + 5  # the heal job runs every beat (0.5 s here)

    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).status in TrainingRun.DONE, 240, every=0.5,
             message=lambda: running.log()[-3000:] + TrainingRun.objects.get(pk=run.pk).log)
    run.refresh_from_db()
    assert run.status == "completed", (run.error, run.log)
    steps = list(run.steps.values_list("step", flat=True))
    assert steps == list(range(1, 121))  # the planned steps, none twice
    assert run.attempts == 2 and "interrupted" in run.log and "Resuming" in run.log
    assert run.model_version is not None and run.model_version.status == "candidate"
    print(json.dumps({"fault": "training worker SIGKILL", "left_running_s": round(left_running_s, 2),
                      "stale_threshold_s": STALE_S, "steps": len(steps)}))
