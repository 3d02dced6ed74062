"""A large upload goes through the real django-q2 worker process, with progress on the page."""

import time

import pytest
from django.db import connection
from django.urls import reverse

from corpora.models import DatasetVersion
from tests.corpora.conftest import jsonl, pairs, snapshot
from tests.support import start_worker, stop


@pytest.mark.django_db(transaction=True)
def test_large_upload_is_parsed_by_the_worker_with_progress(client, make_member, workspace, settings, media_root, tmp_path):
    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 10_000
    client.force_login(make_member("admin", workspace))
    path = tmp_path / "big.jsonl"
    path.write_bytes(jsonl(pairs(3000)))
    with open(path, "rb") as f:
        response = client.post(reverse("corpora:dataset_create"), {"name": "Big", "files": [f]})
    assert response.status_code == 302
    version = DatasetVersion.objects.get()
    assert version.status == DatasetVersion.Status.PROCESSING
    assert len(snapshot(media_root)[3]) == 1
    progress_url = reverse("corpora:version_progress", args=[version.dataset_id, version.number])
    partial = client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert f'<progress value="0" max="{path.stat().st_size}">' in partial
    assert 'hx-trigger="every 1s"' in partial

    worker = start_worker(connection.settings_dict, "generation", tmp_path / "worker.log")
    try:
        seen = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            version.refresh_from_db()
            seen.add(version.progress_done)
            if version.status != DatasetVersion.Status.PROCESSING:
                break
            time.sleep(0.2)
    finally:
        stop(worker)
    assert version.status == DatasetVersion.Status.READY, (tmp_path / "worker.log").read_text()[-3000:]
    assert version.record_count == 3000 and version.records.count() == 3000
    assert version.progress_done == version.progress_total == path.stat().st_size
    assert 0 in seen
    assert client.get(progress_url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"
    page = client.get(version.get_absolute_url()).content.decode()
    assert 'data-testid="record-count">3,000<' in page
    assert snapshot(media_root)[3] == []  # the upload is removed once parsed
