"""The permission table in the README, one test per cell, in pages and in the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from prompts.services import prompt_create
from styles.services import style_create

ROLES = ["writer", "editor", "admin"]


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def author(make_member, workspace):
    return make_member("writer", workspace, username="author")


@pytest.fixture
def someones_template(author, workspace):
    return prompt_create(workspace=workspace, user=author, name="Theirs", category="free", body="x", variables=[])


@pytest.fixture
def style(author, workspace):
    return style_create(workspace=workspace, user=None, name="House voice", voice="Warm.")


@pytest.mark.parametrize("role", ROLES)
def test_everyone_views_and_creates_prompts(client, make_member, workspace, role, someones_template):
    user = make_member(role, workspace)
    client.force_login(user)
    assert client.get(reverse("prompt_list")).status_code == 200
    assert client.get(someones_template.get_absolute_url()).status_code == 200
    assert client.get(reverse("prompt_create")).status_code == 200
    response = api(user).post("/api/prompts/", {"name": f"Mine {role}", "body": "Hi {x}", "variables": [{"name": "x"}]}, format="json")
    assert response.status_code == 201, response.json()
    mine = response.json()["id"]
    assert api(user).patch(f"/api/prompts/{mine}/", {"body": "Hello {x}"}, format="json").status_code == 200


@pytest.mark.parametrize(("role", "allowed"), [("writer", False), ("editor", True), ("admin", True)])
def test_only_editors_and_admins_change_someone_elses_prompt(client, make_member, workspace, role, allowed, someones_template):
    user = make_member(role, workspace)
    client.force_login(user)
    expected = 200 if allowed else 403
    assert client.get(reverse("prompt_edit", args=[someones_template.pk])).status_code == expected
    assert client.get(reverse("prompt_delete", args=[someones_template.pk])).status_code == expected
    assert api(user).patch(f"/api/prompts/{someones_template.pk}/", {"body": "changed"}, format="json").status_code == expected
    assert api(user).delete(f"/api/prompts/{someones_template.pk}/").status_code == (204 if allowed else 403)


@pytest.mark.parametrize("role", ROLES)
def test_everyone_views_styles(client, make_member, workspace, role, style):
    user = make_member(role, workspace)
    client.force_login(user)
    assert client.get(reverse("style_list")).status_code == 200
    assert client.get(style.get_absolute_url()).status_code == 200
    assert api(user).get(f"/api/styles/{style.pk}/").json()["system_prompt"].startswith("You are a writer for House voice.")


@pytest.mark.parametrize(("role", "allowed"), [("writer", False), ("editor", True), ("admin", True)])
def test_only_editors_and_admins_manage_styles(client, make_member, workspace, role, allowed, style):
    user = make_member(role, workspace)
    client.force_login(user)
    page = 200 if allowed else 403
    assert client.get(reverse("style_create")).status_code == page
    assert client.get(reverse("style_edit", args=[style.pk])).status_code == page
    assert client.get(reverse("style_delete", args=[style.pk])).status_code == page
    assert api(user).post("/api/styles/", {"name": f"New {role}"}, format="json").status_code == (201 if allowed else 403)
    assert api(user).patch(f"/api/styles/{style.pk}/", {"tone": "dry"}, format="json").status_code == (200 if allowed else 403)
    assert api(user).delete(f"/api/styles/{style.pk}/").status_code == (204 if allowed else 403)


@pytest.mark.parametrize("role", ROLES)
def test_another_workspaces_library_is_not_found(client, make_member, workspace, other_workspace, role):
    stranger_template = prompt_create(workspace=other_workspace, user=None, name="Secret", category="free", body="x", variables=[])
    stranger_style = style_create(workspace=other_workspace, user=None, name="Secret voice")
    user = make_member(role, workspace)
    client.force_login(user)
    for url in [stranger_template.get_absolute_url(), reverse("prompt_edit", args=[stranger_template.pk]),
                reverse("prompt_diff", args=[stranger_template.pk]), stranger_style.get_absolute_url()]:
        assert client.get(url).status_code == 404, url
    if role != "writer":  # a writer is refused style editing before any lookup (403)
        assert client.get(reverse("style_edit", args=[stranger_style.pk])).status_code == 404
    assert api(user).get(f"/api/prompts/{stranger_template.pk}/").status_code == 404
    assert api(user).get(f"/api/styles/{stranger_style.pk}/").status_code == 404
    assert "Secret" not in str(api(user).get("/api/prompts/").json())
