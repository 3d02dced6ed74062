"""Dataset pages: uploads with real files, the acceptance cases, htmx partials and roles."""

import json

import pytest
from django.urls import reverse

from corpora import services
from corpora.models import DatasetVersion, Upload
from corpora.services import UploadOptions
from tests.corpora.conftest import jsonl, pairs, snapshot, upload

MB = 1024 * 1024


def make_dataset(workspace, user, name="Voice", rows=None):
    return services.dataset_create_from_upload(
        workspace=workspace, user=user, name=name,
        files=[upload("voice.jsonl", jsonl(rows or pairs(5)))], options=UploadOptions(),
    ).dataset


def post_files(client, paths, **fields):
    handles = [open(p, "rb") for p in paths]
    try:
        return client.post(reverse("corpora:dataset_create"), {"name": "Uploaded", **fields, "files": handles})
    finally:
        for handle in handles:
            handle.close()


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


# --------------------------------------------------------------------------- acceptance


def broken_at_57():
    return jsonl(pairs(56)) + b'{"prompt": "Where be the lanterns?", "completion": "Aft, ' + b"\n" + jsonl(pairs(5))


ACCEPTANCE = [
    ("broken.jsonl", broken_at_57(), ["broken.jsonl", ">57<", "invalid JSON: Unterminated string starting at (column 52)"]),
    ("semicolons.csv", b"prompt;completion\nHi;Ahoy\n", ["semicolons.csv", "looks like &#x27;;&#x27;-separated; expected &#x27;,&#x27;"]),
    ("latin1.txt", "Bonjour, café crème\n".encode("latin-1"), ["latin1.txt", "not UTF-8 text: byte 0xe9 at byte offset 12 (column 13)"]),
    ("empty.jsonl", b"", ["empty.jsonl", "the file is empty"]),
    ("deep.jsonl", b'{"prompt": "x", "completion": "y", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
     ["deep.jsonl", "JSON nested deeper than 20 levels"]),
]


@pytest.mark.parametrize("name, content, expected", ACCEPTANCE, ids=[a[0] for a in ACCEPTANCE])
def test_bad_file_is_rejected_with_file_line_reason_and_nothing_stored(
    client, admin, media_root, tmp_path, name, content, expected
):
    client.force_login(admin)
    before = snapshot(media_root)
    response = post_files(client, [write(tmp_path, name, content)])
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was stored" in body
    for text in expected:
        assert text in body
    assert "café" not in body and "caf\ufffd" not in body  # no mojibake either
    assert snapshot(media_root) == before


def streamed_multipart(tmp_path, size: int):
    """A multipart body with a `size`-byte file, as a sparse file: fast and memory-light."""
    boundary = "inkstone-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nHuge\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.jsonl"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    path = tmp_path / "body.bin"
    with open(path, "wb") as f:
        f.write(head)
        f.seek(len(head) + size)
        f.write(tail)
    return path, f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail)


@pytest.mark.parametrize("url", ["corpora:dataset_create", "api"])
def test_60_mb_upload_is_refused_with_the_size_message(client, admin, media_root, tmp_path, url):
    client.force_login(admin)
    path, content_type, length = streamed_multipart(tmp_path, 60 * MB)
    before = snapshot(media_root)
    with open(path, "rb") as body:
        response = client.generic(
            "POST", reverse(url) if url != "api" else "/api/datasets/", b"", content_type=content_type,
            **{"wsgi.input": body, "CONTENT_LENGTH": str(length), "CONTENT_TYPE": content_type},
        )
    assert response.status_code == 413
    message = "The upload is 60.0 MB; the limit is 50.0 MB per upload."
    assert message in (response.content.decode() if url != "api" else response.json()["files"][0])
    assert snapshot(media_root) == before


def test_upload_several_files_then_see_stats_chart_and_records(client, admin, media_root, tmp_path):
    client.force_login(admin)
    paths = [
        write(tmp_path, "voice.jsonl", jsonl(pairs(12))),
        write(tmp_path, "faq.csv", b"question,answer\nWhere?,Here.\n"),
        write(tmp_path, "posts.md", b"# One\nText.\n---\n# Two\nMore.\n"),
    ]
    response = post_files(client, paths, text_separator="---", csv_prompt_column="question",
                          csv_completion_column="answer", description="Our pirate voice")
    assert response.status_code == 302
    version = DatasetVersion.objects.get()
    assert response.url == version.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert 'data-testid="record-count">15<' in page
    assert page.count('<rect class="bar"') == len(version.stats["histogram"])
    assert "Question 0?" in page and "Page 1 of 2" in page
    assert snapshot(media_root)[3] == []


