"""The datasets REST API: round trips, errors naming the field or the file/line, roles."""

import json

import pytest
from rest_framework.test import APIClient

from corpora import services
from corpora.models import Dataset
from corpora.services import UploadOptions
from tests.corpora.conftest import jsonl, pairs, snapshot, upload


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def make_dataset(workspace, user, name="Voice", rows=None):
    return services.dataset_create_from_upload(
        workspace=workspace, user=user, name=name,
        files=[upload("voice.jsonl", jsonl(rows or pairs(5)))], options=UploadOptions(),
    ).dataset


def test_round_trip_create_list_filter_records_export_patch_delete(api, media_root):
    response = api.post("/api/datasets/", {
        "name": "Pirate voice", "description": "Arr",
        "files": [upload("a.jsonl", jsonl(pairs(30))), upload("b.csv", b"q,a\nHi,Ahoy\n")],
        "csv_prompt_column": "q", "csv_completion_column": "a",
    }, format="multipart")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Pirate voice" and created["versions"] == [1]
    latest = created["latest_version"]
    assert latest["status"] == "ready" and latest["record_count"] == 31 and latest["token_count"] > 0
    pk = created["id"]

    api.post("/api/datasets/", {"name": "Teacher voice", "files": [upload("t.txt", b"Hello class.")]},
             format="multipart")
    listing = api.get("/api/datasets/", {"search": "pirate"}).json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == pk

    page = api.get(f"/api/datasets/{pk}/records/", {"page": 2}).json()
    assert page["count"] == 31 and page["results"][0]["index"] == 26
    assert page["results"][-1]["data"] == {"prompt": "Hi", "completion": "Ahoy"}

    dataset = Dataset.objects.get(pk=pk)
    services.version_split(version=dataset.versions.get(), user=None, validation_fraction=0.1, seed=1)
    validation = api.get(f"/api/datasets/{pk}/records/", {"version": 2, "split": "validation"}).json()
    assert validation["count"] == 3 and {r["split"] for r in validation["results"]} == {"validation"}
    assert api.get(f"/api/datasets/{pk}/records/", {"version": 9}).status_code == 404

    export = api.get(f"/api/datasets/{pk}/export/", {"version": 1})
    assert export.status_code == 200 and export["Content-Type"] == "application/jsonl"
    lines = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert lines[0] == pairs(1)[0] and len(lines) == 31

    patched = api.patch(f"/api/datasets/{pk}/", {"name": "Saltbeard"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "Saltbeard"
    clash = api.patch(f"/api/datasets/{pk}/", {"name": "teacher voice"}, format="json")
    assert clash.status_code == 400 and "already exists" in clash.json()["name"][0]

    assert api.delete(f"/api/datasets/{pk}/").status_code == 204
    assert api.get(f"/api/datasets/{pk}/").status_code == 404


def test_file_problems_come_back_as_file_line_reason(api, media_root):
    before = snapshot(media_root)
    response = api.post("/api/datasets/", {
        "name": "Broken", "files": [upload("ok.jsonl", jsonl(pairs(2))), upload("bad.jsonl", jsonl(pairs(2)) + b"{\n"),
                                    upload("empty.md", b"")],
    }, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [
        {"file": "bad.jsonl", "line": 3, "reason": "invalid JSON: Expecting property name enclosed in double quotes (column 2)"},
        {"file": "empty.md", "line": None, "reason": "the file is empty"},
    ]
    assert body["total"] == 2 and "Nothing was stored" in body["detail"]
    assert snapshot(media_root) == before


def test_field_errors_name_the_field(api, workspace, admin):
    make_dataset(workspace, admin, name="Taken")
    assert "files" in api.post("/api/datasets/", {"name": "X"}, format="multipart").json()
    response = api.post("/api/datasets/", {"name": "taken", "files": [upload("a.jsonl", jsonl(pairs(1)))]},
                        format="multipart")
    assert response.status_code == 400 and "already exists" in response.json()["name"][0]
    response = api.post("/api/datasets/", {"name": "Y", "files": [upload("a.csv", b"a,b\n1,2\n")],
                                           "csv_prompt_column": "a"}, format="multipart")
    assert response.status_code == 400 and "csv_prompt_column" in response.json()


def test_keep_valid_rows_over_the_api(api, media_root):
    response = api.post("/api/datasets/", {
        "name": "Partial", "keep_valid_rows": "true",
        "files": [upload("m.jsonl", jsonl(pairs(3)) + b'{"prompt": 1, "completion": "x"}\n')],
    }, format="multipart")
    assert response.status_code == 201
    latest = response.json()["latest_version"]
    assert latest["record_count"] == 3
    assert latest["problems"] == [{"file": "m.jsonl", "line": 4, "reason": "field 'prompt' must be a string, found a number"}]


@pytest.mark.parametrize("role, can_manage", [("writer", False), ("editor", False), ("admin", True)])
def test_roles_in_the_api(make_member, workspace, role, can_manage):
    dataset = make_dataset(workspace, make_member("admin", workspace, username="owner"))
    client = api_for(make_member(role, workspace))
    assert client.get("/api/datasets/").status_code == 200
    assert client.get(f"/api/datasets/{dataset.pk}/").status_code == 200
    assert client.get(f"/api/datasets/{dataset.pk}/records/").status_code == 200
    assert client.get(f"/api/datasets/{dataset.pk}/export/").status_code == 200
    created = client.post("/api/datasets/", {"name": "New", "files": [upload("a.jsonl", jsonl(pairs(1)))]},
                          format="multipart")
    assert created.status_code == (201 if can_manage else 403)
    if not can_manage:
        assert "does not allow" in created.json()["detail"]
    assert client.patch(f"/api/datasets/{dataset.pk}/", {"name": "Z"}, format="json").status_code == (200 if can_manage else 403)
    added = client.post(f"/api/datasets/{dataset.pk}/files/", {"files": [upload("b.jsonl", jsonl(pairs(1)))]}, format="multipart")
    assert added.status_code == (201 if can_manage else 403)
    assert client.post(f"/api/datasets/{dataset.pk}/dedupe/", {}, format="json").status_code == (201 if can_manage else 403)
    assert client.post(f"/api/datasets/{dataset.pk}/split/", {}, format="json").status_code == (201 if can_manage else 403)
    assert client.delete(f"/api/datasets/{dataset.pk}/").status_code == (204 if can_manage else 403)


def test_another_workspaces_dataset_is_404_in_the_api(make_member, workspace, other_workspace):
    dataset = make_dataset(other_workspace, make_member("admin", other_workspace))
    client = api_for(make_member("admin", workspace))
    for path in ["", "records/", "export/"]:
        assert client.get(f"/api/datasets/{dataset.pk}/{path}").status_code == 404
    assert client.patch(f"/api/datasets/{dataset.pk}/", {"name": "Mine"}, format="json").status_code == 404
    for path in ["files/", "dedupe/", "split/"]:
        assert client.post(f"/api/datasets/{dataset.pk}/{path}", {}).status_code == 404
    assert dataset.versions.count() == 1
    assert client.delete(f"/api/datasets/{dataset.pk}/").status_code == 404
    assert client.get("/api/datasets/").json()["count"] == 0


def test_schema_documents_the_dataset_endpoints(client, db):
    schema = client.get("/api/schema/").content.decode()
    for path in ["/api/datasets/", "/api/datasets/{id}/", "/api/datasets/{id}/records/", "/api/datasets/{id}/export/",
                 "/api/datasets/{id}/files/", "/api/datasets/{id}/dedupe/", "/api/datasets/{id}/split/",
                 "/api/datasets/uploads/{id}/"]:
        assert f"{path}:" in schema
    assert "'202':" in schema and "Poll the upload''s `url`" in schema  # YAML doubles the quote
    assert "multipart/form-data" in schema and "application/jsonl" in schema


def test_add_files_dedupe_and_split_over_the_api(api, workspace, admin, media_root):
    dataset = make_dataset(workspace, admin, rows=pairs(10))
    bad = api.post(f"/api/datasets/{dataset.pk}/files/", {"files": [upload("more.jsonl", jsonl(pairs(2)) + b"{oops\n")]},
                   format="multipart")
    problem = bad.json()["errors"][0]
    assert bad.status_code == 400 and (problem["file"], problem["line"]) == ("more.jsonl", 3) and "JSON" in problem["reason"]
    assert dataset.versions.count() == 1  # nothing stored

    added = api.post(f"/api/datasets/{dataset.pk}/files/", {"files": [upload("more.jsonl", jsonl(pairs(4)))]}, format="multipart")
    assert added.status_code == 201 and added.json()["latest_version"]["record_count"] == 14  # 10 + 4, 4 repeated

    deduped = api.post(f"/api/datasets/{dataset.pk}/dedupe/", {}, format="json").json()
    assert deduped["number"] == 3 and deduped["record_count"] == 10 and deduped["stats"]["removed_duplicates"] == 4

    split = api.post(f"/api/datasets/{dataset.pk}/split/", {"validation_fraction": 0.2, "seed": 7}, format="json").json()
    again = api.post(f"/api/datasets/{dataset.pk}/split/", {"version": 3, "validation_fraction": 0.2, "seed": 7}, format="json").json()
    assert (split["number"], again["number"]) == (4, 5) and "8 train / 2 validation (seed 7)" in split["note"]

    def validation(number):
        records = api.get(f"/api/datasets/{dataset.pk}/records/", {"version": number, "split": "validation"}).json()
        return [r["index"] for r in records["results"]]

    assert validation(4) == validation(5) and len(validation(4)) == 2  # same seed, same split

    refused = api.post(f"/api/datasets/{dataset.pk}/split/", {"validation_fraction": 1.5}, format="json")
    assert refused.status_code == 400 and "between 0 and 1" in refused.json()["validation_fraction"][0]
    assert api.post(f"/api/datasets/{dataset.pk}/dedupe/", {"version": 42}, format="json").status_code == 404
    assert dataset.versions.count() == 5


def test_a_large_upload_answers_202_with_an_upload_to_poll_that_keeps_the_problems(
    api, settings, media_root, django_capture_on_commit_callbacks
):
    from corpora.tasks import parse_dataset_upload

    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 100
    before = snapshot(media_root)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/datasets/", {
            "name": "Big", "files": [upload("big.csv", b"notes\n" + b"a single field\n" * 20)],
        }, format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"] == f"http://testserver/api/datasets/uploads/{body['id']}/"
    assert (body["status"], body["dataset_name"], body["new_dataset"], body["version"], body["files"]) == (
        "processing", "Big", True, 1, ["big.csv"])
    assert body["progress_total"] == 6 + 15 * 20 and body["problems"] == []
    dataset_id = body["dataset"]
    assert api.get(f"/api/datasets/{dataset_id}/").json()["latest_version"]["upload"] == body["id"]

    with django_capture_on_commit_callbacks(execute=True):
        assert parse_dataset_upload(body["id"]) == "rejected"
    polled = api.get(body["url"]).json()
    assert (polled["status"], polled["dataset"], polled["version"], polled["problem_total"]) == ("rejected", None, None, 1)
    assert polled["problems"] == [{"file": "big.csv", "line": 1, "reason":
                                   "choose which columns hold the prompt and completion, or the text (columns: notes)"}]
    assert polled["progress_done"] == polled["progress_total"] and polled["finished_at"]
    assert api.get(f"/api/datasets/{dataset_id}/").status_code == 404
    assert snapshot(media_root) == before


def test_large_files_added_over_the_api_are_polled_until_stored(
    api, workspace, admin, settings, media_root, django_capture_on_commit_callbacks
):
    from corpora.tasks import parse_dataset_upload

    dataset = make_dataset(workspace, admin, rows=pairs(2))
    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 100
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(f"/api/datasets/{dataset.pk}/files/", {
            "files": [upload("more.jsonl", jsonl(pairs(5, start=10)) + b"nope\n")], "keep_valid_rows": "true",
        }, format="multipart")
    assert response.status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        parse_dataset_upload(response.json()["id"])
    polled = api.get(response["Location"]).json()
    assert (polled["status"], polled["dataset"], polled["version"], polled["new_dataset"]) == ("stored", dataset.pk, 2, False)
    assert polled["problems"] == [{"file": "more.jsonl", "line": 6, "reason": "invalid JSON: Expecting value (column 1)"}]
    assert api.get(f"/api/datasets/{dataset.pk}/").json()["latest_version"]["record_count"] == 7


def test_an_upload_of_another_workspace_is_404_in_the_api(make_member, workspace, other_workspace, media_root):
    stranger = make_member("admin", other_workspace)
    version = services.dataset_create_from_upload(
        workspace=other_workspace, user=stranger, name="Theirs", files=[upload("a.jsonl", jsonl(pairs(2)))],
        background=True,
    )
    url = f"/api/datasets/uploads/{version.upload.pk}/"
    assert api_for(stranger).get(url).status_code == 200
    assert api_for(make_member("writer", other_workspace)).get(url).status_code == 200
    assert api_for(make_member("admin", workspace)).get(url).status_code == 404
