"""Brute-force protection: sign-in lockout per account and per address, API-token throttling."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import api_token_create

LIMIT = 5
LOCKED = "Too many failed sign-ins for this account or address; try again in 15 minutes, or ask an admin to unlock it."


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.INKSTONE_API_AUTH_FAILURE_LIMIT = LIMIT


def sign_in(client, username, password, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def test_account_is_locked_after_repeated_wrong_passwords_even_for_the_right_one(make_member, workspace):
    make_member("writer", workspace, username="wendy")
    client = Client()
    for _ in range(LIMIT - 1):
        response = sign_in(client, "wendy", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    response = sign_in(client, "wendy", "wrong")
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert LOCKED in response.content.decode()
    assert 'name="username"' in response.content.decode()  # still the sign-in page

    response = sign_in(client, "wendy", "correct horse 42")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_locked_too(make_member, workspace):
    admin = make_member("admin", workspace, username="ada")
    admin.is_staff = True
    admin.save()
    client = Client()
    codes = [sign_in(client, "ada", "guess", "/admin/login/").status_code for _ in range(LIMIT)]
    assert codes == [200] * (LIMIT - 1) + [429]
    response = sign_in(client, "ada", "correct horse 42", "/admin/login/")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_one_address_trying_many_accounts_is_locked_out(make_member, workspace):
    make_member("writer", workspace, username="wendy")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    codes = [sign_in(attacker, f"user{i}", "guess").status_code for i in range(LIMIT)]
    assert codes == [200] * (LIMIT - 1) + [429]
    assert sign_in(attacker, "wendy", "correct horse 42").status_code == 429

    # wendy herself, from her own address, is not affected
    response = sign_in(Client(REMOTE_ADDR="198.51.100.7"), "wendy", "correct horse 42")
    assert response.status_code == 302


def test_lockout_ends_after_the_cool_off(make_member, workspace):
    make_member("writer", workspace, username="wendy")
    client = Client()
    for _ in range(LIMIT):
        sign_in(client, "wendy", "wrong")
    assert sign_in(client, "wendy", "correct horse 42").status_code == 429
    from axes.models import AccessAttempt

    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=16)
        attempt.save()
    assert sign_in(client, "wendy", "correct horse 42").status_code == 302


def test_an_admin_unlocks_an_account_in_the_django_admin(make_member, workspace):
    make_member("writer", workspace, username="wendy")
    for _ in range(LIMIT):
        sign_in(Client(), "wendy", "wrong")
    assert sign_in(Client(), "wendy", "correct horse 42").status_code == 429

    superuser = make_member("admin", workspace, username="root")
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    admin = Client(REMOTE_ADDR="198.51.100.7")
    admin.force_login(superuser)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "wendy" in listing.content.decode()
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="wendy")
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert sign_in(Client(), "wendy", "correct horse 42").status_code == 302


def test_axes_reset_username_command_unlocks_an_account(make_member, workspace):
    make_member("writer", workspace, username="wendy")
    for _ in range(LIMIT):
        sign_in(Client(), "wendy", "wrong")
    call_command("axes_reset_username", "wendy")
    assert sign_in(Client(), "wendy", "correct horse 42").status_code == 302


def test_wrong_api_tokens_from_one_address_are_throttled_with_retry_after(make_member, workspace):
    user = make_member("writer", workspace, username="wendy")
    _, key = api_token_create(user=user, name="script")
    attacker = APIClient(REMOTE_ADDR="203.0.113.9")
    for i in range(LIMIT):
        attacker.credentials(HTTP_AUTHORIZATION=f"{'Token' if i % 2 else 'Bearer'} ink_guess{i}")
        assert attacker.get("/api/workspaces/").status_code == 401
    response = attacker.get("/api/workspaces/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 300
    assert response["Content-Type"] == "application/json"
    assert "Too many failed API token attempts from this address" in response.json()["detail"]
    # while throttled even a right key from that address is refused, without being checked
    attacker.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert attacker.get("/api/workspaces/").status_code == 429

    honest = APIClient(REMOTE_ADDR="198.51.100.7")
    honest.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert honest.get("/api/workspaces/").status_code == 200


def test_lockout_on_a_live_server_ignores_a_spoofed_forwarded_for(transactional_db, make_member, workspace, tmp_path):
    """Through the live server (the async middleware path): each try claims another X-Forwarded-For,
    which without --proxy-headers is just a header the client wrote, so it changes nothing."""
    from django.db import connection

    from tests.support import LiveClient, start_asgi_server, stop

    make_member("writer", workspace, username="wendy")
    process, url = start_asgi_server(
        connection.settings_dict, tmp_path / "asgi.log", INKSTONE_LOGIN_FAILURE_LIMIT="3"
    )
    try:
        client = LiveClient(url)
        statuses = [
            client.post("/accounts/login/", {"username": f"user{i}", "password": "guess"},
                        headers={"X-Forwarded-For": f"10.0.0.{i}"})[0]
            for i in range(3)
        ]
        assert statuses == [200, 200, 429]
        status, headers, body = client.post(
            "/admin/login/", {"username": "wendy", "password": "correct horse 42"},
            headers={"X-Forwarded-For": "10.0.0.99"},
        )
        assert status == 429
        assert headers["Retry-After"] == str(15 * 60)
        assert LOCKED in body
    finally:
        stop(process)
