"""Registering models and resolving a writer's pick: the one gate between a form and a worker."""

import pytest

from catalog.models import ModelVersion
from catalog.services import (
    ModelValidationError,
    UnknownModel,
    model_choices,
    model_register,
    model_resolve,
)


def test_a_registered_adapter_records_its_base_and_training_metadata(lora_version, tiny_lora_dir, tiny_model_dir):
    assert lora_version.kind == "lora" and lora_version.source == str(tiny_lora_dir)
    assert lora_version.base == str(tiny_model_dir)
    assert lora_version.spec == f"{tiny_model_dir}?adapter={tiny_lora_dir}"
    assert lora_version.metrics == {"val_loss": 2.5, "train_loss": 2.9}


@pytest.mark.parametrize("name, source, field, message", [
    ("has space", "{model}", "name", "letters, digits"),
    ("default", "{model}", "name", "bundled model"),
    ("saltbeard-lora", "{model}", "name", "already has a model named"),
    ("ok-name", "{model}/missing", "source", "model not found: "),
    ("ok-name", "/etc", "source", "'/etc' is outside the folders models may be added from"),
    ("ok-name", "/etc/no-such-file", "source", "is outside the folders"),  # no probing of the disk
    ("ok-name", "~/../../etc", "source", "'~/../../etc' is outside the folders"),
    ("ok-name", "default", "source", "always available"),
])
def test_bad_registrations_say_which_field_and_store_nothing(workspace, admin, lora_version, tiny_model_dir,
                                                             name, source, field, message):
    with pytest.raises(ModelValidationError) as caught:
        model_register(workspace=workspace, user=admin, name=name, source=source.format(model=tiny_model_dir))
    assert message in caught.value.errors[field]
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["saltbeard-lora"]


def test_a_name_is_per_workspace(other_workspace, admin, lora_version, tiny_model_dir):
    twin = model_register(workspace=other_workspace, user=None, name="saltbeard-lora", source=str(tiny_model_dir))
    assert twin.kind == "model" and twin.workspace == other_workspace


def test_resolve_blank_default_and_names(settings, workspace, other_workspace, lora_version, tiny_model_dir):
    settings.INKSTONE_DEFAULT_MODEL = "default"
    assert model_resolve(workspace, "").spec == model_resolve(workspace, "default").spec == "default"
    chosen = model_resolve(workspace, "saltbeard-lora")
    assert chosen.version == lora_version and chosen.spec == lora_version.spec
    assert [c.key for c in model_choices(workspace)] == ["default", "saltbeard-lora"]
    with pytest.raises(UnknownModel, match="No model “saltbeard-lora” in this workspace. Available: default."):
        model_resolve(other_workspace, "saltbeard-lora")
    with pytest.raises(UnknownModel):
        model_resolve(workspace, "/etc/passwd")  # a path is not a choice: only registered models load


def test_an_adapter_over_a_base_outside_the_model_folders_is_refused(workspace, admin, tiny_model_dir, tmp_path, model_roots):
    import json

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(tiny_model_dir)}))
    model_roots[:] = [tmp_path.resolve()]
    with pytest.raises(ModelValidationError, match="its base model cannot be used: .* is outside the folders"):
        model_register(workspace=workspace, user=admin, name="sneaky", source=str(adapter))
