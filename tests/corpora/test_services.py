"""Dataset use cases: versions, keep-valid-rows, dedupe, split, export, the worker's half."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from hypothesis import event, given
from hypothesis import strategies as st

from corpora import selectors, services, tasks
from corpora.models import Dataset, DatasetVersion, Record, Upload
from corpora.parsing import parse_bytes
from corpora.services import UploadOptions, UploadRejected
from tests.corpora.conftest import jsonl, pairs, snapshot, upload
from tests.corpora.strategies import any_file, fuzz_settings


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


def background(workspace, user, files, *, name="Big", dataset=None, **options):
    """A background upload, queued but not yet run: (version, upload)."""
    if dataset is None:
        version = services.dataset_create_from_upload(
            workspace=workspace, user=user, name=name, files=files, options=UploadOptions(**options),
            background=True,
        )
    else:
        version = services.dataset_add_files(
            dataset=dataset, user=user, files=files, options=UploadOptions(**options), background=True,
        )
    assert version.status == DatasetVersion.Status.PROCESSING
    return version, version.upload


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
    job = version.upload
    assert (job.status, job.workspace, job.created_by, job.dataset_name) == (Upload.Status.PROCESSING, workspace, admin, "Voice")
    assert job.progress_total == len(content) and job.file_names == ["big.jsonl"]
    assert len(snapshot(media_root)[3]) == 1  # the upload waits on disk for the worker
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_dataset_upload(job.pk) == "stored"
    version.refresh_from_db()
    job.refresh_from_db()
    assert version.status == DatasetVersion.Status.READY and version.record_count == 1200
    assert job.progress_done == job.progress_total and job.problems == [] and job.version == version
    assert tasks.parse_dataset_upload(job.pk) == "stored"  # at-least-once delivery: a no-op
    assert version.records.count() == 1200
    assert snapshot(media_root)[3] == []


def test_a_rejected_large_upload_stores_nothing_and_its_upload_keeps_the_problems(
    workspace, admin, media_root, django_capture_on_commit_callbacks
):
    before = snapshot(media_root)
    with django_capture_on_commit_callbacks(execute=False):
        _, job = background(workspace, admin, [upload("big.jsonl", jsonl(pairs(100)) + b"{\n"), upload("b.csv", b"x\n1\n")])
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_dataset_upload(job.pk) == "rejected"
    assert snapshot(media_root) == before  # no dataset, version, record or file
    job.refresh_from_db()
    assert (job.status, job.dataset, job.version, job.dataset_name) == (Upload.Status.REJECTED, None, None, "Big")
    assert job.problem_total == 2 and job.problems == [
        {"file": "big.jsonl", "line": 101, "reason": "invalid JSON: Expecting property name enclosed in double quotes (column 2)"},
        {"file": "b.csv", "line": 1, "reason": "choose which columns hold the prompt and completion, or the text (columns: x)"},
    ]
    assert job.sources == [] and job.finished_at is not None


def test_rejected_files_added_to_a_dataset_remove_only_the_new_version(
    workspace, admin, media_root, django_capture_on_commit_callbacks
):
    v1 = create(workspace, admin)
    before = snapshot(media_root)
    with django_capture_on_commit_callbacks(execute=False):
        v2, job = background(workspace, admin, [upload("more.jsonl", b'{"text": "\\u0000"}\n')], dataset=v1.dataset)
    assert v2.number == 2 and not job.new_dataset
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_dataset_upload(job.pk) == "rejected"
    assert snapshot(media_root) == before
    job.refresh_from_db()
    assert job.dataset == v1.dataset and job.version is None
    assert job.problems[0]["reason"] == "field 'text' holds a NUL character (\\u0000) at character 1, which cannot be stored"
    assert list(v1.dataset.versions.values_list("number", flat=True)) == [1]


def test_keep_valid_rows_in_the_background_stores_the_valid_rows_and_lists_the_skipped_ones(
    workspace, admin, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        version, job = background(workspace, admin, [upload("m.jsonl", jsonl(pairs(3)) + b"nope\n")], keep_valid_rows=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_dataset_upload(job.pk) == "stored"
    version.refresh_from_db()
    job.refresh_from_db()
    assert version.record_count == 3 and version.problem_total == 1
    assert job.problems == version.problems == [{"file": "m.jsonl", "line": 4, "reason": "invalid JSON: Expecting value (column 1)"}]
    assert snapshot(media_root)[3] == []


def test_an_unreadable_upload_is_rejected_and_leaves_nothing(workspace, admin, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        _, job = background(workspace, admin, [upload("big.jsonl", jsonl(pairs(3)))])
    for source in job.sources:
        Path(source["path"]).unlink()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_dataset_upload(job.pk) == "rejected"
    assert snapshot(media_root) == ((0, 0, 0, []))
    job.refresh_from_db()
    assert job.problems[0]["reason"].startswith("could not read the uploaded file:")


def test_deleting_a_dataset_while_its_upload_waits_rejects_the_upload_and_removes_the_files(
    workspace, admin, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        version, job = background(workspace, admin, [upload("big.jsonl", jsonl(pairs(3)))])
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_delete(dataset=version.dataset)
    assert snapshot(media_root) == ((0, 0, 0, []))
    job.refresh_from_db()
    assert job.status == Upload.Status.REJECTED
    assert job.problems == [{"file": "big.jsonl", "line": None, "reason": "the dataset was deleted before this upload was read"}]
    assert tasks.parse_dataset_upload(job.pk) == "rejected"  # the queued task finds nothing to do


def test_a_file_name_too_long_for_the_disk_is_still_uploaded(workspace, admin, media_root, django_capture_on_commit_callbacks):
    name = "é" * 200 + ".jsonl"  # 206 characters (Django keeps up to 255) but 406 bytes (the disk: 255)
    with django_capture_on_commit_callbacks(execute=False):
        _, job = background(workspace, admin, [upload(name, jsonl(pairs(2)))])
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.parse_dataset_upload(job.pk) == "stored"
    assert job.file_names == [name]


def test_a_small_rejected_upload_leaves_no_upload_row_either(workspace, admin, media_root):
    with pytest.raises(UploadRejected):
        create(workspace, admin, files=[upload("bad.jsonl", b"{\n")])
    assert Upload.objects.count() == 0


def test_example_dataset_is_seeded_once(workspace, admin):
    from corpora.starter import EXAMPLE_NAME, seed_example_dataset

    dataset = seed_example_dataset(workspace=workspace, created_by=admin)
    assert dataset.name == EXAMPLE_NAME
    version = selectors.latest_version(dataset)
    assert version.status == DatasetVersion.Status.READY and version.record_count >= 40
    assert seed_example_dataset(workspace=workspace) == dataset
    assert Dataset.objects.filter(workspace=workspace).count() == 1


# --------------------------------------------------------------------------- properties


@pytest.fixture
def property_env(workspace, admin, media_root, django_capture_on_commit_callbacks):
    return workspace, admin, media_root, django_capture_on_commit_callbacks


def _expected(files, options):
    """What the parser makes of the files: (records, problem count)."""
    records, problems = [], 0
    for name, content in files:
        parsed, found = parse_bytes(name, content, options)
        records += parsed
        problems += len(found)
    return records, problems


@fuzz_settings(max_examples=60)
@given(files=st.lists(any_file, min_size=1, max_size=3), keep_valid_rows=st.booleans(), in_background=st.booleans())
def test_property_a_problem_stores_nothing_and_keep_valid_rows_stores_exactly_the_valid_records(
    property_env, files, keep_valid_rows, in_background
):
    """In the request and in the worker alike."""
    workspace, admin, media_root, capture = property_env
    options = UploadOptions(keep_valid_rows=keep_valid_rows, text_separator="---")
    records, problems = _expected(files, options)
    stored = bool(records) and (keep_valid_rows or not problems)
    event(f"stored={stored} keep_valid_rows={keep_valid_rows} problems={bool(problems)}")
    uploads = [upload(name, content) for name, content in files]
    with transaction.atomic():  # rolled back after each example
        try:
            with capture(execute=False):
                version = services.dataset_create_from_upload(
                    workspace=workspace, user=admin, name="Fuzzed", files=uploads, options=options,
                    background=in_background,
                )
            if in_background:
                with capture(execute=True):
                    status = tasks.parse_dataset_upload(version.upload.pk)
                assert status == ("stored" if stored else "rejected")
                assert Upload.objects.get().problem_total == (problems if stored else problems or 1)
        except UploadRejected as exc:
            assert not stored and not in_background
            assert exc.total == (problems or 1)  # or the one "no records found"
        if stored:
            version.refresh_from_db()
            assert version.record_count == len(records) == Record.objects.count()
            assert list(version.records.values_list("data", flat=True)) == [r.data for r in records]
            assert version.problem_total == problems
        else:
            assert (Dataset.objects.count(), DatasetVersion.objects.count(), Record.objects.count()) == (0, 0, 0)
        assert snapshot(media_root)[3] == []
        transaction.set_rollback(True)
