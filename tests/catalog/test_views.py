"""The Models pages: everyone sees and writes with the models; admins add and remove them."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import ModelVersion
from catalog.services import model_register
from tests.generation.gguf_files import header, write_gguf


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", ["writer", "editor", "admin"])
def test_everyone_sees_the_models_only_admins_manage_them(client, make_member, workspace, lora_version, role):
    user = make_member(role, workspace)
    client.force_login(user)
    page = client.get(reverse("catalog:model_list"))
    assert page.status_code == 200
    assert "saltbeard-lora" in page.text and "SmolLM2-135M-Instruct (bundled)" in page.text
    detail = client.get(lora_version.get_absolute_url())
    assert detail.status_code == 200 and "val_loss" in detail.text
    expected = 200 if role == "admin" else 403
    assert client.get(reverse("catalog:model_create")).status_code == expected
    assert client.get(reverse("catalog:model_delete", args=[lora_version.pk])).status_code == expected
    assert api(user).get("/api/models/").status_code == 200
    assert api(user).patch(f"/api/models/{lora_version.pk}/", {"description": "x"}, format="json").status_code == expected
    assert client.post(lora_version.get_absolute_url(), {"description": "mine"}).status_code in ((302,) if role == "admin" else (403,))
    assert api(user).delete(f"/api/models/{lora_version.pk}/").status_code == (204 if role == "admin" else 403)


def test_another_workspaces_model_is_not_found(client, make_member, other_workspace, tiny_model_dir):
    theirs = model_register(workspace=other_workspace, user=None, name="theirs", source=str(tiny_model_dir))
    admin = make_member("admin")
    client.force_login(admin)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.post(reverse("catalog:model_delete", args=[theirs.pk])).status_code == 404
    assert api(admin).get(f"/api/models/{theirs.pk}/").status_code == 404
    assert api(admin).delete(f"/api/models/{theirs.pk}/").status_code == 404
    assert ModelVersion.objects.filter(pk=theirs.pk).exists()


def test_admin_adds_a_model_on_the_page_with_errors_inline(client, admin, tiny_lora_dir):
    client.force_login(admin)
    bad = client.post(reverse("catalog:model_create"), {"name": "pirate", "source": str(tiny_lora_dir / "missing")})
    assert bad.status_code == 200 and "model not found" in bad.text and not ModelVersion.objects.exists()
    response = client.post(reverse("catalog:model_create"), {"name": "pirate", "source": str(tiny_lora_dir), "description": "Arr."})
    version = ModelVersion.objects.get()
    assert response.url == version.get_absolute_url() and version.kind == "lora"
    client.post(version.get_absolute_url(), {"description": "Arr, matey."})
    version.refresh_from_db()
    assert version.description == "Arr, matey."
    assert client.post(reverse("catalog:model_delete", args=[version.pk])).url == reverse("catalog:model_list")
    assert not ModelVersion.objects.exists() and tiny_lora_dir.is_dir()  # files stay


def test_list_filters_by_kind_and_search(client, admin, workspace, lora_version, tiny_model_dir):
    model_register(workspace=workspace, user=admin, name="plain-llama", source=str(tiny_model_dir))
    client.force_login(admin)
    loras = client.get(reverse("catalog:model_list"), {"kind": "lora"}).text
    assert "saltbeard-lora" in loras and "plain-llama" not in loras
    found = client.get(reverse("catalog:model_list"), {"q": "pirate"}).text
    assert "saltbeard-lora" in found and "plain-llama" not in found


def test_api_round_trip_and_field_errors(admin, writer, tiny_model_dir):
    client = api(admin)
    created = client.post("/api/models/", {"name": "llama-tiny", "source": str(tiny_model_dir)}, format="json")
    assert created.status_code == 201 and created.json()["kind"] == "model"
    pk = created.json()["id"]
    assert [m["name"] for m in client.get("/api/models/", {"kind": "model"}).json()["results"]] == ["llama-tiny"]
    assert client.patch(f"/api/models/{pk}/", {"description": "Tiny."}, format="json").json()["description"] == "Tiny."
    clash = client.post("/api/models/", {"name": "llama-tiny", "source": "/nowhere"}, format="json")
    assert clash.status_code == 400 and set(clash.json()) == {"name", "source"}
    assert api(writer).post("/api/models/", {"name": "w", "source": str(tiny_model_dir)}, format="json").status_code == 403
    assert client.delete(f"/api/models/{pk}/").status_code == 204
    assert not ModelVersion.objects.exists()


def test_removing_a_model_names_the_styles_that_use_it(client, admin, workspace, lora_version):
    from styles.services import style_create

    style_create(workspace=workspace, user=admin, name="Pirate", voice="Arr.", default_model="saltbeard-lora")
    client.force_login(admin)
    page = client.get(reverse("catalog:model_delete", args=[lora_version.pk])).text
    assert "These styles use it by default" in page and "Pirate" in page


def test_a_style_whose_model_is_deleted_falls_back_to_the_workspace_default(client, admin, writer, workspace, lora_version):
    from articles.services import DraftRequest, draft_create
    from styles.services import style_create

    style = style_create(workspace=workspace, user=admin, name="Pirate", voice="Arr.", default_model="saltbeard-lora")
    client.force_login(admin)
    client.post(reverse("catalog:model_delete", args=[lora_version.pk]))
    style.refresh_from_db()
    assert style.current.default_model is None and style.current.default_model_name == ""
    page = client.get(reverse("style_edit", args=[style.pk])).text
    assert '<option value="" selected>The workspace default</option>' in page
    article = draft_create(workspace=workspace, user=writer, request=DraftRequest(prompt="Hi", style_version=style.current))
    assert article.generations.get().model_name == "default"


def test_fine_tunes_on_disk_are_offered_to_admins(client, admin, writer, tiny_lora_dir, tiny_model_dir, tmp_path, model_roots):
    import json
    import shutil

    root = (tmp_path / "models").resolve()
    shutil.copytree(tiny_model_dir, root / "tiny-base")
    adapter = root / "adapters" / "saltbeard v2"
    shutil.copytree(tiny_lora_dir, adapter)
    meta = json.loads((adapter / "inkstone.json").read_text())
    (adapter / "inkstone.json").write_text(json.dumps({**meta, "base_model": str(root / "tiny-base")}))
    shutil.copytree(tiny_lora_dir, root / "over-an-outside-base")  # its base is outside the roots
    (root / "notes").mkdir()  # not a model
    shutil.copytree(tiny_lora_dir, adapter / "checkpoint-2")  # a fine-tune's checkpoint: not offered
    shutil.copytree(tiny_lora_dir, root / "adapters" / "still-training" / "checkpoint-4")  # nor while training
    (root / "adapters" / "linked").symlink_to(tiny_model_dir)  # links are not followed out of the roots
    write_gguf(root / "voice.gguf")
    (root / "broken.gguf").write_bytes(header(tensors=291, kvs=3))  # a corrupt GGUF: not offered
    (root / "cut.gguf").write_bytes(write_gguf(tmp_path / "whole.gguf").read_bytes()[:200])
    model_roots[:] = [root]

    client.force_login(admin)
    page = client.get(reverse("catalog:model_list")).text
    assert "Found on disk, not added yet" in page and "saltbeard v2" in page and "2.500" in page
    assert "tiny-base" in page and "notes" not in page and "over-an-outside-base" not in page
    assert "checkpoint-" not in page and "linked" not in page
    assert "broken" not in page and "cut.gguf" not in page and "on-disk-incomplete" not in page
    assert f"{root}/voice.gguf</code></td><td>gguf</td>" in page
    form = client.get(reverse("catalog:model_create"), {"name": "saltbeard-v2", "source": str(adapter)}).text
    assert 'value="saltbeard-v2"' in form
    client.post(reverse("catalog:model_create"), {"name": "saltbeard-v2", "source": str(adapter)})
    page = client.get(reverse("catalog:model_list")).text
    assert "saltbeard v2</code>" not in page and "tiny-base" in page  # added ones leave the list
    client.force_login(writer)
    assert "Found on disk" not in client.get(reverse("catalog:model_list")).text  # admins only


def test_a_folder_of_thousands_of_entries_is_scanned_only_so_far(client, admin, tmp_path, model_roots):
    import time

    root = (tmp_path / "models").resolve()
    root.mkdir()
    for i in range(3000):
        (root / f"notes-{i:04}.txt").touch()
    model_roots[:] = [root]
    client.force_login(admin)
    started = time.perf_counter()
    page = client.get(reverse("catalog:model_list")).text
    assert time.perf_counter() - started < 10
    assert "Stopped looking after 2000 entries in the model folders: add any other model by its path." in page


def test_an_admins_empty_models_page_points_to_training(client, admin, writer):
    """With only the bundled model, admins are sent to the Training page (not to a terminal command)."""
    client.force_login(admin)
    page = client.get(reverse("catalog:model_list")).text
    assert "Only the bundled default model so far." in page
    assert f'href="{reverse("training:run_new")}"' in page and "python -m generation finetune" not in page
    client.force_login(writer)
    assert reverse("training:run_new") not in client.get(reverse("catalog:model_list")).text
