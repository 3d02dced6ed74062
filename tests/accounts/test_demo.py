from django.core.management import call_command

from accounts.models import Membership, User


def test_bootstrap_demo_is_idempotent_and_keeps_passwords(db, settings, tmp_path, capsys, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.setenv("INKSTONE_DEMO_PASSWORD_EDITOR", "editor-from-env-1")
    call_command("bootstrap_demo")
    first = capsys.readouterr().out
    call_command("bootstrap_demo")
    second = capsys.readouterr().out
    assert first == second  # same logins printed both times
    assert User.objects.filter(username__in=["writer", "editor", "admin"]).count() == 3
    assert Membership.objects.filter(user__username="writer").count() == 2  # can switch workspaces
    assert User.objects.get(username="editor").check_password("editor-from-env-1")
    writer_password = next(line.split()[-1] for line in first.splitlines() if " writer " in line)
    assert User.objects.get(username="writer").check_password(writer_password)
    assert (tmp_path / "demo-logins.json").stat().st_mode & 0o077 == 0
