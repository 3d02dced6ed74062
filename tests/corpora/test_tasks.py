"""A large upload goes through the real django-q2 worker process, with progress on its page."""

import time

import pytest
from django.db import connection
from django.urls import reverse

from corpora.models import DatasetVersion, Upload
from tests.corpora.conftest import jsonl, pairs, snapshot
from tests.support import start_worker, stop


def run_worker_until_done(upload: Upload, tmp_path) -> set[int]:
    """Start a worker, wait until it has read the upload, stop it; the progress values seen."""
    log = tmp_path / "worker.log"
    worker = start_worker(connection.settings_dict, "generation", log)
    seen = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            upload.refresh_from_db()
            seen.add(upload.progress_done)
            if upload.status != Upload.Status.PROCESSING:
                break
            time.sleep(0.2)
    finally:
        stop(worker)
    assert upload.status != Upload.Status.PROCESSING, log.read_text()[-3000:]
    return seen


@pytest.mark.django_db(transaction=True)
def test_large_upload_is_parsed_by_the_worker_with_progress(client, make_member, workspace, settings, media_root, tmp_path):
    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 10_000
    client.force_login(make_member("admin", workspace))
    path = tmp_path / "big.jsonl"
    path.write_bytes(jsonl(pairs(3000)))
    with open(path, "rb") as f:
        response = client.post(reverse("corpora:dataset_create"), {"name": "Big", "files": [f]})
    upload = Upload.objects.get()
    assert response.status_code == 302 and response.url == upload.get_absolute_url()
    assert upload.version.status == DatasetVersion.Status.PROCESSING
    assert len(snapshot(media_root)[3]) == 1
    status_url = reverse("corpora:upload_status", args=[upload.pk])
    partial = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert f'<progress value="0" max="{path.stat().st_size}">' in partial
    assert 'hx-trigger="every 1s"' in partial

    seen = run_worker_until_done(upload, tmp_path)
    version = upload.version
    assert upload.status == Upload.Status.STORED and version.status == DatasetVersion.Status.READY
    assert version.record_count == 3000 and version.records.count() == 3000
    assert upload.progress_done == upload.progress_total == path.stat().st_size
    assert 0 in seen
    assert client.get(status_url, HTTP_HX_REQUEST="true")["HX-Redirect"] == version.get_absolute_url()
    page = client.get(version.get_absolute_url()).content.decode()
    assert 'data-testid="record-count">3,000<' in page
    assert snapshot(media_root)[3] == []  # the upload is removed once parsed


@pytest.mark.django_db(transaction=True)
def test_a_rejected_10_mb_upload_stores_nothing_and_its_page_shows_the_problems(
    client, make_member, workspace, media_root, tmp_path
):
    """Over the default 2 MB, so the worker reads it; every row holds one field of two."""
    client.force_login(make_member("admin", workspace))
    path = tmp_path / "single.csv"
    row = b"only a prompt here\n"
    rows = 10 * 1024 * 1024 // len(row)
    path.write_bytes(b"prompt,completion\n" + row * rows)
    before = snapshot(media_root)
    with open(path, "rb") as f:
        response = client.post(reverse("corpora:dataset_create"), {"name": "Single", "files": [f]})
    upload = Upload.objects.get()
    assert response.status_code == 302 and response.url == upload.get_absolute_url()

    run_worker_until_done(upload, tmp_path)
    assert upload.status == Upload.Status.REJECTED
    assert snapshot(media_root) == before  # no dataset, version, record, nor file
    assert upload.problem_total == rows and len(upload.problems) == 500
    page = client.get(response.url).content.decode()
    assert f"The upload was rejected: {rows} problems found. Nothing was stored." in page
    assert "<td>single.csv</td><td>2</td><td>expected 2 fields, found 1</td>" in page
    assert f"Showing the first 500 of {rows}." in page
    assert "No datasets yet." in client.get(reverse("corpora:dataset_list")).content.decode()
