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


def test_a_new_workspace_has_an_example_dataset_to_fine_tune_on(db):
    from corpora.models import Dataset

    workspace = workspace_create(name="Fresh team")
    dataset = Dataset.objects.get(workspace=workspace)
    assert dataset.name.startswith("Example:")
    version = dataset.versions.get()
    assert version.status == "ready" and version.record_count >= 40
    from corpora.starter import seed_example_dataset

    assert seed_example_dataset(workspace=workspace) == dataset
    assert Dataset.objects.filter(workspace=workspace).count() == 1
