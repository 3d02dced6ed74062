"""Fixtures shared by the whole suite: embedded Redis, users and workspaces, live processes."""

import functools
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import ROOT, start_asgi_server, stop

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def redis_service():
    """The channel layer and cache need Redis: REDIS_URL's, else the embedded one, started here."""
    from django.conf import settings

    from core.redis_server import embedded_redis_argv

    if not settings.USES_EMBEDDED_REDIS:
        yield settings.REDIS_URL
        return
    import redis

    socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        client.ping()
        yield settings.REDIS_URL  # already running (a `make run` sharing this data dir)
        return
    except redis.RedisError:
        pass
    process = subprocess.Popen(embedded_redis_argv(socket_path), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield settings.REDIS_URL
    stop(process)


@functools.cache
def password_hash(password: str) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(password)


@pytest.fixture(autouse=True)
def fresh_api_auth_throttle(redis_service):
    """Wrong API tokens are counted per address in Redis, which outlives a test: start at zero.
    (Sign-in lockouts live in the database and go with each test's rollback or flush.)"""
    from accounts.throttling import api_auth_failures_reset

    api_auth_failures_reset()


@pytest.fixture
def make_member(db):
    """make_member(role, workspace=None, username=None) -> User with a membership."""
    from accounts.models import User
    from accounts.services import membership_set, workspace_create

    counter = {"n": 0}

    def make(role="writer", workspace=None, username=None, password="correct horse 42"):
        counter["n"] += 1
        workspace = workspace or workspace_create(name=f"Workspace {counter['n']}", starter_content=False)
        user = User.objects.create_user(
            username=username or f"{role}{counter['n']}", password=None,
            email=f"{role}{counter['n']}@example.com",
        )
        user.password = password_hash(password)  # the real hasher, computed once per password
        user.save(update_fields=["password"])
        membership_set(workspace=workspace, user=user, role=role)
        return user

    return make


@pytest.fixture
def workspace(db):
    from accounts.services import workspace_create

    return workspace_create(name="Acme Marketing", starter_content=False)


@pytest.fixture
def other_workspace(db):
    from accounts.services import workspace_create

    return workspace_create(name="Someone Else's Team", starter_content=False)


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    """A real ASGI server (uvicorn, as the Procfile runs it) in a child process, on the test database and Redis."""
    from django.db import connection

    process, url = start_asgi_server(connection.settings_dict, tmp_path / "asgi.log")
    yield url
    stop(process)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def browser():
    """Per test: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break async_to_sync in later (non-browser) tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("INKSTONE_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; on failure its screenshot goes to test-artifacts/."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
