import os
import subprocess
import sys

from django.db import connection

from tests.support import ROOT


def run_manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={**base, **env},
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check", "--deploy", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.com",
        DJANGO_SECRET_KEY="s3cr3t-Yq8ZpL0wVn4Rb7Tk2Mx9Jd6Hf1Gc5Ue0Sa3Oi-8Wq2Lz7Kp4Nv",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
        env={**env, "DJANGO_DEBUG": "0"},
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_bad_boolean_setting_is_named():
    result = run_manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe'" in result.stderr


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db):
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


def test_openapi_schema_validates_without_warnings():
    result = run_manage("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
    assert result.returncode == 0, result.stderr


def test_bad_security_limits_are_named():
    result = run_manage("check", INKSTONE_LOGIN_FAILURE_LIMIT="ten")
    assert result.returncode != 0
    assert "INKSTONE_LOGIN_FAILURE_LIMIT='ten': expected a whole number" in result.stderr
    result = run_manage("check", INKSTONE_API_AUTH_FAILURE_WINDOW="0")
    assert result.returncode != 0
    assert "INKSTONE_API_AUTH_FAILURE_WINDOW='0': must be at least 1" in result.stderr
