from rest_framework.test import APIClient


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_workspaces_lists_only_mine(make_member, workspace, other_workspace):
    writer = make_member("writer", workspace)
    response = api_for(writer).get("/api/workspaces/")
    assert response.status_code == 200
    assert [w["name"] for w in response.json()["results"]] == ["Acme Marketing"]


def test_other_workspace_is_404_in_the_api(make_member, workspace, other_workspace):
    writer = make_member("writer", workspace)
    client = api_for(writer)
    assert client.get(f"/api/workspaces/{workspace.id}/").status_code == 200
    assert client.get(f"/api/workspaces/{other_workspace.id}/").status_code == 404


def test_writer_gets_403_on_admin_only_api(make_member, workspace):
    response = api_for(make_member("writer", workspace)).get("/api/members/")
    assert response.status_code == 403
    assert "does not allow" in response.json()["detail"]


def test_admin_lists_members_of_current_workspace_only(make_member, workspace, other_workspace):
    make_member("writer", workspace, username="wendy")
    make_member("writer", other_workspace, username="stranger")
    response = api_for(make_member("admin", workspace, username="ada")).get("/api/members/")
    assert response.status_code == 200
    assert sorted(m["username"] for m in response.json()["results"]) == ["ada", "wendy"]


def test_x_workspace_header_for_a_foreign_workspace_is_refused(make_member, workspace, other_workspace):
    admin = make_member("admin", workspace)
    response = api_for(admin).get("/api/members/", HTTP_X_WORKSPACE=str(other_workspace.id))
    assert response.status_code == 404  # as on the pages: its existence does not leak


def test_token_auth(make_member, workspace):
    admin = make_member("admin", workspace)
    from accounts.tokens import api_token_create

    _, key = api_token_create(user=admin, name="test")
    client = APIClient()
    assert client.get("/api/members/").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/members/").status_code == 200


def test_openapi_schema_is_served(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/workspaces/" in response.content
