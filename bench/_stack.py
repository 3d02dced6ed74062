"""The real Inkstone stack for the end-to-end benches: the Procfile's own commands (embedded
Redis, web, a generation worker) on a scratch data dir, a signed-in bench user with an API token,
and a small HTTP/WebSocket client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(data_dir: Path) -> None:
    os.environ["INKSTONE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    import django

    django.setup()


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def procfile_command(name: str) -> str:
    from honcho.environ import parse_procfile

    return parse_procfile((ROOT / "Procfile").read_text()).processes[name]


class Stack:
    """`with Stack(**worker_env) as stack:` Redis + web + one generation worker, ready and warm.

    `workers`: the worker clusters to start (e.g. ("training",)); `role`: the bench user's role."""

    def __init__(self, workers: tuple[str, ...] = ("generation",), role: str = "writer", **env: str):
        self.env = env
        self.workers = workers
        self.role = role
        self.processes: list[subprocess.Popen] = []
        self.data_dir = Path(tempfile.mkdtemp(prefix="inkstone-bench-"))
        self.port = 8700 + os.getpid() % 200

    def start(self, name: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}", "INKSTONE_PORT": str(self.port),
               "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", **self.env}
        log = open(self.data_dir / f"{name}.log", "wb")
        process = subprocess.Popen(procfile_command(name), shell=True, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def __enter__(self) -> Stack:
        models = ROOT / "var" / "models"
        if models.exists():  # reuse the converted default model instead of converting again
            shutil.copytree(models, self.data_dir / "models", symlinks=True)
        os.environ.update(self.env)
        setup_django(self.data_dir)
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client as DjangoClient

        from accounts.models import User
        from accounts.services import membership_set, workspace_create
        from accounts.tokens import api_token_create

        call_command("migrate", verbosity=0)
        call_command("default_model", verbosity=0)
        if settings.USES_EMBEDDED_REDIS:
            self.start("redis")
        self.start("web")
        for worker in self.workers:
            self.start(worker)
        user = User.objects.create_user("bench", password="bench-password-1")
        self.workspace = workspace_create(name="Bench", starter_content=False)
        self.user = user
        membership_set(workspace=self.workspace, user=user, role=self.role)
        _, key = api_token_create(user=user, name="bench")
        django_client = DjangoClient()
        django_client.force_login(user)
        self.base = f"http://127.0.0.1:{self.port}"
        self.key = key
        self.cookie = f"sessionid={django_client.cookies['sessionid'].value}"
        wait_until(self.up, 120, "the stack (web, Redis, worker)")
        return self

    def up(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                report = json.loads(response.read())
        except urllib.error.HTTPError as error:
            report = json.loads(error.read())
        except OSError:
            return False
        return report["channel_layer"]["ok"] and all(report["workers"][name]["ok"] for name in self.workers)

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, 15)
                process.wait(10)
            except Exception:  # noqa: BLE001 - best effort: it may have stopped already
                pass
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # ------------------------------------------------------------------ client

    def post_generation(self, body: dict) -> dict:
        return self.api("POST", "/api/generations/", body)

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode() if body is not None else None, method=method,
            headers={"Authorization": f"Token {self.key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def websocket(self, path: str):
        import websockets

        return websockets.connect(self.base.replace("http", "ws") + path, max_size=None, open_timeout=60,
                                  additional_headers={"Cookie": self.cookie, "Origin": self.base})
