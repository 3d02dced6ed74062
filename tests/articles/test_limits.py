"""Bounded work: every number a writer sends is inside the one parameter schema, the server's
length ceiling holds everywhere, and one user cannot fill the queue."""

import pytest
from rest_framework.test import APIClient

from articles import services
from articles.models import Article, Generation
from styles.services import style_create


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_draft(user, **body):
    return api(user).post("/api/generations/", {"prompt": "Write about lanterns.", **body}, format="json")


@pytest.mark.parametrize(("body", "field"), [
    ({"params": {"max_new_tokens": 2**70}}, "max_new_tokens"),
    ({"params": {"min_new_tokens": 2**70}}, "min_new_tokens"),
    ({"params": {"top_k": 10**6}}, "top_k"),
    ({"params": {"temperature": 3}}, "temperature"),
    ({"params": {"repetition_penalty": 0.5}}, "repetition_penalty"),
    ({"seed": 2**63}, "seed"),
    ({"variants": 5}, "variants"),
    ({"template": 10**30}, "template"),
    ({"style": 2**63}, "style"),
    ({"prompt": "x" * (services.MAX_PROMPT_CHARS + 1)}, "prompt"),
])
def test_out_of_range_numbers_are_refused_naming_the_field_and_nothing_is_queued(writer, body, field):
    response = post_draft(writer, **body)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors or field in errors.get("params", {}), errors
    assert not Generation.objects.exists()


def test_the_servers_length_ceiling_holds_for_the_api_the_form_and_the_service(client, writer, workspace, settings):
    settings.INKSTONE_MAX_NEW_TOKENS = 300
    response = post_draft(writer, params={"max_new_tokens": 301})
    assert response.status_code == 400
    assert "between 1 and 300 (this server's limit)" in response.json()["params"]["max_new_tokens"][0]
    client.force_login(writer)
    page = client.post("/write/new/", {"source": "free", "prompt": "Hi", "model": "", "variants": 1, "max_new_tokens": 301})
    assert page.status_code == 200 and "less than or equal to 300" in page.content.decode()
    with pytest.raises(services.DraftError, match="this server's limit"):
        services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
            prompt="Hi", params={"max_new_tokens": 301}))
    assert not Generation.objects.exists()
    assert post_draft(writer, params={"max_new_tokens": 300}).status_code == 201


def test_a_styles_default_length_above_a_lowered_ceiling_is_capped_not_refused(writer, workspace, settings):
    style = style_create(workspace=workspace, user=None, name="Long", default_params={"max_new_tokens": 1500})
    settings.INKSTONE_MAX_NEW_TOKENS = 500
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Hi", style_version=style.current))
    assert article.generations.get().params["max_new_tokens"] == 500


def test_the_rate_limit_counts_the_variants_before_accepting(writer, settings):
    settings.INKSTONE_GENERATIONS_PER_MINUTE = 5
    assert post_draft(writer, variants=2).status_code == 201
    response = post_draft(writer, variants=4)  # 2 + 4 > 5
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "asked for 4 more" in response.json()["detail"]
    assert Generation.objects.count() == 2
    assert post_draft(writer, variants=3).status_code == 201  # 2 + 3 == 5


def test_one_user_cannot_fill_the_queue_but_others_still_can_write(writer, make_member, workspace, settings):
    settings.INKSTONE_MAX_ACTIVE_GENERATIONS_PER_USER = 3
    assert post_draft(writer, variants=3).status_code == 201
    refused = post_draft(writer)
    assert refused.status_code == 429 and "at most 3 may wait or run at once" in refused.json()["detail"]
    assert refused["Retry-After"]
    colleague = make_member("writer", workspace)
    assert post_draft(colleague, variants=2).status_code == 201
    # Finished work frees the slots.
    Generation.objects.filter(created_by=writer).update(status=Generation.Status.COMPLETED)
    assert post_draft(writer).status_code == 201


