"""Dataset use cases: versions, keep-valid-rows, dedupe, split, export, the worker's half."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from corpora import selectors, services, tasks
from corpora.models import Dataset, DatasetVersion, Record
from corpora.parsing import parse_bytes
from corpora.services import UploadOptions, UploadRejected
from tests.corpora.conftest import jsonl, pairs, snapshot, upload


def create(workspace, user, name="Voice", files=None, **options):
    return services.dataset_create_from_upload(
        workspace=workspace, user=user, name=name,
        files=files or [upload("voice.jsonl", jsonl(pairs(5)))], options=UploadOptions(**options),
    )


def test_small_upload_makes_a_ready_version_with_tokens_and_stats(workspace, admin, media_root):
    version = create(workspace, admin, files=[
        upload("a.jsonl", jsonl(pairs(3))), upload("b.csv", b"prompt,completion\nHi,Ahoy\n"),
        upload("c.md", b"one\n---\ntwo\n"),
    ], text_separator="---")
    assert version.status == DatasetVersion.Status.READY
    assert version.number == 1 and version.note == "Upload of a.jsonl, b.csv, c.md"
    assert version.record_count == 6
    records = list(version.records.all())
    assert [r.source for r in records][:4] == ["a.jsonl:1", "a.jsonl:2", "a.jsonl:3", "b.csv:2"]
    assert all(r.token_count > 0 for r in records)
    assert version.token_count == sum(r.token_count for r in records)
    assert version.stats["kinds"] == {"instruction": 4, "text": 2}
    assert sum(b["count"] for b in version.stats["histogram"]) == 6
    assert snapshot(media_root)[3] == []  # small uploads never touch the disk


def test_rejected_upload_stores_nothing(workspace, admin, media_root):
    before = snapshot(media_root)
    bad = jsonl(pairs(10)) + b"not json\n"
    with pytest.raises(UploadRejected) as caught:
        create(workspace, admin, files=[upload("ok.jsonl", jsonl(pairs(3))), upload("bad.jsonl", bad)])
    assert [p.as_dict() for p in caught.value.problems] == [
        {"file": "bad.jsonl", "line": 11, "reason": "invalid JSON: Expecting value (column 1)"}
    ]
    assert snapshot(media_root) == before


def test_keep_valid_rows_stores_exactly_the_valid_rows(workspace, admin, media_root):
    content = jsonl(pairs(4)) + b"{oops\n" + jsonl([{"prompt": "x"}]) + jsonl(pairs(2, start=4))
    version = create(workspace, admin, files=[upload("mixed.jsonl", content)], keep_valid_rows=True)
    assert version.record_count == 6
    assert [r.data["prompt"] for r in version.records.all()] == [f"Question {i}?" for i in range(6)]
    assert version.problem_total == 2
    assert [(p["line"], p["reason"]) for p in version.problems] == [
        (5, "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
        (6, "missing field 'completion'"),
    ]


def test_an_upload_with_no_valid_rows_is_rejected_even_when_keeping_valid_rows(workspace, admin, media_root):
    with pytest.raises(UploadRejected):
        create(workspace, admin, files=[upload("x.jsonl", b"[]\n")], keep_valid_rows=True)
    assert Dataset.objects.count() == 0


def test_name_must_be_unique_in_the_workspace_but_not_across(workspace, other_workspace, admin):
    create(workspace, admin, name="Voice")
    with pytest.raises(ValidationError) as caught:
        create(workspace, admin, name="voice")
    assert "already exists" in caught.value.message_dict["name"][0]
    assert create(other_workspace, admin, name="Voice").dataset.workspace == other_workspace


def test_size_limit_is_checked_before_reading(workspace, admin, media_root, tmp_path, settings):
    sparse = tmp_path / "huge.jsonl"
    with open(sparse, "wb") as f:
        f.truncate(60 * 1024 * 1024)  # sparse: no disk, no memory
    before = snapshot(media_root)
    with open(sparse, "rb") as f, pytest.raises(ValidationError) as caught:
        create(workspace, admin, files=[UploadedFile(f, name="huge.jsonl", size=60 * 1024 * 1024)])
    assert caught.value.message_dict["files"] == [
        "The upload is 60.0 MB; the limit is 50.0 MB per upload. Split the file or remove rows you do not need."
    ]
    assert snapshot(media_root) == before


def test_adding_files_makes_a_new_version_and_keeps_the_old_one(workspace, admin):
    v1 = create(workspace, admin)
    v2 = services.dataset_add_files(
        dataset=v1.dataset, user=admin, files=[upload("more.jsonl", jsonl(pairs(2, start=100)))]
    )
    assert (v2.number, v2.parent, v2.record_count) == (2, v1, 7)
    assert v2.note == "Upload of more.jsonl added to v1"
    v1.refresh_from_db()
    assert v1.record_count == 5 and v1.records.count() == 5


def test_dedupe_removes_exact_duplicates_into_a_new_version(workspace, admin):
    rows = pairs(3) + pairs(2) + [{"prompt": "Question 0?", "completion": "Different."}]
    v1 = create(workspace, admin, files=[upload("dupes.jsonl", jsonl(rows))])
    v2 = services.version_deduplicate(version=v1, user=admin)
    assert v2.note == "Dedupe of v1: removed 2 exact duplicates"
    assert v2.record_count == 4 and v2.stats["removed_duplicates"] == 2
    assert [r.index for r in v2.records.all()] == [1, 2, 3, 4]
    assert v1.records.count() == 6


def test_split_is_seeded_and_reproducible(workspace, admin):
    v1 = create(workspace, admin, files=[upload("d.jsonl", jsonl(pairs(50)))])
    a = services.version_split(version=v1, user=admin, validation_fraction=0.2, seed=7)
    b = services.version_split(version=v1, user=admin, validation_fraction=0.2, seed=7)
    c = services.version_split(version=v1, user=admin, validation_fraction=0.2, seed=8)
    labels = [list(v.records.values_list("split", flat=True)) for v in (a, b, c)]
    assert labels[0] == labels[1] != labels[2]
    assert labels[0].count("validation") == 10 and labels[0].count("train") == 40
    assert a.note == "Split of v1: 40 train / 10 validation (seed 7)"
    assert a.stats["splits"] == {"train": 40, "validation": 10}
    with pytest.raises(ValidationError):
        services.version_split(version=v1, user=admin, validation_fraction=1.5, seed=1)


def test_export_round_trips_with_split_labels(workspace, admin):
    rows = pairs(4) + [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Ahoy"}]},
                       {"text": "Ünïcode ✓"}]
    v1 = create(workspace, admin, files=[upload("d.jsonl", jsonl(rows))])
    v2 = services.version_split(version=v1, user=admin, validation_fraction=0.5, seed=1)
    exported = "".join(selectors.version_export_lines(v2)).encode()
    lines = [json.loads(line) for line in exported.splitlines()]
    assert [{k: v for k, v in line.items() if k != "split"} for line in lines] == rows
    records, problems = parse_bytes("export.jsonl", exported)
    assert problems == []
    assert [(r.data, r.split) for r in records] == list(v2.records.values_list("data", "split"))


def test_delete_removes_versions_and_records(workspace, admin):
    version = create(workspace, admin)
    services.dataset_delete(dataset=version.dataset)
    assert (Dataset.objects.count(), DatasetVersion.objects.count(), Record.objects.count()) == (0, 0, 0)


def test_large_upload_is_parsed_by_the_task_with_progress_and_twice_is_harmless(
    workspace, admin, media_root, settings, django_capture_on_commit_callbacks
):
    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 1000
    content = jsonl(pairs(1200))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        version = create(workspace, admin, files=[upload("big.jsonl", content)])
    assert version.records.count() == 0
    assert len(callbacks) == 1  # the enqueue waits for the commit
    assert version.status == DatasetVersion.Status.PROCESSING
    assert version.record_count == 0 and version.progress_total == len(content)
    assert len(snapshot(media_root)[3]) == 1  # the upload waits on disk for the worker
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_upload(version.pk) == "ready"
    version.refresh_from_db()
    assert version.record_count == 1200 and version.progress_done == version.progress_total
    assert tasks.parse_upload(version.pk) == "ready"  # at-least-once delivery: a no-op
    assert version.records.count() == 1200
    assert snapshot(media_root)[3] == []


def test_a_rejected_large_upload_fails_the_version_and_removes_the_file(
    workspace, admin, media_root, settings, django_capture_on_commit_callbacks
):
    settings.INKSTONE_UPLOAD_ASYNC_BYTES = 1000
    with django_capture_on_commit_callbacks(execute=False):
        version = create(workspace, admin, files=[upload("big.jsonl", jsonl(pairs(100)) + b"{\n")])
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_upload(version.pk) == "failed"
    version.refresh_from_db()
    assert version.records.count() == 0
    assert version.problems == [{"file": "big.jsonl", "line": 101,
                                 "reason": "invalid JSON: Expecting property name enclosed in double quotes (column 2)"}]
    assert snapshot(media_root)[3] == []


def test_example_dataset_is_seeded_once(workspace, admin):
    from corpora.starter import EXAMPLE_NAME, seed_example_dataset

    dataset = seed_example_dataset(workspace=workspace, created_by=admin)
    assert dataset.name == EXAMPLE_NAME
    version = selectors.latest_version(dataset)
    assert version.status == DatasetVersion.Status.READY and version.record_count >= 40
    assert seed_example_dataset(workspace=workspace) == dataset
    assert Dataset.objects.filter(workspace=workspace).count() == 1
