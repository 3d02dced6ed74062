"""Fault tests: `make run`'s runner with real processes, then something breaks.

`site(*processes, **env)` starts `python -m core.runner` on the test database and a free port
and waits until /healthz answers 200; it is stopped (Ctrl-C, as a person would) at the end.
Helpers poll with deadlines; none sleeps a fixed time to wait for something to happen.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.articles.conftest import smollm2_tokenizer_dir, tiny_model, tiny_model_dir, writer  # noqa: F401
from tests.support import ROOT, child_env, free_port


def wait_for(predicate, timeout: float, every: float = 0.1, message: str = "condition not met in time"):
    """The first true value of predicate(), polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(message() if callable(message) else message)
        time.sleep(every)


class Site:
    """A running `core.runner`, its log, its /healthz and the pids of its processes."""

    def __init__(self, log_path: Path, processes: tuple[str, ...], env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        unset = [name for name, value in env.items() if value is None]  # e.g. REDIS_URL=None: embedded Redis
        env = child_env(connection.settings_dict, INKSTONE_PORT=str(self.port), **{k: v for k, v in env.items() if v is not None})
        for name in unset:
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.runner", *processes], cwd=ROOT, env=env,
            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthz(self) -> tuple[int | None, dict | None]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None, None

    def wait_healthy(self, timeout: float = 60, predicate=lambda report: True) -> dict:
        def healthy():
            status, report = self.healthz()
            return report if status == 200 and predicate(report) else None

        return wait_for(healthy, timeout, every=0.2, message=lambda: f"not healthy: {self.healthz()}\n{self.log()[-4000:]}")

    def pid(self, name: str) -> int:
        """The pid of the latest start of a process ('generation.1')."""
        found = re.findall(rf"{re.escape(name)} started \(pid=(\d+)\)", self.log())
        assert found, self.log()[-3000:]
        return int(found[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def site(transactional_db, tmp_path):
    started = []

    def start(*processes: str, **env: str) -> Site:
        env = {"INKSTONE_WORKER_HEARTBEAT_SECONDS": "0.5", "INKSTONE_WORKER_STALE_SECONDS": "3", **env}
        running = Site(tmp_path / f"run{len(started)}.log", processes, env)
        started.append(running)
        running.wait_healthy()
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def session_cookie(client, writer):  # noqa: F811
    client.force_login(writer)
    return client.cookies["sessionid"].value
