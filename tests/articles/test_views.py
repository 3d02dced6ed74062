"""The new-draft page's template fields: rendered with the page, never reloaded over what was typed."""

from prompts.services import prompt_create


def test_a_template_given_in_the_address_has_its_fields_on_the_page(client, writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Post", category="free",
                             body="Write {title} about {topic}.", variables=[{"name": "title"}, {"name": "topic"}])
    client.force_login(writer)
    page = client.get(f"/write/new/?template={template.pk}").content.decode()
    assert 'name="var-topic"' in page and "<strong>Post</strong>" in page
    assert "load" not in page.split('hx-get="/write/template-fields/"')[1].split(">")[0]  # no reload on load
    assert "Article title (optional)" in page  # not a second field called "Title"


def test_switching_templates_keeps_what_was_typed_in_fields_of_the_same_name(client, writer, workspace):
    template = prompt_create(workspace=workspace, user=writer, name="Post", category="free",
                             body="Write about {topic} for {audience}.", variables=[{"name": "topic"}, {"name": "audience"}])
    client.force_login(writer)
    fields = client.get("/write/template-fields/", {"template": template.pk, "var-topic": "lanterns", "var-other": "x"},
                        HTTP_HX_REQUEST="true").content.decode()
    assert 'name="var-topic" value="lanterns"' in fields
    assert 'name="var-audience"' in fields and "is required" not in fields
