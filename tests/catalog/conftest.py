import pytest

from tests.generation.conftest import smollm2_tokenizer_dir, tiny_lora_dir, tiny_model_dir  # noqa: F401


@pytest.fixture(autouse=True)
def model_roots(settings, tmp_path_factory):
    """Models may be added from pytest's temporary folders (where the tiny models live)."""
    settings.INKSTONE_MODEL_ROOTS = [tmp_path_factory.getbasetemp().resolve()]
    return settings.INKSTONE_MODEL_ROOTS


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
