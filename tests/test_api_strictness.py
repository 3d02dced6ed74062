"""JSON bodies are read strictly: an unknown or misspelt field is a 400 that names it."""

from rest_framework.test import APIClient


def test_a_misspelt_field_is_named_not_silently_dropped(make_member, workspace):
    from articles.models import Generation

    client = APIClient()
    client.force_authenticate(make_member("writer", workspace))
    response = client.post("/api/generations/", {"prompt": "Hi", "params": {"temprature": 1.5}}, format="json")
    assert response.status_code == 400
    assert response.json()["params"]["temprature"] == ["Unknown field: did you mean temperature?"]
    response = client.post("/api/generations/", {"prompt": "Hi", "colour": "blue"}, format="json")
    assert response.status_code == 400 and "expected one of" in response.json()["colour"][0]
    assert not Generation.objects.exists()


def test_the_schema_says_request_bodies_take_no_other_fields(make_member, workspace):
    client = APIClient()
    client.force_authenticate(make_member("writer", workspace))
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schemas["GenerationInput"]["additionalProperties"] is False
    assert schemas["GenerationParamsInput"]["additionalProperties"] is False


def test_throttled_answers_say_when_once(make_member, workspace, settings):
    settings.INKSTONE_GENERATIONS_PER_MINUTE = 1
    client = APIClient()
    client.force_authenticate(make_member("writer", workspace))
    assert client.post("/api/generations/", {"prompt": "Hi"}, format="json").status_code == 201
    refused = client.post("/api/generations/", {"prompt": "Hi"}, format="json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Expected available" not in refused.json()["detail"]