def test_regenerate_and_continue_count_against_the_same_cap(writer, workspace, settings):
    settings.INKSTONE_MAX_ACTIVE_GENERATIONS_PER_USER = 1
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi"))
    generation = article.generations.get()
    with pytest.raises(services.RateLimited):
        services.generation_again(generation=generation, user=writer, kind="regenerate")
    with pytest.raises(services.RateLimited):
        services.generation_continue(generation=generation, user=writer)
    assert Article.objects.get().generations.count() == 1


def test_forms_serializers_and_the_command_line_share_one_schema(writer, settings):
    """Every range a writer meets comes from generation.params: no second definition to drift."""
    from articles.forms import DraftForm
    from core.sampling import STYLE_PARAMS
    from generation.cli import build_parser
    from generation.params import PARAMS_BY_NAME, SAMPLING_PARAMS
    from styles.forms import StyleForm

    settings.INKSTONE_MAX_NEW_TOKENS = 10**6  # above the library's maximum: the library's wins
    workspace = writer.memberships.get().workspace
    schema = api(writer).get("/api/schema/?format=json").json()["components"]["schemas"]
    api_params = schema["GenerationParamsInput"]["properties"]
    generate = build_parser()._subparsers._group_actions[0].choices["generate"]
    cli = {action.dest: action for action in generate._actions}
    for spec in SAMPLING_PARAMS:
        assert (api_params[spec.name]["minimum"], api_params[spec.name]["maximum"]) == (spec.minimum, spec.maximum)
        assert (cli[spec.name].default, cli[spec.name].type) == (spec.default, spec.type)
    for form in (DraftForm(workspace), StyleForm(workspace)):
        for name in STYLE_PARAMS:
            spec, field = PARAMS_BY_NAME[name], form.fields[name]
            assert (field.min_value, field.max_value, field.label) == (spec.minimum, spec.maximum, spec.label), (form, name)


@pytest.mark.django_db(transaction=True)
def test_a_prompt_longer_than_the_models_context_fails_with_a_clear_message(workspace, writer, tiny_model):
    from articles.runner import run_generation

    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="lantern " * 1500, params={"max_new_tokens": 16}))  # the tiny model reads 1024 tokens
    generation = article.generations.get()
    run_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert "reads at most 1024 tokens" in generation.error and "shorten the prompt" in generation.error


def test_a_refused_draft_keeps_what_was_typed_and_opens_the_section_at_fault(client, writer, workspace):
    from prompts.services import prompt_create

    template = prompt_create(workspace=workspace, user=writer, name="Post", category="free",
                             body="Write about {topic}.", variables=[{"name": "topic"}])
    client.force_login(writer)
    page = client.post("/write/new/", {"source": "template", "template": template.pk, "var-topic": "lanterns",
                                       "variants": 1, "model": "", "temperature": "9"}).content.decode()
    assert "Nothing was started: check the fields marked below." in page
    assert 'value="lanterns"' in page  # the template's variables as typed...
    assert 'hx-trigger="change from:#id_template"' in page  # ...not reloaded empty on page load
    assert "<details open>" in page and "less than or equal to 2.0" in page
    assert not Generation.objects.exists()


def test_the_style_editor_accepts_any_stored_value_in_range(client, make_member, workspace, settings):
    """A browser's step check refused 0.72 in a collapsed section, so Save silently did nothing."""
    editor = make_member("editor", workspace)
    style = style_create(workspace=workspace, user=editor, name="Exact", default_params={"temperature": 0.72, "max_new_tokens": 1500})
    settings.INKSTONE_MAX_NEW_TOKENS = 1000
    client.force_login(editor)
    page = client.get(f"/styles/{style.pk}/edit/").content.decode()
    assert 'name="temperature" value="0.72" step="any"' in page
    assert 'name="max_new_tokens" value="1000"' in page  # brought under the server's lowered limit
