"""Migration 0002 keeps uploads that a worker has not read yet: their files move onto an Upload."""

import pytest

from tests.support import migrate

BEFORE = [("corpora", "0001_initial")]



@pytest.mark.django_db(transaction=True)
def test_a_version_still_processing_gets_the_upload_that_holds_its_files(workspace, admin):
    apps = migrate(BEFORE)
    try:
        Dataset = apps.get_model("corpora", "Dataset")
        DatasetVersion = apps.get_model("corpora", "DatasetVersion")
        dataset = Dataset.objects.create(workspace_id=workspace.pk, name="Big", created_by_id=admin.pk)
        ready = DatasetVersion.objects.create(dataset=dataset, number=1, status="ready", note="Upload of a.jsonl")
        sources = [{"name": "b.jsonl", "path": "/uploads/corpora/7/0-b.jsonl", "size": 9000}]
        waiting = DatasetVersion.objects.create(
            dataset=dataset, number=2, parent=ready, status="processing", note="Upload of b.jsonl added to v1",
            created_by_id=admin.pk, sources=sources, options={"keep_valid_rows": True}, progress_done=100,
            progress_total=9000,
        )
    finally:
        apps = migrate()
    upload = apps.get_model("corpora", "Upload").objects.get()
    assert (upload.version_id, upload.dataset_id, upload.workspace_id, upload.created_by_id) == (
        waiting.pk, dataset.pk, workspace.pk, admin.pk)
    assert (upload.status, upload.dataset_name, upload.new_dataset, upload.file_names) == ("processing", "Big", False, ["b.jsonl"])
    assert (upload.sources, upload.options, upload.progress_done, upload.progress_total) == (
        sources, {"keep_valid_rows": True}, 100, 9000)

    from corpora.tasks import parse_upload

    assert parse_upload(waiting.pk) == "rejected"  # a task queued before the migration finds it (file gone)
