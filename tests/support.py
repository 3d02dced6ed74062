"""Helpers for tests that start real processes: the ASGI server, worker clusters, Redis."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL that points a child process at the database the tests use."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "")
        password = quote(settings_dict.get("PASSWORD") or "")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "localhost"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    raise NotImplementedError(f"no DATABASE_URL for {engine}")


def child_env(settings_dict: dict, **extra: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url(settings_dict), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(extra)
    return env


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def start_asgi_server(settings_dict: dict, log_path: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--ws", "websockets-sansio", "--lifespan", "off", "--no-proxy-headers"],
        cwd=ROOT, env=child_env(settings_dict, **env), stdout=log, stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}"


def start_worker(settings_dict: dict, cluster: str, log_path: Path, **env: str) -> subprocess.Popen:
    log = open(log_path, "wb")
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT, env=child_env(settings_dict, Q_CLUSTER_NAME=cluster, **env),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Terminate a child (and, if it leads its own session, everything it started)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def html_text(html: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed (to compare with a page)."""
    from html.parser import HTMLParser

    parts: list[str] = []

    class Collector(HTMLParser):
        def handle_data(self, data):
            parts.append(data)

    Collector().feed(html)
    return " ".join("".join(parts).split())


class LiveClient:
    """A cookie-keeping HTTP client for a live server (urllib; no redirects followed), which
    sends Django's CSRF token with every POST. `request()` returns (status, headers, body)."""

    def __init__(self, base_url: str):
        import http.cookiejar
        import urllib.request

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None,
                csrf: bool = True):
        import urllib.error
        import urllib.parse
        import urllib.request

        body = None
        headers = {"Referer": self.base_url + path, **(headers or {})}
        if method == "POST" and not csrf:
            body = urllib.parse.urlencode(data or {}).encode()
        elif method == "POST":
            token = next((c.value for c in self.cookies if c.name == "csrftoken"), None)
            if token is None:
                self.request("GET", path)
                token = next(c.value for c in self.cookies if c.name == "csrftoken")
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **(data or {})}).encode()
        request = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.request("POST", path, data, **kwargs)

    def log_in(self, username: str, password: str = "correct horse 42") -> int:
        return self.post("/accounts/login/", {"username": username, "password": password})[0]


def migrate(targets=None):
    """Migrate the test database to `targets` (default: every app's latest migration) and return
    the apps of that state. A migration test must end with migrate(): the tests after it need the
    whole schema, including migrations added later than the one it tests."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
