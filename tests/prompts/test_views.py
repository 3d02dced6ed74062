import pytest
from django.urls import reverse

from prompts.models import PromptTemplate
from prompts.services import prompt_create

VARS = [{"name": "topic", "label": "Topic"}]


def form_data(name="Blog", body="Write about {topic}.", variables=VARS, **extra):
    data = {"name": name, "category": "blog_post", "body": body, "form-TOTAL_FORMS": str(len(variables)), "form-INITIAL_FORMS": "0"}
    for i, v in enumerate(variables):
        data.update({f"form-{i}-name": v["name"], f"form-{i}-label": v.get("label", ""), f"form-{i}-type": v.get("type", "text"),
                     f"form-{i}-default": v.get("default", ""), f"form-{i}-required": "on", f"form-{i}-choices": ""})
    data.update(extra)
    return data


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace)


def test_create_from_the_form_then_see_the_variable_form(client, writer, workspace):
    client.force_login(writer)
    response = client.post(reverse("prompt_create"), form_data())
    template = PromptTemplate.objects.get(workspace=workspace)
    assert response.status_code == 302 and response.url == template.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert 'name="topic"' in page and "Write about [Topic]." in page


def test_form_shows_the_template_error_with_its_position(client, writer):
    client.force_login(writer)
    response = client.post(reverse("prompt_create"), form_data(body="Write about {topic."))
    assert response.status_code == 200
    assert "line 1, column 13: &#x27;{&#x27; is never closed" in response.content.decode()
    assert not PromptTemplate.objects.exists()


def test_live_preview_renders_or_locates_the_error(client, writer):
    client.force_login(writer)
    ok = client.post(reverse("prompt_preview"), form_data(body="About {topic}!"), HTTP_HX_REQUEST="true")
    assert "About [Topic]!" in ok.content.decode()
    bad = client.post(reverse("prompt_preview"), form_data(body="About {topik}!"), HTTP_HX_REQUEST="true")
    assert "line 1, column 7: unknown variable {topik}" in bad.content.decode()


def test_filling_values_renders_the_final_prompt(client, writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="About {topic}.", variables=VARS)
    client.force_login(writer)
    response = client.post(template.get_absolute_url(), {"topic": "solar lanterns"}, HTTP_HX_REQUEST="true")
    assert "About solar lanterns." in response.content.decode()


def test_list_search_filter_and_pagination(client, writer, workspace):
    for i in range(23):
        prompt_create(workspace=workspace, user=writer, name=f"Note {i:02d}", category="email" if i % 2 else "free", body="x", variables=[])
    client.force_login(writer)
    first = client.get(reverse("prompt_list")).content.decode()
    assert "Note 00" in first and "Note 21" not in first and "Page 1 of 2" in first
    assert "Note 21" in client.get(reverse("prompt_list") + "?page=2").content.decode()
    partial = client.get(reverse("prompt_list") + "?q=Note 1&category=email", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Note 11" in partial and "Note 10" not in partial


def test_diff_and_restore(client, writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="Line one\nLine two", variables=[])
    client.force_login(writer)
    client.post(reverse("prompt_edit", args=[template.pk]), form_data(name="Blog", body="Line one\nLine 2", variables=[]))
    diff = client.get(reverse("prompt_diff", args=[template.pk]) + "?a=1&b=2").content.decode()
    assert '<span class="diff-removed">- Line two</span>' in diff and '<span class="diff-added">+ Line 2</span>' in diff
    client.post(reverse("prompt_restore", args=[template.pk, 1]))
    template.refresh_from_db()
    assert template.current.number == 3 and template.current.body == "Line one\nLine two"


def test_diff_says_when_the_variables_changed_too_and_restore_of_a_missing_version_is_not_found(client, writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="About {topic}", variables=VARS)
    client.force_login(writer)
    client.post(reverse("prompt_edit", args=[template.pk]), form_data(name="Blog", body="About {topic}", variables=[*VARS, {"name": "tone"}]))
    page = client.get(reverse("prompt_diff", args=[template.pk])).content.decode()
    assert "Blog: v1 → v2" in page and "Also changed: variables." in page and "Back to the prompt template" in page
    assert client.get(reverse("prompt_diff", args=[template.pk]) + "?a=1&b=9").status_code == 404
    response = client.post(reverse("prompt_restore", args=[template.pk, 9]))
    template.refresh_from_db()
    assert response.status_code == 404 and template.versions.count() == 2 and template.current.number == 2


def test_delete_asks_first(client, writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="x", variables=[])
    client.force_login(writer)
    assert "Delete “Blog”?" in client.get(reverse("prompt_delete", args=[template.pk])).content.decode()
    assert PromptTemplate.objects.exists()
    client.post(reverse("prompt_delete", args=[template.pk]))
    assert not PromptTemplate.objects.exists()
