import pytest

from tests.generation.conftest import smollm2_tokenizer_dir, tiny_lora_dir, tiny_model_dir  # noqa: F401


@pytest.fixture
def admin(make_member, workspace):
    return make_member("admin", workspace, username="ada")


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace, username="wendy")


@pytest.fixture
def lora_version(workspace, admin, tiny_lora_dir):  # noqa: F811
    from catalog.services import model_register

    return model_register(workspace=workspace, user=admin, name="saltbeard-lora", source=str(tiny_lora_dir),
                          description="Pirate voice, one epoch.")
