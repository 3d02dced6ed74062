"""Dataset use cases: upload, edit, delete, deduplicate, split, add approved articles. Every change
makes a new version.

A rejected upload stores nothing. Small uploads are parsed in the request, inside one
transaction. Large ones are saved under MEDIA_ROOT and parsed by a worker (`corpora.tasks`); an
Upload row tracks them (progress, then the outcome and its problems), and when the worker rejects
the files it deletes the version (and the dataset the upload created), so only that row remains
to tell the uploader why. The files are removed once read.
"""

import json
import logging
import random
import shutil
import statistics
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.permissions import WorkspacePermissionDenied, decide
from articles.models import Article, Generation
from core.errors import FieldErrors
from corpora.models import Dataset, DatasetVersion, Record, Upload
from corpora.parsing import (
    ParsedRecord,
    ParseOptions,
    Problem,
    Progress,
    file_format,
    parse_file,
    record_text,
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


def rejection_message(total: int) -> str:
    s = "" if total == 1 else "s"
    return f"The upload was rejected: {total} problem{s} found. Nothing was stored."


class UploadRejected(Exception):
    """The files have problems and the uploader did not ask to keep only the valid rows."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return rejection_message(self.total)

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
        dataset=dataset, base=None, user=user, files=files, options=options, background=background,
        creates_dataset=True,
    )


@transaction.atomic
def dataset_add_files(
    *, dataset: Dataset, user, files, options: UploadOptions | None = None, background: bool | None = None,
) -> DatasetVersion:
    """A new version: the latest ready version's records plus those of the new files."""
    options = options or UploadOptions()
    _check_files(files)
    base = latest_ready_version(dataset)
    return _version_from_upload(
        dataset=dataset, base=base, user=user, files=files, options=options, background=background,
        creates_dataset=False,
    )


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
    """Delete a dataset with its versions; uploads still waiting for the worker are rejected."""
    waiting = list(dataset.uploads.select_for_update().filter(status=Upload.Status.PROCESSING))
    dataset.delete()
    for upload in waiting:
        _upload_conclude(upload, Upload.Status.REJECTED, [
            Problem(", ".join(upload.file_names), None, "the dataset was deleted before this upload was read")
        ], 1)


# --------------------------------------------------------------------------- versions


def latest_ready_version(dataset: Dataset) -> DatasetVersion | None:
    """The version a new one builds on: the newest ready one (a version still being read is skipped)."""
    return dataset.versions.filter(status=DatasetVersion.Status.READY).order_by("-number").first()


def _new_version(*, dataset: Dataset, parent, user, note: str, **fields) -> DatasetVersion:
    # Lock the dataset row so two concurrent changes cannot take the same number.
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
    Dataset.objects.filter(pk=dataset.pk).update(updated_at=timezone.now())
    number = (dataset.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return DatasetVersion.objects.create(
        dataset=dataset, number=number, parent=parent, note=note[:500], created_by=user, **fields
    )


def _save_sources(files) -> list[dict]:
    """Write the uploaded files into a fresh folder under MEDIA_ROOT for the worker.

    Files are named by position, not by the uploader's name (which may be too long for the disk).
    """
    folder = Path(settings.MEDIA_ROOT) / "corpora" / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        sources = []
        for i, uploaded in enumerate(files):
            path = folder / str(i)
            with open(path, "wb") as out:
                for chunk in uploaded.chunks():
                    out.write(chunk)
            sources.append({"name": uploaded.name, "path": str(path), "size": uploaded.size})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return sources


def _remove_sources(sources: list[dict]) -> None:
    """After the commit, remove the folders the upload's files were saved in."""
    folders = {Path(source["path"]).parent for source in sources}
    transaction.on_commit(lambda: [shutil.rmtree(folder, ignore_errors=True) for folder in folders])


def _version_from_upload(
    *, dataset, base, user, files, options: UploadOptions, background: bool | None, creates_dataset: bool,
) -> DatasetVersion:
    total = sum(f.size for f in files)
    note = "Upload of " + ", ".join(f.name for f in files)
    if base is not None:
        note += f" added to v{base.number}"
    version = _new_version(dataset=dataset, parent=base, user=user, note=note)
    if background is None:
        background = total > upload_async_bytes()
    if background:
        sources = _save_sources(files)
        try:
            upload = Upload.objects.create(
                workspace=dataset.workspace, created_by=user, dataset=dataset, version=version,
                dataset_name=dataset.name, new_dataset=creates_dataset,
                file_names=[f.name for f in files], progress_total=total, sources=sources,
                options=options.as_dict(),
            )
        except BaseException:
            shutil.rmtree(Path(sources[0]["path"]).parent, ignore_errors=True)
            raise
        transaction.on_commit(partial(_enqueue_parse, upload.pk))
        return version
    for uploaded in files:
        uploaded.seek(0)
    problems, total_problems = _ingest(
        version=version, base=base, sources=[(f.name, f) for f in files], options=options
    )
    rejection = _rejection(version, problems, total_problems, options, [f.name for f in files])
    if rejection:
        raise UploadRejected(*rejection)
    _finish(version, problems, total_problems)
    return version


def _rejection(version, problems, total_problems: int, options: UploadOptions, names) -> tuple | None:
    """(problems, total) when the upload must store nothing: it has a problem and the uploader
    did not ask to keep only the valid rows, or it has no records at all. None to store it."""
    if total_problems and not options.keep_valid_rows:
        return problems, total_problems
    if not version.records.exists():
        return (problems, total_problems) if total_problems else ([Problem(", ".join(names), None, "no records found")], 1)
    return None


def _enqueue_parse(upload_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("corpora.tasks.parse_dataset_upload", upload_pk, cluster="generation",
               task_name=f"parse dataset upload {upload_pk}")


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
            token_count=record.token_count, source=record.source, article_id=record.article_id,
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
    version.error_report = _error_report(problems, total_problems)
    version.status = DatasetVersion.Status.READY
    version.finished_at = timezone.now()
    version.save()


def _error_report(problems, total: int) -> dict:
    return {"problems": [p.as_dict() for p in problems], "total": total} if total else {}


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


def upload_parse(*, upload_id: int) -> str:
    """The worker's half of a large upload; returns the upload's status.

    Safe to run twice: a finished upload is left alone, a half-done one starts over. Files that
    are rejected leave no version behind, nor the dataset when the upload created it.
    """
    upload = Upload.objects.select_related("version").filter(pk=upload_id).first()
    if upload is None:
        return "gone"
    if upload.status != Upload.Status.PROCESSING:
        return upload.status
    version, options = upload.version, UploadOptions(**upload.options)
    all_files = ", ".join(upload.file_names)
    if version is None:  # deleted under us (dataset_delete rejects its uploads; belt and braces)
        with transaction.atomic():
            _upload_conclude(upload, Upload.Status.REJECTED, [
                Problem(all_files, None, "the dataset was deleted before this upload was read")
            ], 1)
        return upload.status
    version.records.all().delete()  # a previous, interrupted attempt
    Upload.objects.filter(pk=upload.pk).update(progress_done=0)

    def on_progress(done: int) -> None:
        Upload.objects.filter(pk=upload.pk).update(progress_done=done)

    streams = []
    try:
        for source in upload.sources:
            streams.append((source["name"], open(source["path"], "rb")))
        problems, total_problems = _ingest(
            version=version, base=version.parent, sources=streams, options=options,
            on_progress=on_progress,
        )
    except OSError as exc:
        problems, total_problems = [Problem(all_files, None, f"could not read the uploaded file: {exc}")], 1
        options.keep_valid_rows = False
    except Exception as exc:  # never leave an upload "processing" for ever
        logger.exception("parsing dataset upload %s failed", upload.pk)
        problems, total_problems = [Problem(all_files, None, f"the worker failed: {exc}")], 1
        options.keep_valid_rows = False
    finally:
        for _, stream in streams:
            stream.close()
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload.pk)
        if upload.status != Upload.Status.PROCESSING:  # rejected meanwhile (its dataset was deleted)
            return upload.status
        rejection = _rejection(version, problems, total_problems, options, upload.file_names)
        if rejection:
            _discard(version, with_dataset=upload.new_dataset)
            _upload_conclude(upload, Upload.Status.REJECTED, *rejection)
        else:
            _finish(version, problems, total_problems)
            _upload_conclude(upload, Upload.Status.STORED, problems, total_problems)
    return upload.status


def _discard(version: DatasetVersion, *, with_dataset: bool) -> None:
    """Delete a rejected upload's version, and its dataset when the upload made it (and nothing
    else has been added to it since)."""
    dataset_id = version.dataset_id
    DatasetVersion.objects.filter(pk=version.pk).delete()
    if with_dataset and not DatasetVersion.objects.filter(dataset_id=dataset_id).exists():
        Dataset.objects.filter(pk=dataset_id).delete()


def _upload_conclude(upload: Upload, status: str, problems, total_problems: int) -> None:
    """Record an upload's outcome and remove its files after the commit."""
    _remove_sources(upload.sources)
    upload.status = status
    upload.error_report = _error_report(problems, total_problems)
    upload.progress_done = upload.progress_total
    upload.finished_at = timezone.now()
    upload.sources = []
    # The version and dataset may be gone (deleted above, or by an admin): keep only what exists.
    upload.version = DatasetVersion.objects.filter(pk=upload.version_id).first()
    upload.dataset = Dataset.objects.filter(pk=upload.dataset_id).first()
    upload.save()


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
    )
    _copy_records(
        version.records.order_by("index").iterator(chunk_size=2000), new,
        split_for=lambda i: Record.Split.VALIDATION if i in validation else Record.Split.TRAIN,
    )
    _finish(new)
    return new


# --------------------------------------------------------------------------- approved articles

ARTICLE_STATES = (Article.Status.APPROVED, Article.Status.PUBLISHED)  # what editors have accepted
MAX_ARTICLES = 500  # per version made in one action


def _article_prompt(article) -> tuple[str, str] | None:
    """(user prompt, system prompt) of the generation that produced the article's text: the chosen
    variant, else the latest revision that took in a run's text, else the article's latest draft run.
    None when no run wrote any of it."""
    generation = article.chosen
    if generation is None:
        revision = (article.revisions.exclude(generation=None).exclude(generation__kind="suggestion")
                    .select_related("generation").order_by("-number").first())
        generation = revision.generation if revision else None
    if generation is None:
        generation = (Generation.objects.filter(article=article).exclude(kind="suggestion")
                      .exclude(prompt="").order_by("-created_at", "-pk").first())
    if generation is None or not generation.prompt.strip():
        return None
    return generation.prompt, generation.system_prompt


def article_record_kind(base: DatasetVersion | None) -> str:
    """The kind of record an article becomes in a dataset built on `base`: chat (system prompt,
    prompt, text) unless the dataset holds prompt/completion pairs only, or plain texts only."""
    kinds = set(base.records.order_by().values_list("kind", flat=True).distinct()) if base is not None else set()
    if Record.Kind.CHAT in kinds or not kinds:
        return Record.Kind.CHAT
    if Record.Kind.INSTRUCTION in kinds:
        return Record.Kind.INSTRUCTION
    return Record.Kind.TEXT


def article_record_data(kind: str, *, prompt: str, system_prompt: str, text: str) -> dict:
    """A record's data in the dataset's shape (the upload parser's shapes, corpora.parsing)."""
    if kind == Record.Kind.CHAT:
        system = [{"role": "system", "content": system_prompt}] if system_prompt.strip() else []
        return {"messages": [*system, {"role": "user", "content": prompt}, {"role": "assistant", "content": text}]}
    if kind == Record.Kind.INSTRUCTION:
        return {"prompt": prompt, "completion": text}
    return {"text": text}


def _titles(articles, limit: int = 5) -> str:
    names = [f"“{a.title}”" for a in articles]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _selected_articles(*, workspace, articles) -> list:
    """The chosen articles, in the order given (repeats dropped); FieldErrors for any that are
    missing, of another workspace, not accepted by an editor yet, or without text."""
    ids = []
    for item in articles or []:
        pk = item.pk if isinstance(item, Article) else item
        if pk not in ids:
            ids.append(pk)
    if not ids:
        raise FieldErrors({"articles": "Choose at least one approved article."})
    if len(ids) > MAX_ARTICLES:
        raise FieldErrors({"articles": f"{len(ids)} articles chosen; add at most {MAX_ARTICLES} at a time."})
    found = Article.objects.select_related("chosen").in_bulk(ids)
    missing = [pk for pk in ids if pk not in found or found[pk].workspace_id != workspace.pk]
    if missing:
        listed = ", ".join(f"#{pk}" for pk in missing[:10])
        raise FieldErrors({"articles": f"Not found in this workspace: article {listed}."})
    chosen = [found[pk] for pk in ids]
    pending = [a for a in chosen if a.status not in ARTICLE_STATES]
    if pending:
        states = "; ".join(f"“{a.title}” is {a.get_status_display().lower()}" for a in pending[:5])
        raise FieldErrors({"articles": f"Only approved or published articles can be added: {states}."})
    empty = [a for a in chosen if not a.body.strip()]
    if empty:
        raise FieldErrors({"articles": f"No text to add in {_titles(empty)}."})
    return chosen


@transaction.atomic
def version_from_articles(*, dataset: Dataset, articles, membership, note: str = "") -> DatasetVersion:
    """The dataset's next version: its latest ready version's records plus one record per article
    editors accepted (approved or published), so the next fine-tune learns from them.

    Each record pairs the article's final, human-edited text with the prompt (and system prompt)
    of the generation that produced it, in the dataset's shape (chat, prompt/completion, or the
    text alone for a dataset of plain texts), and names its article (Record.article).
    Raises WorkspacePermissionDenied when the role may not do this, FieldErrors ("dataset",
    "articles", "note") otherwise; either way nothing is stored.
    """
    decision = decide(membership, "articles.to_dataset")
    if not decision:
        raise WorkspacePermissionDenied(decision.reason)
    workspace = membership.workspace
    if dataset.workspace_id != workspace.pk:
        raise FieldErrors({"dataset": "Not found in this workspace."})
    note = (note or "").strip()
    if len(note) > 200:
        raise FieldErrors({"note": f"The note is {len(note)} characters; keep it to 200."})
    chosen = _selected_articles(workspace=workspace, articles=articles)
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()  # two adds of one article: one wins
    base = latest_ready_version(dataset)
    if base is not None:
        already = set(base.records.filter(article__in=chosen).values_list("article_id", flat=True))
        if already:
            listed = _titles([a for a in chosen if a.pk in already])
            raise FieldErrors({"articles": f"Already in “{dataset.name}” v{base.number}: {listed}. Leave "
                                           f"{'it' if len(already) == 1 else 'them'} out."})
    kind = article_record_kind(base)
    rows = []
    for article in chosen:
        prompt = _article_prompt(article)
        if prompt is None and kind != Record.Kind.TEXT:
            raise FieldErrors({"articles": f"“{article.title}” has no prompt: no generation wrote it, so there is "
                                           "nothing to pair its text with."})
        user_prompt, system_prompt = prompt or ("", "")
        rows.append((article, article_record_data(kind, prompt=user_prompt, system_prompt=system_prompt,
                                                  text=article.body)))
    s = "" if len(chosen) == 1 else "s"
    summary = f"{len(chosen)} approved article{s} added" + (f" to v{base.number}" if base else "")
    new = _new_version(dataset=dataset, parent=base, user=membership.user,
                       note=f"{summary}: {note}" if note else summary)
    index = _copy_records(base.records.order_by("index").iterator(chunk_size=2000), new) if base else 0
    # Beside a validation split, the new records train (as unsplit ones would), and say so.
    split = Record.Split.TRAIN if base is not None and base.records.filter(split=Record.Split.VALIDATION).exists() else ""
    tokens = count_tokens([record_text(kind, data) for _, data in rows])
    Record.objects.bulk_create([
        Record(version=new, index=index + i, kind=kind, data=data, split=split, token_count=n_tokens,
               source=f"article {article.pk}: {article.title}"[:300], article=article)
        for i, ((article, data), n_tokens) in enumerate(zip(rows, tokens, strict=True), start=1)
    ])
    _finish(new, from_articles=len(chosen))
    return new
