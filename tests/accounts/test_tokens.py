from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken


def test_create_use_and_revoke_a_token_from_the_profile_page(client, make_member, workspace):
    user = make_member("admin", workspace)
    client.force_login(user)
    page = client.post(reverse("profile"), {"name": "CMS sync"}).content.decode()
    key = page.split('data-testid="new-token">')[1].split("<")[0]
    assert key.startswith("ink_")
    token = ApiToken.objects.get(user=user)
    assert token.name == "CMS sync" and key not in token.key_hash  # only the hash is kept
    assert key not in client.get(reverse("profile")).content.decode()  # shown once

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/members/").status_code == 200
    client.post(reverse("profile"), {"revoke": token.pk})
    response = api.get("/api/members/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API token."


def test_management_command_prints_a_working_key(make_member, workspace, capsys):
    make_member("writer", workspace, username="wendy")
    call_command("create_api_token", "wendy", "--name", "script")
    key = capsys.readouterr().out.strip()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/workspaces/").json()["results"][0]["name"] == "Acme Marketing"
