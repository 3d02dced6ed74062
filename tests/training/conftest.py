"""Fixtures of the training tests (helpers that make runs are in tests/training/runs.py)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.articles.conftest import tiny_model  # noqa: F401
from tests.generation.conftest import smollm2_tokenizer_dir, tiny_model_dir  # noqa: F401
from tests.training.runs import QUOTES, upload

VOICE = [
    {"prompt": f"Describe product {i}.", "completion": f"Arr, product {i} be sturdy and dry, matey! Fair winds."}
    for i in range(24)
]


def jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@pytest.fixture
def tiny_default(tiny_model):  # noqa: F811
    """Plans read the tokenizer of the tiny model (the real SmolLM2 tokenizer; no weights load)."""
    return tiny_model


@pytest.fixture
def admin(make_member, workspace):
    return make_member("admin", workspace, username="ada")


@pytest.fixture
def voice_version(workspace, admin):
    """A ready dataset version of 24 short instruction records (no split)."""
    from corpora.services import dataset_create_from_upload

    return dataset_create_from_upload(workspace=workspace, user=admin, name="Pirate voice",
                                      files=[SimpleUploadedFile("voice.jsonl", jsonl(VOICE))])


@pytest.fixture
def quotes(workspace, admin):
    """A ready dataset version of short texts, without a validation split."""
    return upload(workspace, admin, "Sea quotes", [f"{q} Logbook entry {i}." for i in range(3) for q in QUOTES])
