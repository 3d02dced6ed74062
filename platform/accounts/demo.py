"""The demo workspace `make run` creates, so a new user can log in at once."""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts import services
from accounts.models import Role, User, Workspace
from accounts.signals import workspace_created

DEMO_USERS = [("writer", Role.WRITER), ("editor", Role.EDITOR), ("admin", Role.ADMIN)]


@dataclass
class DemoLogin:
    role: str
    username: str
    password: str


@dataclass
class DemoResult:
    workspace: Workspace
    logins: list[DemoLogin]
    password_file: Path


def demo_passwords(path: Path) -> dict[str, str]:
    """Passwords from INKSTONE_DEMO_PASSWORD_<ROLE>, else generated once and kept in `path`."""
    stored = json.loads(path.read_text()) if path.exists() else {}
    passwords = {}
    for username, _ in DEMO_USERS:
        passwords[username] = (
            os.environ.get(f"INKSTONE_DEMO_PASSWORD_{username.upper()}")
            or stored.get(username)
            or secrets.token_urlsafe(9)
        )
    if passwords != stored:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(passwords, indent=2))
    return passwords


@transaction.atomic
def demo_bootstrap() -> DemoResult:
    password_file = Path(settings.DATA_DIR) / "demo-logins.json"
    passwords = demo_passwords(password_file)
    studio = Workspace.objects.filter(slug="demo-studio").first() or services.workspace_create(
        name="Demo Studio", slug="demo-studio", starter_content=False
    )
    classroom = Workspace.objects.filter(slug="classroom").first() or services.workspace_create(
        name="Classroom", slug="classroom", starter_content=False
    )
    for workspace in (studio, classroom):  # the seeders add only what is missing
        workspace_created.send(sender=Workspace, workspace=workspace)
    logins = []
    for username, role in DEMO_USERS:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@inkstone.example"}
        )
        if not user.check_password(passwords[username]):
            user.set_password(passwords[username])
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        services.membership_set(workspace=studio, user=user, role=role)
        services.membership_set(workspace=classroom, user=user, role=role)
        logins.append(DemoLogin(role=role.label, username=username, password=passwords[username]))
    return DemoResult(workspace=studio, logins=logins, password_file=password_file)
