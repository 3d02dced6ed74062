"""`make run`'s process runner: restarts what dies, stops everything on Ctrl-C, gives up on a web
server that cannot start."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.support import ROOT, child_env, free_port


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").glob("*/children") for child in task.read_text().split()]


def alive(pid: int) -> bool:
    """Running (a zombie that nobody reaped yet counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def process_group(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def fetch(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(predicate, timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (urllib.error.URLError, ConnectionError):
            value = None
        if value:
            return value
        time.sleep(every)
    return None


@pytest.mark.django_db(transaction=True)
def test_killed_worker_clusters_are_restarted_without_their_orphans_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    env = child_env(
        connection.settings_dict, INKSTONE_PORT=str(port),
        # a heartbeat goes stale only after a minute: down at once can only be the runner's doing
        INKSTONE_WORKER_HEARTBEAT_SECONDS="0.5", INKSTONE_WORKER_STALE_SECONDS="60",
    )
    # Redis is already up (the session's embedded one, or REDIS_URL's): a second embedded
    # server on the same socket is refused, see test_embedded_redis_refuses_a_second_instance.
    log = tmp_path / "run.log"
    runner = subprocess.Popen(
        [sys.executable, "-m", "core.runner", "web", "generation", "training"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        assert wait_for(lambda: fetch(url)[0] == 200, 60), log.read_text()[-3000:]

        # kill -9 only the cluster parents: their sentinels and workers are left as orphans
        parents = [pid for pid in children(runner.pid) if cmdline(pid).endswith(b"manage.py\x00worker\x00")]
        assert len(parents) == 2
        orphans = [pid for parent in parents for pid in process_group(parent) if pid != parent]
        assert len(orphans) >= 4  # each: sentinel, monitor, pusher, worker
        killed_at = time.monotonic()
        for pid in parents:
            os.kill(pid, signal.SIGKILL)
        down = wait_for(lambda: not any(w["ok"] for w in fetch(url)[1]["workers"].values()), 10, every=0.05)
        assert down, fetch(url)  # being restarted: down until the new processes beat

        def restarted():
            status, report = fetch(url)
            workers = report["workers"].values()
            return status == 200 and all(w["restarts"] == 1 for w in workers) and report

        report = wait_for(restarted, 60)
        assert report, (fetch(url), log.read_text()[-3000:])
        print(json.dumps({"fault": "worker parents SIGKILL", "healthz_200_again_s": round(time.monotonic() - killed_at, 2)}))
        assert not [pid for pid in orphans if alive(pid)]  # killed before the restart: never twice
        output = log.read_text()
        assert "generation.1 exited (SIGKILL); restarting in 1 s, restart #1" in output
        assert "training.1 exited (SIGKILL); restarting in 1 s, restart #1" in output
        leaders = children(runner.pid)  # each process runs in its own group
    finally:
        stopping_at = time.monotonic()
        os.killpg(runner.pid, signal.SIGINT)
        try:
            runner.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
    stopped_in = time.monotonic() - stopping_at
    assert stopped_in < 8, log.read_text()[-3000:]
    print(json.dumps({"ctrl_c_stopped_everything_s": round(stopped_in, 2)}))
    assert runner.returncode == 128 + signal.SIGINT
    assert not [pid for leader in leaders for pid in process_group(leader) if alive(pid)]


def test_a_crashing_process_is_restarted_with_backoff_and_a_web_server_that_cannot_start_stops_the_run(tmp_path):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    (tmp_path / "Procfile").write_text(
        f"web: cd {ROOT} && exec daphne --bind 127.0.0.1 --port {port} config.asgi:application\n"
        "flaky: exec sh -c 'echo flaky here; exit 3'\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "core.runner"], cwd=tmp_path, env=child_env(connection.settings_dict),
                            capture_output=True, text=True, timeout=120)
    taken.close()
    output = result.stdout
    assert result.returncode == 1, output
    assert "web.1 cannot start: it exited 5 times in a row within 10 s of starting (last: exit code 1)" in output
    assert "Address already in use" in output[output.index("Its last output:"):]  # to say why
    for delay, n in (("1", 1), ("2", 2), ("4", 3)):
        assert f"flaky.1 exited (exit code 3); restarting in {delay} s, restart #{n}" in output
    print(json.dumps({"web_cannot_start_run_stopped_after_s": round(time.monotonic() - started, 1)}))


def test_embedded_redis_refuses_a_second_instance(redis_service, settings):
    if not settings.USES_EMBEDDED_REDIS:
        pytest.skip("REDIS_URL is set: no embedded Redis")

    result = subprocess.run([sys.executable, "manage.py", "embedded_redis"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "already running" in result.stderr
