"""A refused request is one line in the server log; a real error keeps its traceback."""

import io
import logging
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import path

from tests.support import LiveClient, start_asgi_server, stop


def test_refusals_are_logged_once_as_one_line_on_a_live_server(transactional_db, make_member, workspace, tmp_path):
    make_member("writer", workspace, username="wendy")
    log_path = tmp_path / "asgi.log"
    process, url = start_asgi_server(connection.settings_dict, log_path)
    try:
        wendy = LiveClient(url)
        assert wendy.log_in("wendy") == 302
        assert wendy.get("/accounts/workspace/members/")[0] == 403
        assert wendy.get("/no/such/page/")[0] == 404
        assert wendy.get("/s/nowhere/")[0] == 404
        assert wendy.get("/api/members/")[0] == 403
        assert wendy.get("/", headers={"Host": "evil.example"})[0] == 400
        assert LiveClient(url).post("/accounts/login/", {"username": "x"}, csrf=False)[0] == 403  # no CSRF cookie
        assert LiveClient(url).get("/api/workspaces/", headers={"Authorization": "Token ink_wrong"})[0] == 401
        time.sleep(0.5)
    finally:
        stop(process)
    log = log_path.read_text()

    assert "Traceback" not in log
    expected = [
        "Refused GET /accounts/workspace/members/ 403 user=wendy reason=Your role (Writer) does not allow this.",
        "Refused GET /no/such/page/ 404 user=wendy reason=Not Found",
        "Refused GET /s/nowhere/ 404 user=wendy reason=No section 'nowhere'.",
        "Refused GET /api/members/ 403 user=wendy reason=",
        "Refused GET / 400 user=- reason=Invalid HTTP_HOST header: 'evil.example'.",
        "Refused POST /accounts/login/ 403 user=- reason=Forbidden (CSRF cookie not set.)",
        "Refused GET /api/workspaces/ 401 user=- reason=Invalid or revoked API token.",
    ]
    lines = log.splitlines()
    for line in expected:
        assert sum(line in logged for logged in lines) == 1, f"{line!r} not logged exactly once:\n{log}"
    # besides the server's access-log line, each refusal appears once: no second (unformatted) copy
    assert sum("/accounts/workspace/members/" in logged for logged in lines) == 2, log


def boom(request):
    raise RuntimeError("the disk caught fire")


urlpatterns = [path("boom/", boom)]


@pytest.fixture
def server_log():
    """What the configured console handler prints, while the test runs."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", None) == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_real_error_keeps_its_traceback(settings, server_log, db):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    log = server_log.getvalue()
    assert "Internal Server Error: /boom/" in log
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: the disk caught fire" in log
    assert "Refused" not in log