def test_keep_valid_rows_lists_the_skipped_rows_on_the_version_page(client, admin, media_root, tmp_path):
    client.force_login(admin)
    response = post_files(client, [write(tmp_path, "m.jsonl", jsonl(pairs(3)) + b"nope\n")], keep_valid_rows="on")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert 'data-testid="record-count">3<' in page
    assert "1 row skipped at upload" in page and "invalid JSON: Expecting value (column 1)" in page


def test_add_files_page_makes_a_new_version(client, admin, workspace, tmp_path):
    client.force_login(admin)
    dataset = make_dataset(workspace, admin)
    url = reverse("corpora:dataset_add_files", args=[dataset.pk])
    assert "Add files to Voice" in client.get(url).content.decode()
    with open(write(tmp_path, "more.txt", b"A new document."), "rb") as f:
        response = client.post(url, {"files": [f]})
    assert response.status_code == 302 and response.url.endswith("/v2/")
    assert dataset.versions.get(number=2).record_count == 6
    with open(write(tmp_path, "bad.csv", b"prompt;completion\n"), "rb") as f:
        response = client.post(url, {"files": [f]})
    assert response.status_code == 400 and "looks like &#x27;;&#x27;-separated" in response.content.decode()
    assert dataset.versions.count() == 2


def test_csv_columns_partial_shows_header_and_guesses_delimiter(client, admin):
    client.force_login(admin)
    response = client.post(reverse("corpora:csv_columns"),
                           {"files": [upload("qa.csv", b"question;answer;notes\na;b;c\n")]}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "<code>question</code> · <code>answer</code> · <code>notes</code>" in body
    assert '<option value=";" selected>' in body
    response = client.post(reverse("corpora:csv_columns"),
                           {"files": [upload("qa.csv", b"prompt;completion\n")], "csv_delimiter": ","})
    assert "Only one column found" in response.content.decode()


def test_inline_name_validation(client, admin, workspace):
    client.force_login(admin)
    dataset = make_dataset(workspace, admin, name="Pirates")
    url = reverse("corpora:validate_name")
    assert "already exists" in client.post(url, {"name": "pirates"}).content.decode()
    assert "already exists" not in client.post(url, {"name": "Pirates", "dataset": dataset.pk}).content.decode()
    assert "Give the dataset a name" in client.post(url, {"name": " "}).content.decode()


def test_edit_and_delete_with_confirmation(client, admin, workspace):
    client.force_login(admin)
    dataset = make_dataset(workspace, admin)
    make_dataset(workspace, admin, name="Taken")
    edit = reverse("corpora:dataset_edit", args=[dataset.pk])
    response = client.post(edit, {"name": "Taken", "description": ""})
    assert response.status_code == 400 and "already exists" in response.content.decode()
    assert client.post(edit, {"name": "Renamed", "description": "New words"}).status_code == 302
    dataset.refresh_from_db()
    assert (dataset.name, dataset.description) == ("Renamed", "New words")
    delete = reverse("corpora:dataset_delete", args=[dataset.pk])
    assert "cannot be undone" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert not type(dataset).objects.filter(pk=dataset.pk).exists()


def test_list_search_filter_and_htmx_partial(client, admin, workspace, other_workspace):
    client.force_login(admin)
    make_dataset(workspace, admin, name="Pirate voice")
    make_dataset(workspace, admin, name="Teacher voice")
    make_dataset(other_workspace, admin, name="Pirate secrets")
    body = client.get(reverse("corpora:dataset_list"), {"q": "pirate"}).content.decode()
    assert "Pirate voice" in body and "Teacher voice" not in body and "Pirate secrets" not in body
    partial = client.get(reverse("corpora:dataset_list"), {"status": "ready"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "Teacher voice" in partial.content.decode()
    assert "No datasets match" in client.get(reverse("corpora:dataset_list"), {"status": "failed"}).content.decode()


def test_list_is_paginated(client, admin, workspace):
    client.force_login(admin)
    for i in range(21):
        make_dataset(workspace, admin, name=f"Set {i:02}", rows=pairs(1))
    assert "Page 1 of 2 · 21 datasets" in client.get(reverse("corpora:dataset_list")).content.decode()
    assert client.get(reverse("corpora:dataset_list"), {"page": 2}).content.decode().count("<tr>") == 2


def test_records_partial_pages_and_filters_by_split(client, admin, workspace):
    client.force_login(admin)
    dataset = make_dataset(workspace, admin, rows=pairs(30))
    v1 = dataset.versions.get()
    v2 = services.version_split(version=v1, user=admin, validation_fraction=0.1, seed=3)
    url = reverse("corpora:version_records", args=[dataset.pk, v2.number])
    body = client.get(url, {"page": 3}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in body and "#21 " in body and "Page 3 of 3" in body
    body = client.get(url, {"split": "validation"}).content.decode()
    assert body.count('class="record"') == 3 and "Train</span>" not in body


def test_dedupe_split_and_export_from_the_version_page(client, admin, workspace):
    client.force_login(admin)
    dataset = make_dataset(workspace, admin, rows=pairs(4) + pairs(2))
    response = client.post(reverse("corpora:version_dedupe", args=[dataset.pk, 1]), follow=True)
    assert "removed 2 exact duplicates" in response.content.decode()
    response = client.post(reverse("corpora:version_split", args=[dataset.pk, 2]),
                           {"validation_fraction": "0.25", "seed": "5"}, follow=True)
    assert "Split of v2: 3 train / 1 validation (seed 5)" in response.content.decode()
    export = client.get(reverse("corpora:version_export", args=[dataset.pk, 3]))
    assert export["Content-Disposition"] == 'attachment; filename="voice-v3.jsonl"'
    lines = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert len(lines) == 4 and sorted(line["split"] for line in lines) == ["train"] * 3 + ["validation"]


def queue_background(workspace, user, content=None, *, name="big.jsonl", dataset=None, **options):
    """A background upload whose task has not run yet: (version, upload)."""
    files = [upload(name, content if content is not None else jsonl(pairs(20)))]
    if dataset is None:
        version = services.dataset_create_from_upload(
            workspace=workspace, user=user, name="Big", files=files, background=True,
            options=UploadOptions(**options),
        )
    else:
        version = services.dataset_add_files(dataset=dataset, user=user, files=files, background=True)
    return version, version.upload


def run_task(upload_pk, django_capture_on_commit_callbacks):
    from corpora.tasks import parse_dataset_upload

    with django_capture_on_commit_callbacks(execute=True):
        return parse_dataset_upload(upload_pk)


def test_a_large_upload_sends_the_uploader_to_its_progress_page(client, admin, media_root, settings, tmp_path):
    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 100
    client.force_login(admin)
    response = post_files(client, [write(tmp_path, "big.jsonl", jsonl(pairs(20)))])
    job = Upload.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url() == f"/datasets/uploads/{job.pk}/"
    page = client.get(response.url).content.decode()
    assert "New dataset “Uploaded”" in page and "big.jsonl" in page
    assert f'hx-get="/datasets/uploads/{job.pk}/status/" hx-trigger="every 1s"' in page and "<progress" in page


def test_status_partial_polls_while_processing_then_goes_to_the_version(
    client, admin, workspace, media_root, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False):
        version, job = queue_background(workspace, admin)
    page = client.get(version.get_absolute_url()).content.decode()  # the version page polls the upload too
    assert f'hx-get="/datasets/uploads/{job.pk}/status/" hx-trigger="every 1s"' in page and "<progress" in page
    url = reverse("corpora:upload_status", args=[job.pk])
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<progress" in partial and "<html" not in partial
    assert run_task(job.pk, django_capture_on_commit_callbacks) == "stored"
    assert client.get(url, HTTP_HX_REQUEST="true")["HX-Redirect"] == version.get_absolute_url()
    assert client.get(job.get_absolute_url()).url == version.get_absolute_url()


def test_a_rejected_background_upload_shows_its_problems_and_leaves_no_dataset(
    client, admin, workspace, media_root, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False):
        version, job = queue_background(workspace, admin, jsonl(pairs(3)) + b'{"prompt": "x"}\n')
    assert run_task(job.pk, django_capture_on_commit_callbacks) == "rejected"
    for url in (job.get_absolute_url(), reverse("corpora:upload_status", args=[job.pk])):
        response = client.get(url, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200
        assert "The upload was rejected: 1 problem found. Nothing was stored." in body
        assert "<td>big.jsonl</td><td>4</td><td>missing field &#x27;completion&#x27;</td>" in body
        assert f'href="{reverse("corpora:dataset_create")}">upload them again</a>' in body
        assert "hx-trigger" not in body  # the polling stops
    assert client.get(version.get_absolute_url()).status_code == 404
    assert "No datasets yet." in client.get(reverse("corpora:dataset_list")).content.decode()
    assert snapshot(media_root) == (0, 0, 0, [])


def test_rejected_files_for_a_dataset_link_back_to_its_add_files_form(
    client, admin, workspace, media_root, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    dataset = make_dataset(workspace, admin)
    with django_capture_on_commit_callbacks(execute=False):
        _, job = queue_background(workspace, admin, b"prompt,completion\nHi,\n", name="more.csv", dataset=dataset)
    assert run_task(job.pk, django_capture_on_commit_callbacks) == "rejected"
    body = client.get(job.get_absolute_url()).content.decode()
    assert "Files for “Voice”" in body and "empty text in column &#x27;completion&#x27;" in body
    assert f'href="{reverse("corpora:dataset_add_files", args=[dataset.pk])}">upload them again</a>' in body
    assert list(dataset.versions.values_list("number", flat=True)) == [1]


@pytest.mark.parametrize("role", ["writer", "editor", "admin"])
def test_an_upload_page_is_seen_by_its_workspace_members_only(
    client, make_member, workspace, other_workspace, media_root, role, django_capture_on_commit_callbacks
):
    owner = make_member("admin", workspace, username="owner")
    with django_capture_on_commit_callbacks(execute=False):
        _, job = queue_background(workspace, owner, b"nope\n")
    run_task(job.pk, django_capture_on_commit_callbacks)
    urls = [job.get_absolute_url(), reverse("corpora:upload_status", args=[job.pk])]
    client.force_login(make_member(role, workspace))
    assert [client.get(url).status_code for url in urls] == [200, 200]
    client.force_login(make_member("admin", other_workspace))
    assert [client.get(url).status_code for url in urls] == [404, 404]
    client.logout()
    assert "/accounts/login/" in client.get(urls[0]).url


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize("role, can_manage", [("writer", False), ("editor", False), ("admin", True)])
def test_roles_on_pages(client, make_member, workspace, role, can_manage, tmp_path):
    owner = make_member("admin", workspace, username="owner")
    dataset = make_dataset(workspace, owner)
    client.force_login(make_member(role, workspace))
    # view and export: everyone
    assert client.get(reverse("corpora:dataset_list")).status_code == 200
    assert client.get(dataset.get_absolute_url()).status_code == 200
    assert client.get(reverse("corpora:version_export", args=[dataset.pk, 1])).status_code == 200
    # upload, edit, delete, dedupe: admins only
    expected = 302 if can_manage else 403
    assert client.get(reverse("corpora:dataset_create")).status_code == (200 if can_manage else 403)
    assert post_files(client, [write(tmp_path, "a.jsonl", jsonl(pairs(2)))]).status_code == expected
    assert client.post(reverse("corpora:version_dedupe", args=[dataset.pk, 1])).status_code == expected
    assert client.post(reverse("corpora:dataset_delete", args=[dataset.pk])).status_code == expected
    manage_links = reverse("corpora:dataset_create") in client.get(reverse("corpora:dataset_list")).content.decode()
    assert manage_links == can_manage


def test_another_workspaces_dataset_is_404(client, make_member, workspace, other_workspace):
    stranger = make_member("admin", other_workspace)
    dataset = make_dataset(other_workspace, stranger)
    client.force_login(make_member("admin", workspace))
    for url in [
        dataset.get_absolute_url(), reverse("corpora:dataset_edit", args=[dataset.pk]),
        reverse("corpora:version_export", args=[dataset.pk, 1]),
        reverse("corpora:version_records", args=[dataset.pk, 1]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("corpora:dataset_delete", args=[dataset.pk])).status_code == 404
    assert dataset.versions.count() == 1


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("corpora:dataset_list"))
    assert response.status_code == 302 and "/accounts/login/" in response.url
