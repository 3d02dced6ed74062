"""Worker clusters beat and run the periodic jobs other apps register (real worker process)."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from articles import services
from articles.models import Generation
from core.heartbeat import forget_process
from core.models import WorkerHeartbeat
from tests.articles.conftest import collect_group
from tests.support import start_worker, stop


@pytest.mark.django_db(transaction=True)
def test_a_worker_cluster_marks_a_dead_workers_generation_interrupted_without_anyone_opening_a_page(
    make_member, workspace, tmp_path, settings
):
    writer = make_member("writer", workspace)
    generation = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi")).generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", worker="gone:1", text="Half a sen", seq=4,
                                                     heartbeat_at=timezone.now())
    receive, close = collect_group(generation.group_name())
    worker = start_worker(connection.settings_dict, "training", tmp_path / "training.log",
                          INKSTONE_WORKER_HEARTBEAT_SECONDS="0.5", INKSTONE_GENERATION_STALE_SECONDS="2")
    try:
        deadline = time.monotonic() + 60
        while Generation.objects.get(pk=generation.pk).status == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        generation.refresh_from_db()
        assert generation.status == "interrupted", (tmp_path / "training.log").read_text()[-2000:]
        assert generation.text == "Half a sen"
        states = [e for e in receive() if e["type"] == "generation.state"]
        assert [(e["status"], e["text"]) for e in states] == [("interrupted", "Half a sen")]
    finally:
        close()
        stop(worker)


def test_forgetting_a_dead_process_reports_its_cluster_down_at_once(db):
    import socket

    now = timezone.now()
    for pid in (101, 102):
        WorkerHeartbeat.objects.create(cluster="generation", hostname=socket.gethostname(), pid=pid, started_at=now,
                                       last_seen=now, restarts=2, restarted_at=now - timedelta(seconds=5))
    from core.health import workers_health

    assert workers_health()["generation"]["processes"] == 2
    assert workers_health()["generation"]["restarts"] == 4
    assert forget_process(pid=101) == 1
    report = workers_health()["generation"]
    assert report["ok"] and report["processes"] == 1 and report["restarts"] == 2
    assert report["last_restart"] == (now - timedelta(seconds=5)).isoformat()
    forget_process(pid=102)
    assert workers_health()["generation"]["ok"] is False
