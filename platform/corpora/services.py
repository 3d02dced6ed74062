"""Dataset use cases: upload, edit, delete, deduplicate, split. Every change makes a new version.

Small uploads are parsed in the request, inside one transaction: a rejected upload stores
nothing. Large ones are saved under MEDIA_ROOT and parsed by a worker (`corpora.tasks`), which
reports progress on the version and removes the files when done.
"""

import json
import logging
import random
import shutil
import statistics
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import get_valid_filename

from corpora.models import Dataset, DatasetVersion, Record
from corpora.parsing import (
    ParsedRecord,
    ParseOptions,
    Problem,
    Progress,
    file_format,
    parse_file,
    unsupported_format_reason,
)
from corpora.tokens import count_tokens

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_REPORTED_PROBLEMS = 500
HISTOGRAM_BINS = 12
MB = 1024 * 1024


def upload_max_bytes() -> int:
    return getattr(settings, "INKSTONE_UPLOAD_MAX_BYTES", 50 * MB)


def upload_async_bytes() -> int:
    """Uploads larger than this are parsed by a worker, with progress on the page."""
    return getattr(settings, "INKSTONE_UPLOAD_ASYNC_BYTES", 2 * MB)


def human_size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{max(1, size // 1024)} KB"


def size_limit_message(size: int) -> str:
    return (
        f"The upload is {human_size(size)}; the limit is {human_size(upload_max_bytes())} per "
        "upload. Split the file or remove rows you do not need."
    )


@dataclass
class UploadOptions(ParseOptions):
    keep_valid_rows: bool = False  # store the valid rows and list the skipped ones


class UploadRejected(Exception):
    """The files have problems and the uploader did not ask to keep only the valid rows."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        s = "" if self.total == 1 else "s"
        return f"The upload was rejected: {self.total} problem{s} found. Nothing was stored."

    def as_dicts(self) -> list[dict]:
        return [p.as_dict() for p in self.problems]


# --------------------------------------------------------------------------- datasets


def _clean_name(*, workspace, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the dataset a name."]})
    if len(name) > 120:
        raise ValidationError({"name": ["Keep the name under 120 characters."]})
    clash = Dataset.objects.filter(workspace=workspace, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": [f"A dataset named “{name}” already exists in this workspace."]})
    return name


def dataset_name_errors(*, workspace, name: str, exclude_pk: int | None = None) -> list[str]:
    """For inline validation: the problems with a proposed name (empty when fine)."""
    try:
        _clean_name(workspace=workspace, name=name, exclude_pk=exclude_pk)
    except ValidationError as exc:
        return exc.message_dict["name"]
    return []


def _check_files(files) -> None:
    if not files:
        raise ValidationError({"files": ["Choose at least one file (.jsonl, .csv, .txt or .md)."]})
    total = sum(f.size for f in files)
    if total > upload_max_bytes():
        raise ValidationError({"files": [size_limit_message(total)]})
    unsupported = [
        Problem(f.name, None, unsupported_format_reason(f.name))
        for f in files if file_format(f.name) is None
    ]
    if unsupported:
        raise UploadRejected(unsupported)


@transaction.atomic
def dataset_create_from_upload(
    *, workspace, user, name: str, files, options: UploadOptions | None = None, description: str = "",
    background: bool | None = None,
) -> DatasetVersion:
    """Create a dataset and its first version from uploaded files.

    Raises ValidationError (naming the field) or UploadRejected (file, line and reason of each
    problem); either way nothing is stored. Uploads over INKSTONE_UPLOAD_ASYNC_BYTES (or any,
    with background=True) come back "processing" and are parsed by a worker.
    """
    options = options or UploadOptions()
    name = _clean_name(workspace=workspace, name=name)
    _check_files(files)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                workspace=workspace, name=name, description=description.strip(), created_by=user
            )
    except IntegrityError:  # a concurrent request took the name between the check and here
        raise ValidationError({"name": [f"A dataset named “{name}” already exists in this workspace."]}) from None
    return _version_from_upload(
        dataset=dataset, base=None, user=user, files=files, options=options, background=background
    )


@transaction.atomic
def dataset_add_files(*, dataset: Dataset, user, files, options: UploadOptions | None = None) -> DatasetVersion:
    """A new version: the latest ready version's records plus those of the new files."""
    options = options or UploadOptions()
    _check_files(files)
    base = dataset.versions.filter(status=DatasetVersion.Status.READY).order_by("-number").first()
    return _version_from_upload(dataset=dataset, base=base, user=user, files=files, options=options)


@transaction.atomic
def dataset_update(*, dataset: Dataset, name: str | None = None, description: str | None = None) -> Dataset:
    if name is not None:
        dataset.name = _clean_name(workspace=dataset.workspace, name=name, exclude_pk=dataset.pk)
    if description is not None:
        dataset.description = description.strip()
    dataset.save()
    return dataset


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    folders = [_upload_dir(pk) for pk in dataset.versions.values_list("pk", flat=True)]
    folders += [Path(s["path"]).parent for v in dataset.versions.only("sources") for s in v.sources]
    dataset.delete()
    transaction.on_commit(lambda: [shutil.rmtree(folder, ignore_errors=True) for folder in folders])


# --------------------------------------------------------------------------- versions


def _new_version(*, dataset: Dataset, parent, user, note: str, **fields) -> DatasetVersion:
    # Lock the dataset row so two concurrent changes cannot take the same number.
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
    Dataset.objects.filter(pk=dataset.pk).update(updated_at=timezone.now())
    number = (dataset.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return DatasetVersion.objects.create(
        dataset=dataset, number=number, parent=parent, note=note[:500], created_by=user, **fields
    )


def _upload_dir(version_pk: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "corpora" / str(version_pk)


def _version_from_upload(*, dataset, base, user, files, options: UploadOptions, background=None) -> DatasetVersion:
    total = sum(f.size for f in files)
    note = "Upload of " + ", ".join(f.name for f in files)
    if base is not None:
        note += f" added to v{base.number}"
    version = _new_version(
        dataset=dataset, parent=base, user=user, note=note,
        progress_total=total, options=options.as_dict(),
    )
    if background is None:
        background = total > upload_async_bytes()
    if background:
        folder = _upload_dir(version.pk)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            sources = []
            for i, uploaded in enumerate(files):
                path = folder / f"{i}-{get_valid_filename(uploaded.name) or 'upload'}"
                with open(path, "wb") as out:
                    for chunk in uploaded.chunks():
                        out.write(chunk)
                sources.append({"name": uploaded.name, "path": str(path), "size": uploaded.size})
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        version.sources = sources
        version.save(update_fields=["sources"])
        transaction.on_commit(partial(_enqueue_parse, version.pk))
        return version
    for uploaded in files:
        uploaded.seek(0)
    problems, total_problems = _ingest(
        version=version, base=base, sources=[(f.name, f) for f in files], options=options
    )
    count = version.records.count()
    if (total_problems and not options.keep_valid_rows) or count == 0:
        if count == 0 and not total_problems:
            problems, total_problems = [Problem(files[0].name, None, "no records found")], 1
        raise UploadRejected(problems, total_problems)
    _finish(version, problems, total_problems)
    return version


def _enqueue_parse(version_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("corpora.tasks.parse_upload", version_pk, cluster="generation",
               task_name=f"parse dataset version {version_pk}")


def _ingest(*, version, base, sources, options: UploadOptions, on_progress=None):
    """Store the base version's records then the parsed ones; returns (problems, total)."""
    index = 0
    if base is not None:
        index = _copy_records(base.records.order_by("index").iterator(chunk_size=2000), version)
    problems: list[Problem] = []
    total_problems = 0
    batch: list[ParsedRecord] = []
    progress = Progress()

    def flush():
        nonlocal index, batch
        if not batch:
            return
        if total_problems and not options.keep_valid_rows:
            batch = []  # rejected anyway: only keep collecting problems
            return
        tokens = count_tokens([r.text for r in batch])
        rows = []
        for record, n_tokens in zip(batch, tokens, strict=True):
            index += 1
            rows.append(Record(
                version=version, index=index, kind=record.kind, data=record.data, split=record.split,
                token_count=n_tokens, source=f"{record.file}:{record.line}"[:300],
            ))
        Record.objects.bulk_create(rows)
        batch = []
        if on_progress is not None:
            on_progress(progress.done)

    for name, stream in sources:
        for item in parse_file(name, stream, options, progress):
            if isinstance(item, Problem):
                total_problems += 1
                if len(problems) < MAX_REPORTED_PROBLEMS:
                    problems.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                flush()
    flush()
    if on_progress is not None:
        on_progress(progress.done)
    return problems, total_problems


def _copy_records(records, version, *, split_for=None) -> int:
    """Copy records into `version` with fresh indexes; returns how many."""
    index, rows = 0, []
    for record in records:
        index += 1
        split = split_for(index - 1) if split_for else record.split
        rows.append(Record(
            version=version, index=index, kind=record.kind, data=record.data, split=split,
            token_count=record.token_count, source=record.source,
        ))
        if len(rows) >= 2000:
            Record.objects.bulk_create(rows)
            rows = []
    Record.objects.bulk_create(rows)
    return index


def _finish(version: DatasetVersion, problems: list[Problem] = (), total_problems: int = 0, **extra_stats) -> None:
    """Mark a version ready with its counts and statistics."""
    tokens = list(version.records.order_by().values_list("token_count", flat=True))
    kinds: dict[str, int] = {}
    for kind in version.records.order_by().values_list("kind", flat=True):
        kinds[kind] = kinds.get(kind, 0) + 1
    splits: dict[str, int] = {}
    for split in version.records.order_by().values_list("split", flat=True):
        splits[split or "unsplit"] = splits.get(split or "unsplit", 0) + 1
    version.record_count = len(tokens)
    version.token_count = sum(tokens)
    version.stats = {
        "tokens": {
            "min": min(tokens, default=0), "max": max(tokens, default=0),
            "mean": round(statistics.fmean(tokens), 1) if tokens else 0,
        },
        "histogram": length_histogram(tokens),
        "kinds": kinds,
        "splits": splits,
        **extra_stats,
    }
    version.error_report = (
        {"problems": [p.as_dict() for p in problems], "total": total_problems} if total_problems else {}
    )
    version.status = DatasetVersion.Status.READY
    version.progress_done = version.progress_total
    version.finished_at = timezone.now()
    version.sources = []
    version.save()


def length_histogram(values: list[int], bins: int = HISTOGRAM_BINS) -> list[dict]:
    """Counts of values in equal-width bins: [{"lo", "hi", "count"}] (inclusive bounds)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    width = max(1, -(-(hi - lo + 1) // bins))  # ceil
    n = -(-(hi - lo + 1) // width)
    counts = [0] * n
    for value in values:
        counts[(value - lo) // width] += 1
    return [{"lo": lo + i * width, "hi": lo + (i + 1) * width - 1, "count": c} for i, c in enumerate(counts)]


def version_parse_sources(*, version_id: int) -> str:
    """The worker's half of a large upload. Safe to run twice: a finished version is left alone,
    a half-done one starts over."""
    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None:
        return "gone"
    if version.status != DatasetVersion.Status.PROCESSING:
        return version.status
    options = UploadOptions(**version.options)
    sources = list(version.sources)
    version.records.all().delete()  # a previous, interrupted attempt
    DatasetVersion.objects.filter(pk=version.pk).update(progress_done=0)

    def on_progress(done: int) -> None:
        DatasetVersion.objects.filter(pk=version.pk).update(progress_done=done)

    streams = []
    try:
        for source in sources:
            streams.append((source["name"], open(source["path"], "rb")))
        problems, total_problems = _ingest(
            version=version, base=version.parent, sources=streams, options=options,
            on_progress=on_progress,
        )
    except OSError as exc:
        problems, total_problems = [Problem("upload", None, f"could not read the uploaded file: {exc}")], 1
        options.keep_valid_rows = False
    except Exception as exc:  # never leave a version "processing" for ever
        logger.exception("parsing dataset version %s failed", version.pk)
        problems, total_problems = [Problem("upload", None, f"the worker failed: {exc}")], 1
        options.keep_valid_rows = False
    finally:
        for _, stream in streams:
            stream.close()
    with transaction.atomic():
        count = version.records.count()
        if (total_problems and not options.keep_valid_rows) or count == 0:
            if count == 0 and not total_problems:
                problems, total_problems = [Problem(sources[0]["name"], None, "no records found")], 1
            version.records.all().delete()
            version.status = DatasetVersion.Status.FAILED
            version.error_report = {"problems": [p.as_dict() for p in problems], "total": total_problems}
            version.finished_at = timezone.now()
            version.sources = []
            version.save()
        else:
            _finish(version, problems, total_problems)
        folders = {Path(s["path"]).parent for s in sources}
        transaction.on_commit(lambda: [shutil.rmtree(f, ignore_errors=True) for f in folders])
    return version.status


def _require_ready(version: DatasetVersion) -> None:
    if version.status != DatasetVersion.Status.READY:
        raise ValidationError(f"Version {version.number} is {version.get_status_display().lower()}, not ready.")


def _record_key(record: Record) -> str:
    return record.kind + json.dumps(record.data, sort_keys=True, ensure_ascii=False)


@transaction.atomic
def version_deduplicate(*, version: DatasetVersion, user) -> DatasetVersion:
    """A new version without exact duplicates (same kind and content; the first one stays)."""
    _require_ready(version)
    seen: set[str] = set()
    kept = []
    for record in version.records.order_by("index").iterator(chunk_size=2000):
        key = _record_key(record)
        if key not in seen:
            seen.add(key)
            kept.append(record)
    removed = version.record_count - len(kept)
    s = "" if removed == 1 else "s"
    new = _new_version(
        dataset=version.dataset, parent=version, user=user,
        note=f"Dedupe of v{version.number}: removed {removed} exact duplicate{s}",
        progress_total=1,
    )
    _copy_records(kept, new)
    _finish(new, removed_duplicates=removed)
    return new


@transaction.atomic
def version_split(*, version: DatasetVersion, user, validation_fraction: float, seed: int) -> DatasetVersion:
    """A new version whose records are labelled train/validation; the same seed gives the same split."""
    _require_ready(version)
    if not 0 < validation_fraction < 1:
        raise ValidationError({"validation_fraction": ["Choose a validation fraction between 0 and 1 (e.g. 0.1)."]})
    n = version.record_count
    if n < 2:
        raise ValidationError({"validation_fraction": ["A split needs at least 2 records."]})
    n_validation = min(n - 1, max(1, round(n * validation_fraction)))
    order = list(range(n))
    random.Random(seed).shuffle(order)
    validation = set(order[:n_validation])
    new = _new_version(
        dataset=version.dataset, parent=version, user=user,
        note=(f"Split of v{version.number}: {n - n_validation} train / {n_validation} validation "
              f"(seed {seed})"),
        progress_total=1,
    )
    _copy_records(
        version.records.order_by("index").iterator(chunk_size=2000), new,
        split_for=lambda i: Record.Split.VALIDATION if i in validation else Record.Split.TRAIN,
    )
    _finish(new)
    return new
