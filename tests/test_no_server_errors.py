"""Numbers and ids that pages take from query strings and forms: a bad one is never a 500."""

import pytest
from django.test import Client

HUGE = "9" * 30
ENORMOUS = "9" * 5000  # past Python's 4300-digit int() limit


@pytest.fixture
def admin_client(make_member, workspace):
    client = Client()
    client.force_login(make_member("admin", workspace))
    return client


@pytest.mark.parametrize("value", ["abc", HUGE, ENORMOUS, "-1", "0", "١٢"])
def test_untrusted_ids_and_numbers_in_pages_and_api(admin_client, workspace, value):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from corpora.services import dataset_create_from_upload

    version = dataset_create_from_upload(workspace=workspace, user=None, name="D",
                                         files=[SimpleUploadedFile("a.jsonl", b'{"text": "one"}\n')])
    answers = {
        "template fields": admin_client.get("/write/template-fields/", {"template": value}).status_code,
        "switch workspace": admin_client.post("/accounts/workspaces/switch/", {"workspace": value}).status_code,
        "revoke a token": admin_client.post("/accounts/profile/", {"revoke": value}).status_code,
        "dataset name check": admin_client.post("/datasets/validate-name/", {"name": "N", "dataset": value}).status_code,
        "records split": admin_client.get(f"/datasets/{version.dataset_id}/v1/records/", {"split": value}).status_code,
        "api page": admin_client.get("/api/prompts/", {"page": value}).status_code,
        "api version": admin_client.get(f"/api/datasets/{version.dataset_id}/records/", {"version": value}).status_code,
        "training runs": admin_client.get("/training/", {"status": value, "page": value}).status_code,
        "review queue": admin_client.get("/review/", {k: value for k in (
            "status", "writer", "template", "style", "model", "older_than_days", "newer_than_days", "sort", "page")}).status_code,
        "my drafts": admin_client.get("/write/mine/", {"page": value}).status_code,
        "new run": admin_client.get("/training/new/", {"dataset_version": value, "base_model": value}).status_code,
        "articles picker": admin_client.get("/datasets/add-articles/", {
            "dataset": value, "article": value, "page": value}).status_code,
        "add articles": admin_client.post("/datasets/add-articles/", {
            "dataset": value, "articles": [value]}).status_code,
        "api add articles": admin_client.post(f"/api/datasets/{version.dataset_id}/versions/from-articles/", {
            "articles": [value]}, content_type="application/json").status_code,
        "run estimate": admin_client.get("/training/estimate/", {
            "dataset_version": version.pk, "method": "lora", "preset": "quick", "params_shown": "1",
            "max_steps": value, "seed": value, "learning_rate": value, "validation_fraction": value}).status_code,
    }
    assert all(code < 500 for code in answers.values()), answers
    assert answers["switch workspace"] == 404 and answers["api page"] == 400


def test_a_token_name_keeps_only_printable_characters(admin_client):
    from accounts.models import ApiToken

    admin_client.post("/accounts/profile/", {"name": "ci\x00 bot\x07"})
    assert ApiToken.objects.get().name == "ci bot"
