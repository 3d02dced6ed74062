import pytest
from django.urls import reverse

from accounts.middleware import SESSION_KEY


def test_dashboard_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_writer_sees_dashboard_of_their_workspace(client, make_member, workspace):
    writer = make_member("writer", workspace)
    client.force_login(writer)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Marketing" in body
    assert "writer" in body.lower()
    for label in ["Write", "Review", "Prompts", "Styles", "Datasets", "Models", "Training", "Published"]:
        assert f">{label}<" in body


def test_login_with_wrong_password_says_so(client, make_member):
    make_member("writer", username="wendy")
    response = client.post(reverse("login"), {"username": "wendy", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_logout_round_trip(client, make_member):
    make_member("writer", username="wendy")
    response = client.post(reverse("login"), {"username": "wendy", "password": "correct horse 42"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client, make_member):
    user = make_member("writer")
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "correct horse 42", "new_password1": "a much longer phrase 99", "new_password2": "a much longer phrase 99"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a much longer phrase 99")


def test_switch_workspace_changes_the_current_one(client, make_member, workspace, other_workspace):
    from accounts.services import membership_set

    writer = make_member("writer", workspace)
    membership_set(workspace=other_workspace, user=writer, role="editor")
    client.force_login(writer)
    response = client.post(reverse("workspace_switch"), {"workspace": other_workspace.id, "next": "/"}, follow=True)
    assert client.session[SESSION_KEY] == other_workspace.id
    body = response.content.decode()
    assert "Now working in Someone Else&#x27;s Team" in body
    assert "editor in this workspace" in body


def test_cannot_switch_into_a_workspace_you_are_not_in(client, make_member, workspace, other_workspace):
    writer = make_member("writer", workspace)
    client.force_login(writer)
    response = client.post(reverse("workspace_switch"), {"workspace": other_workspace.id})
    assert response.status_code == 404
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("role", ["writer", "editor"])
def test_non_admin_cannot_open_members_page(client, make_member, workspace, role):
    client.force_login(make_member(role, workspace))
    response = client.get(reverse("members"))
    assert response.status_code == 403
    assert "does not allow" in response.content.decode()


def test_admin_sees_members(client, make_member, workspace):
    make_member("writer", workspace, username="wendy")
    client.force_login(make_member("admin", workspace))
    response = client.get(reverse("members"))
    assert response.status_code == 200
    assert "wendy" in response.content.decode()


def test_writer_cannot_open_django_admin(client, make_member, workspace):
    client.force_login(make_member("writer", workspace))
    response = client.get("/admin/")
    assert response.status_code == 302  # to the admin login: not staff
    assert "/admin/login/" in response.url
