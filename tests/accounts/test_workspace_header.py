"""A malformed X-Workspace header is a clear 400 on every page and API call, never a 500."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.test_permission_matrix import RULES, world  # noqa: F401  (world is a fixture)

# What a hostile or broken client sends: a non-ASCII byte (arrives as latin-1 "²", which
# str.isdigit() calls a digit), a 20-digit number, zero, spaces, punctuation.
BAD_VALUES = ["\xb2", "12345678901234567890", "0", "two words", "acme/../x", "-" * 121]


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_a_malformed_header_is_a_400_naming_it(world, name, value):  # noqa: F811
    users, objects = world
    rule = RULES[name]
    path = rule.path.format(**objects)
    data = {k: v.format(**objects) if isinstance(v, str) else v for k, v in rule.data.items()}
    if rule.api:
        client = APIClient()
        client.force_authenticate(users["admin"])
        response = getattr(client, rule.method.lower())(path, data, format="json", HTTP_X_WORKSPACE=value)
        assert response.status_code == 400, (name, response.status_code)
        assert "X-Workspace" in response.json()
    else:
        client = Client()
        client.force_login(users["admin"])
        response = getattr(client, rule.method.lower())(path, data, HTTP_X_WORKSPACE=value)
        assert response.status_code == 400, (name, response.status_code)
        assert b"neither a workspace id" in response.content


def test_a_well_formed_header_picks_the_workspace(world):  # noqa: F811
    users, objects = world
    client = APIClient()
    client.force_authenticate(users["admin"])
    by_slug = client.get("/api/prompts/", HTTP_X_WORKSPACE="acme-marketing")
    by_id = client.get("/api/prompts/", HTTP_X_WORKSPACE=str(objects["workspace"]))
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json()["count"] == by_id.json()["count"] == 1
    assert client.get("/api/prompts/", HTTP_X_WORKSPACE="someone-elses-team").status_code == 404
