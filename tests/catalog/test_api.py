"""POST /api/models/ and the Add-a-model page: whatever an admin sends is added or refused with a
400 (a form error) that names the field, quotes what they typed and reveals nothing of the server."""

import json
import os
import shutil
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, SOURCE_MAX_LENGTH, ModelVersion
from tests.generation.gguf_files import endless_array, header, write_gguf


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def root(tmp_path, model_roots, tiny_model_dir):
    """The one model folder, holding odd things next to good ones."""
    root = tmp_path / "models"
    root.mkdir()
    model_roots[:] = [root]
    (root / "loop").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop")
    (root / "out").symlink_to("/etc")
    (root / "bad.gguf").write_bytes(header(tensors=291, kvs=0))
    (root / "endless.gguf").write_bytes(endless_array())
    write_gguf(root / "good.gguf")
    (root / "huge-config").mkdir()
    (root / "huge-config" / "config.json").write_bytes(b" " * (2 << 20) + b"{}")
    shutil.copytree(tiny_model_dir, root / "odd-metrics")
    (root / "odd-metrics" / "inkstone.json").write_text(json.dumps({"metrics": [1.5]}))
    for name, text in (("nan-metadata", '{"metrics": {"val_loss": NaN}}'), ("nul-metadata", '{"data_hash": "a\\u0000"}')):
        shutil.copytree(tiny_model_dir, root / name)
        (root / name / "inkstone.json").write_text(text)  # a database refuses both
    (root / "odd-base").mkdir()
    (root / "odd-base" / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "~root/base"}))
    return root


ODD_SOURCES = [
    ("~nosuchuser/models/x", "'~nosuchuser/models/x': ~user paths are not expanded; give the full path"),
    ("~root", "'~root': ~user paths are not expanded"),
    ("{root}/" + "a" * 300, "a folder or file name in it is longer than 255 bytes"),
    ("{root}/x\ty", "'{root}/x\\ty': a model source cannot contain control characters"),  # NUL: DRF and Django forms refuse it first
    ("/proc/self/cwd", "'/proc/self/cwd' is outside the folders models may be added from ({root})"),
    ("models/relative/x", "'models/relative/x' is outside the folders"),
    ("{root}/../../../etc", "'{root}/../../../etc' is outside the folders"),
    ("{root}/loop/model", "'{root}/loop/model': its symbolic links go round in a loop"),
    ("{root}/out/passwd", "'{root}/out/passwd' leads out of the folders models may be added from"),
    ("{root}/bad.gguf", "'{root}/bad.gguf': truncated: the tensor table says 291 tensors but the file ends at byte 24"),
    ("{root}/endless.gguf", "'{root}/endless.gguf': truncated: its metadata needs bytes up to"),
    ("{root}/huge-config", "'{root}/huge-config': config.json is 2097154 bytes"),
    ("{root}/odd-metrics", "inkstone.json: metrics must be an object of numbers, not a list"),
    ("{root}/nan-metadata", "inkstone.json is not valid JSON: NaN is not allowed"),
    ("{root}/nul-metadata", "inkstone.json holds text that cannot be stored"),
    ("{root}/odd-base", "its base model cannot be used: '~root/base': ~user paths are not expanded"),
]


@pytest.mark.parametrize("source, message", ODD_SOURCES, ids=lambda value: value[:40])
def test_odd_sources_answer_400_quoting_what_was_typed(admin, root, source, message):
    source, message = source.format(root=root), message.format(root=root)
    response = api(admin).post("/api/models/", {"name": "odd", "source": source}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["source"] and message in response.json()["source"][0]
    assert _reveals_nothing(response.content.decode(), source)
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("source, message", [ODD_SOURCES[i] for i in (0, 3, 4, 7, 9)], ids=lambda value: value[:40])
def test_odd_sources_are_form_errors_on_the_page(client, admin, root, source, message):
    from django.utils.html import escape

    source, message = source.format(root=root), message.format(root=root)
    client.force_login(admin)
    page = client.post(reverse("catalog:model_create"), {"name": "odd", "source": source})
    assert page.status_code == 200 and escape(message) in page.text
    assert _reveals_nothing(page.text, source) and not ModelVersion.objects.exists()


def _reveals_nothing(text: str, typed: str) -> bool:
    """No working folder, process id or home folder that the admin did not type."""
    secrets = [os.getcwd(), f"/proc/{os.getpid()}", str(Path.home())]
    return not any(secret in text and secret not in typed for secret in secrets) and "Traceback" not in text


def test_a_valid_gguf_in_the_model_folder_is_added(admin, root):
    response = api(admin).post("/api/models/", {"name": "good", "source": str(root / "good.gguf")}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "gguf"


def test_the_outside_message_names_the_folders_as_configured(admin, settings, model_roots):
    model_roots[:] = [settings.DATA_DIR / "models", settings.DATA_DIR / "adapters", Path("/srv/inkstone-models")]
    response = api(admin).post("/api/models/", {"name": "etc", "source": "/etc/passwd"}, format="json")
    message = response.json()["source"][0]
    assert response.status_code == 400 and message == (
        "'/etc/passwd' is outside the folders models may be added from (models/ in Inkstone's data folder, "
        "adapters/ in Inkstone's data folder, /srv/inkstone-models); ask whoever runs Inkstone to put it there "
        "or to extend INKSTONE_MODEL_ROOTS.")


@pytest.mark.parametrize("field, size", [("name", NAME_MAX_LENGTH), ("source", SOURCE_MAX_LENGTH),
                                         ("description", DESCRIPTION_MAX_LENGTH)])
def test_too_long_values_answer_400_naming_the_field(admin, tiny_model_dir, lora_version, field, size):
    data = {"name": "long", "source": str(tiny_model_dir), "description": "", field: "x" * (size + 1)}
    response = api(admin).post("/api/models/", data, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    assert f"no more than {size} characters" in response.json()[field][0]
    if field == "description":
        patch = api(admin).patch(f"/api/models/{lora_version.pk}/", {"description": "x" * (size + 1)}, format="json")
        assert patch.status_code == 400 and list(patch.json()) == ["description"]
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["saltbeard-lora"]
