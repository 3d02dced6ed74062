"""`make run`'s process runner: the whole stack, then a killed worker cluster."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from core.heartbeat import descendants
from tests.support import child_env, free_port


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def fetch(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
def test_run_serves_site_and_reports_killed_workers(tmp_path):
    from tests.support import ROOT

    port = free_port()
    env = child_env(
        connection.settings_dict, INKSTONE_PORT=str(port),
        INKSTONE_WORKER_HEARTBEAT_SECONDS="0.5", INKSTONE_WORKER_STALE_SECONDS="3",
    )
    # Redis is already up (the session's embedded one, or REDIS_URL's): a second embedded
    # server on the same socket is refused, see test_embedded_redis_refuses_a_second_instance.
    runner = subprocess.Popen(
        [sys.executable, "-m", "core.runner", "web", "generation", "training"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "run.log", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        status, report = None, None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and status != 200:
            try:
                status, report = fetch(url)
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.5)
        assert status == 200, (tmp_path / "run.log").read_text()[-3000:]

        # kill -9 every worker process of this run, parents and children alike
        pids = [pid for pid in descendants(runner.pid) if b"manage.py\x00worker" in cmdline(pid)]
        assert pids
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        workers_up = True
        while time.monotonic() < deadline and workers_up:
            status, report = fetch(url)
            workers_up = any(w["ok"] for w in report["workers"].values())
            time.sleep(0.5)
        assert status == 503  # the site keeps serving and says the workers are down
        assert not workers_up, report
    finally:
        os.killpg(runner.pid, signal.SIGINT)
        try:
            runner.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
    assert runner.returncode is not None


def test_embedded_redis_refuses_a_second_instance(redis_service, settings):
    if not settings.USES_EMBEDDED_REDIS:
        pytest.skip("REDIS_URL is set: no embedded Redis")
    from tests.support import ROOT

    result = subprocess.run([sys.executable, "manage.py", "embedded_redis"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "already running" in result.stderr
