import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.articles.conftest import tiny_model  # noqa: F401
from tests.generation.conftest import smollm2_tokenizer_dir, tiny_model_dir  # noqa: F401

VOICE = [
    {"prompt": f"Describe product {i}.", "completion": f"Arr, product {i} be sturdy and dry, matey! Fair winds."}
    for i in range(24)
]


def jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@pytest.fixture
def admin(make_member, workspace):
    return make_member("admin", workspace, username="ada")


@pytest.fixture
def voice_version(workspace, admin):
    """A ready dataset version of 24 short instruction records (no split)."""
    from corpora.services import dataset_create_from_upload

    return dataset_create_from_upload(workspace=workspace, user=admin, name="Pirate voice",
                                      files=[SimpleUploadedFile("voice.jsonl", jsonl(VOICE))])
