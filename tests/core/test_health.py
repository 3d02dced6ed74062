import json
import os
import signal
import time

import pytest
from django.db import connection

from tests.support import start_worker, stop


def get_health(client):
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content)


def test_healthz_reports_database_and_channel_layer_round_trip(client, db):
    status, report = get_health(client)
    assert report["database"]["ok"] is True, report
    assert report["channel_layer"] == {"ok": True, "backend": "RedisChannelLayer"}


def test_healthz_is_503_without_workers(client, db):
    status, report = get_health(client)
    assert status == 503
    assert report["status"] == "down"
    assert report["workers"]["generation"]["ok"] is False
    assert report["workers"]["training"]["last_heartbeat"] is None


def test_healthz_reports_channel_layer_down(client, db, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        status, report = get_health(client)
    finally:
        channel_layers.backends.clear()
    assert status == 503
    assert report["channel_layer"]["ok"] is False
    assert report["channel_layer"]["error"]


@pytest.mark.django_db(transaction=True)
def test_real_worker_clusters_beat_and_are_reported_down_once_killed(client, settings, tmp_path):
    settings.WORKER_STALE_AFTER_SECONDS = 3
    env = {"INKSTONE_WORKER_HEARTBEAT_SECONDS": "0.5"}
    workers = [
        start_worker(connection.settings_dict, cluster, tmp_path / f"{cluster}.log", **env)
        for cluster in ("generation", "training")
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, report = get_health(client)
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, (report, (tmp_path / "generation.log").read_text())
        assert report["workers"]["generation"]["processes"] == 1

        for worker in workers:  # kill -9 the whole cluster: parent, sentinel, workers
            os.killpg(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, report = get_health(client)
            if not any(w["ok"] for w in report["workers"].values()):
                break
            time.sleep(0.5)
        assert status == 503
        assert report["workers"]["generation"]["ok"] is False
        assert report["workers"]["training"]["ok"] is False
        assert report["database"]["ok"] and report["channel_layer"]["ok"]
    finally:
        for worker in workers:
            stop(worker)
