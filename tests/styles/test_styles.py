import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from styles.models import StyleProfile, StyleProfileVersion
from styles.services import StyleValidationError, style_create, style_restore, style_update


@pytest.fixture
def editor(make_member, workspace):
    return make_member("editor", workspace)


def test_system_prompt_is_built_from_the_fields(editor, workspace):
    profile = style_create(
        workspace=workspace, user=editor, name="Sunny", voice="Bright and brief.", audience="Hikers",
        tone="Cheerful", reading_level=6, do_rules="Say you\n- Be concrete", dont_rules="No jargon",
        banned_words="synergy, leverage", examples="First example.\n---\nSecond example.",
    )
    prompt = profile.current.system_prompt
    assert prompt.startswith("You are a writer for Sunny.")
    for part in ["Voice: Bright and brief.", "Audience: Hikers", "grade 6 reading level", "- Say you", "- Be concrete",
                 "Never:\n- No jargon", "Do not use these words: synergy, leverage.", "First example.", "Second example."]:
        assert part in prompt


def test_an_edited_system_prompt_wins_and_blank_returns_to_generated(editor, workspace):
    profile = style_create(workspace=workspace, user=editor, name="Sunny", voice="Bright.", system_prompt_override="Be a pirate.")
    assert profile.current.system_prompt == "Be a pirate."
    style_update(profile=profile, user=editor, name="Sunny", voice="Bright.", system_prompt_override="")
    assert profile.current.system_prompt.startswith("You are a writer for Sunny.")


def test_versions_and_restore(editor, workspace):
    profile = style_create(workspace=workspace, user=editor, name="Sunny", tone="warm")
    style_update(profile=profile, user=editor, name="Sunny", tone="dry")
    style_update(profile=profile, user=editor, name="Sunny", tone="dry")  # unchanged: no version
    assert profile.versions.count() == 2
    restored = style_restore(profile=profile, number=1, user=editor)
    assert (restored.number, restored.tone) == (3, "warm")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"reading_level": 40}, "reading_level", "between 1 and 16"),
        ({"default_params": {"temperature": 9}}, "default_params", "temperature must be between"),
        ({"default_params": {"top_p": 0}}, "default_params", "top_p must be between 0.05 and 1.0, not 0"),
        ({"default_params": {"beam": 3}}, "default_params", "unknown parameter 'beam'"),
    ],
)
def test_bad_values_are_refused_by_field_and_nothing_is_stored(editor, workspace, fields, field, message):
    with pytest.raises(StyleValidationError) as excinfo:
        style_create(workspace=workspace, user=editor, name="Bad", **fields)
    assert message in excinfo.value.errors[field]
    assert not StyleProfile.objects.exists() and not StyleProfileVersion.objects.exists()


def test_api_errors_name_the_field(editor):
    client = APIClient()
    client.force_authenticate(editor)
    response = client.post("/api/styles/", {"name": "X", "reading_level": 99}, format="json")
    assert response.status_code == 400
    assert "less than or equal to 16" in response.json()["reading_level"][0]


def test_create_page_and_live_system_prompt(client, editor, workspace):
    client.force_login(editor)
    data = {"name": "Sunny", "voice": "Bright.", "tone": "", "audience": "", "reading_level": "5", "do_rules": "", "dont_rules": "",
            "banned_words": "", "examples": "", "temperature": "0.7", "top_p": "0.9", "max_new_tokens": "300",
            "repetition_penalty": "1.1", "default_model": "", "system_prompt_override": ""}
    preview = client.post(reverse("style_system_prompt_preview"), data, HTTP_HX_REQUEST="true").content.decode()
    assert "You are a writer for Sunny." in preview and "grade 5 reading level" in preview
    response = client.post(reverse("style_create"), data)
    profile = StyleProfile.objects.get(workspace=workspace)
    assert response.url == profile.get_absolute_url()
    assert profile.current.params()["max_new_tokens"] == 300
    page = client.get(response.url).content.decode()
    assert "You are a writer for Sunny." in page


def test_diff_page_compares_system_prompts(client, editor, workspace):
    profile = style_create(workspace=workspace, user=editor, name="Sunny", tone="warm")
    style_update(profile=profile, user=editor, name="Sunny", tone="dry")
    client.force_login(editor)
    page = client.get(reverse("style_diff", args=[profile.pk])).content.decode()
    assert '<span class="diff-removed">- Tone: warm</span>' in page
    assert '<span class="diff-added">+ Tone: dry</span>' in page
    assert "System prompts compared." in page and "Also changed" not in page


def test_diff_page_names_the_settings_the_system_prompt_does_not_show(client, editor, workspace):
    profile = style_create(workspace=workspace, user=editor, name="Sunny", tone="warm")
    style_update(profile=profile, user=editor, name="Sunny", tone="warm", default_params={"temperature": 0.2})
    client.force_login(editor)
    page = client.get(reverse("style_diff", args=[profile.pk])).content.decode()
    assert "Also changed: default params." in page and 'class="diff-added"' not in page


def test_restoring_a_version_that_does_not_exist_is_not_found(client, editor, workspace):
    profile = style_create(workspace=workspace, user=editor, name="Sunny", tone="warm")
    client.force_login(editor)
    assert client.post(reverse("style_restore", args=[profile.pk, 5])).status_code == 404
    response = client.post(reverse("style_restore", args=[profile.pk, 1]), follow=True)
    assert "Restored version 1 as version 2." in response.content.decode()
    assert StyleProfileVersion.objects.filter(profile=profile).count() == 2
