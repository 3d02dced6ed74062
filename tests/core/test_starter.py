from accounts.services import workspace_create
from prompts.models import PromptTemplate
from styles.models import StyleProfile


def test_a_new_workspace_starts_with_templates_and_styles(db):
    workspace = workspace_create(name="Fresh team")
    names = set(PromptTemplate.objects.filter(workspace=workspace).values_list("name", flat=True))
    assert {"Blog post", "Product announcement", "Three social posts", "Newsletter", "Lesson plan",
            "Quiz with answer key", "Worksheet", "Reading passage"} <= names
    assert set(StyleProfile.objects.filter(workspace=workspace).values_list("name", flat=True)) == {
        "Friendly brand voice", "Clear classroom English"}


def test_starter_templates_render_with_their_defaults(db):
    from prompts.rendering import fill_values, render

    workspace = workspace_create(name="Fresh team")
    for template in PromptTemplate.objects.filter(workspace=workspace):
        values, _ = fill_values(template.current.variable_list(), {}, sample=True)
        assert "{" not in render(template.current.body, values), template.name
