"""Helpers for the dataset tests: uploads built in memory, database and disk snapshots."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


def jsonl(rows) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def pairs(n: int, start: int = 0) -> list[dict]:
    return [{"prompt": f"Question {i}?", "completion": f"Answer number {i}, matey."} for i in range(start, start + n)]


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def snapshot(media_root: Path) -> tuple:
    """Row counts of every dataset table and the files under MEDIA_ROOT."""
    from corpora.models import Dataset, DatasetVersion, Record

    files = sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())
    return Dataset.objects.count(), DatasetVersion.objects.count(), Record.objects.count(), files


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def admin(make_member, workspace):
    return make_member("admin", workspace, username="ada")


@pytest.fixture
def api(admin):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin)
    return client
