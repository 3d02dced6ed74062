import pytest

from prompts.models import PromptTemplate, PromptTemplateVersion
from prompts.services import PromptValidationError, prompt_create, prompt_restore, prompt_update

VARS = [{"name": "topic", "label": "Topic"}, {"name": "audience", "label": "Audience", "default": "teachers"}]


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace)


def test_every_save_makes_an_immutable_version(writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="blog_post", body="About {topic}", variables=VARS)
    prompt_update(template=template, user=writer, name="Blog", category="blog_post", body="All about {topic} for {audience}", variables=VARS)
    prompt_update(template=template, user=writer, name="Blog", category="blog_post", body="All about {topic} for {audience}", variables=VARS)  # no change
    assert list(template.versions.values_list("number", "body")) == [(2, "All about {topic} for {audience}"), (1, "About {topic}")]
    restored = prompt_restore(template=template, number=1, user=writer)
    assert (restored.number, restored.body, restored.note) == (3, "About {topic}", "Restored v1")
    template.refresh_from_db()
    assert template.current == restored


def test_bad_template_is_refused_and_nothing_is_stored(writer, workspace):
    with pytest.raises(PromptValidationError) as excinfo:
        prompt_create(workspace=workspace, user=writer, name="Broken", category="free", body="Hello {topic", variables=VARS)
    assert excinfo.value.errors == {"body": "line 1, column 7: '{' is never closed (write '{{' for a literal brace)"}
    assert not PromptTemplate.objects.exists() and not PromptTemplateVersion.objects.exists()


def test_update_with_unknown_variable_keeps_the_old_version(writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="About {topic}", variables=VARS)
    with pytest.raises(PromptValidationError, match="unknown variable"):
        prompt_update(template=template, user=writer, name="Renamed", category="free", body="About {subject}", variables=VARS)
    template.refresh_from_db()
    assert template.name == "Blog" and template.versions.count() == 1


def test_names_are_unique_per_workspace(writer, workspace, other_workspace):
    prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="x", variables=[])
    prompt_create(workspace=other_workspace, user=writer, name="Blog", category="free", body="x", variables=[])
    with pytest.raises(PromptValidationError, match="already exists"):
        prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="y", variables=[])
