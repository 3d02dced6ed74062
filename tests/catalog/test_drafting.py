"""Drafts written with a workspace's model: the pick is validated, recorded and loaded."""

import pytest
from rest_framework.test import APIClient

from articles import services
from articles.models import Generation
from articles.runner import run_generation
from styles.services import StyleValidationError, style_create


def test_api_draft_with_a_named_model_records_the_version(settings, writer, lora_version):
    settings.INKSTONE_DEFAULT_MODEL = "default"
    client = APIClient()
    client.force_authenticate(writer)
    response = client.post("/api/generations/", {"prompt": "Ahoy.", "model": "saltbeard-lora"}, format="json")
    assert response.status_code == 201
    body = response.json()["generations"][0]
    assert body["model"] == "saltbeard-lora" and body["model_name"] == lora_version.spec
    unknown = client.post("/api/generations/", {"prompt": "Ahoy.", "model": "/etc/passwd"}, format="json")
    assert unknown.status_code == 400 and "No model “/etc/passwd”" in unknown.json()["model"][0]
    assert Generation.objects.count() == 1


def test_a_styles_default_model_is_used_and_must_exist(workspace, admin, writer, lora_version):
    with pytest.raises(StyleValidationError, match="No model “gone”"):
        style_create(workspace=workspace, user=admin, name="Bad", voice="x", default_model="gone")
    style = style_create(workspace=workspace, user=admin, name="Pirate", voice="Arr.", default_model="saltbeard-lora")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Ahoy.", style_version=style.current))
    assert article.generations.get().model_version == lora_version
    lora_version.delete()
    with pytest.raises(services.DraftError, match="The style's model is not available"):
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
            prompt="Ahoy.", style_version=style.current))


def test_new_draft_page_offers_the_workspace_models(client, writer, lora_version):
    client.force_login(writer)
    page = client.get("/write/new/?model=saltbeard-lora").text
    assert '<option value="saltbeard-lora" selected>saltbeard-lora · LoRA adapter</option>' in page
    response = client.post("/write/new/", {"source": "free", "prompt": "Ahoy.", "model": "saltbeard-lora", "variants": 1}, follow=True)
    generation = Generation.objects.get()
    assert generation.model_version == lora_version
    assert f'data-testid="model-{generation.pk}">· saltbeard-lora</small>' in response.text


@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_with_the_adapter(settings, workspace, writer, lora_version, tiny_model_dir):
    settings.INKSTONE_DEFAULT_MODEL = str(tiny_model_dir)

    def draft(model):
        article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
            prompt="Tell me about lanterns.", model=model, seed=5, params={"max_new_tokens": 16}))
        generation = article.generations.get()
        run_generation(generation.pk)
        generation.refresh_from_db()
        return generation

    base, tuned = draft("default"), draft("saltbeard-lora")
    assert base.status == tuned.status == "completed" and tuned.model_version == lora_version
    assert tuned.text != base.text  # same seed and prompt: only the adapter differs


def test_regenerate_and_continue_refuse_a_removed_model(client, workspace, writer, lora_version):
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Ahoy.", model="saltbeard-lora"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="completed", text="Arr.")
    lora_version.delete()
    generation.refresh_from_db()
    for again in (lambda: services.generation_again(generation=generation, user=writer),
                  lambda: services.generation_continue(generation=generation, user=writer)):
        with pytest.raises(services.DraftError, match="was removed from the workspace's models"):
            again()
    client.force_login(writer)
    response = client.post(f"/write/generations/{generation.pk}/regenerate/", follow=True)
    assert response.status_code == 200 and "was removed from the workspace" in response.text
    assert article.generations.count() == 1


def test_generate_command_takes_a_model_name(writer, lora_version):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No model “nope” in this workspace. Available: default, saltbeard-lora."):
        call_command("generate", "--user", "wendy", "--prompt", "Ahoy.", "--model", "nope")
    call_command("generate", "--user", "wendy", "--prompt", "Ahoy.", "--model", "saltbeard-lora", "--no-follow")
    assert Generation.objects.get().model_version == lora_version
