"""The models a workspace may write with, and the one place a writer's choice becomes a spec."""

import os
import re
import shutil
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Workspace
from catalog.models import FINE_TUNE_KINDS, MODEL_NAME_RE, NAME_MAX_LENGTH, ModelVersion
from core.errors import FieldErrors
from generation.errors import GenerationError, InvalidModelError
from generation.models import (
    DEFAULT_CACHE_NAME,
    DEFAULT_MODEL_NAME,
    ModelSource,
    default_models_dir,
    describe_model,
)

DEFAULT_KEY = "default"


class ModelValidationError(FieldErrors):
    """Bad model registration, as {field: message}."""


class UnknownModel(Exception):
    """A writer (or the API) named a model this workspace does not have."""


@dataclass(frozen=True)
class ModelChoice:
    key: str  # what forms and the API send: "default" or a model version's name
    label: str
    spec: str  # what the worker loads
    version: ModelVersion | None = None


def default_choice() -> ModelChoice:
    spec = settings.INKSTONE_DEFAULT_MODEL
    label = f"{DEFAULT_MODEL_NAME} (bundled)" if spec == DEFAULT_KEY else spec
    return ModelChoice(DEFAULT_KEY, label, spec)


def _choice(version: ModelVersion) -> ModelChoice:
    return ModelChoice(version.name, f"{version.name} · {version.get_kind_display()}", version.spec, version)


def model_choices(workspace) -> list[ModelChoice]:
    """What writers may pick: the default and the promoted models (not candidates)."""
    promoted = ModelVersion.objects.filter(workspace=workspace, status=ModelVersion.Status.PROMOTED)
    return [default_choice(), *(_choice(v) for v in promoted)]


def model_resolve(workspace, key: str) -> ModelChoice:
    """The model `key` names in this workspace: blank or "default" is the default model.
    A candidate is refused: writers use a fine-tune only once an admin has promoted it."""
    key = (key or "").strip()
    if key in ("", DEFAULT_KEY, settings.INKSTONE_DEFAULT_MODEL):
        return default_choice()
    version = ModelVersion.objects.filter(workspace=workspace, name=key).first()
    if version is None:
        names = ", ".join(c.key for c in model_choices(workspace))
        raise UnknownModel(f"No model “{key}” in this workspace. Available: {names}.")
    if version.is_candidate:
        raise UnknownModel(f"“{key}” is a candidate that an admin has not promoted yet.")
    return _choice(version)


def model_register(*, workspace, user, name: str, source: str, description: str = "") -> ModelVersion:
    """Check that `source` loads as a model (without loading its weights) and add it."""
    name, errors = name.strip(), {}
    if not re.match(MODEL_NAME_RE, name):
        errors["name"] = "Use letters, digits, dots, dashes and underscores, starting with a letter or digit."
    elif name == DEFAULT_KEY:
        errors["name"] = "“default” is the bundled model's name; choose another."
    elif ModelVersion.objects.filter(workspace=workspace, name=name).exists():
        errors["name"] = f"This workspace already has a model named “{name}”."
    try:
        info = describe_model(source, check_path=_in_model_roots(model_roots(), workspace))
        if info.kind == "default":
            errors["source"] = "The bundled default model is always available; register another model."
    except GenerationError as exc:
        errors["source"] = str(exc)
    if errors:
        raise ModelValidationError(errors)
    try:
        with transaction.atomic():
            return ModelVersion.objects.create(
                workspace=workspace, name=name, kind=info.kind,
                source=info.source, spec=info.spec, base=info.base, metadata=info.metadata,
                description=description.strip(), created_by=user,
                # An admin chose it: writers may use it at once.
                status=ModelVersion.Status.PROMOTED, promoted_by=user, promoted_at=timezone.now(),
            )
    except IntegrityError:  # a concurrent registration took the name
        raise ModelValidationError({"name": f"This workspace already has a model named “{name}”."}) from None



def _free_name(workspace, wanted: str) -> str:
    """`wanted` made a valid name, suffixed -2, -3 ... until no model of the workspace has it."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", wanted.strip())
    base = re.sub(r"^[^A-Za-z0-9]+", "", base).rstrip("-.")[:NAME_MAX_LENGTH - 6] or "fine-tune"
    if base == DEFAULT_KEY:
        base = "default-tuned"
    taken = set(ModelVersion.objects.filter(workspace=workspace, name__startswith=base).values_list("name", flat=True))
    number = 1
    while (name := base if number == 1 else f"{base}-{number}") in taken:
        number += 1
    return name


def model_add_candidate(*, workspace, user, name: str, output_dir: Path, evaluation: dict,
                        lineage: dict | None = None, description: str = "") -> ModelVersion:
    """Add a finished training run's output (a LoRA adapter, or a full model with inkstone.json)
    as a candidate: admins see and compare it, writers cannot pick it until it is promoted.

    metadata = inkstone.json (base, data hash, params, library versions, metrics) + `lineage`
    (e.g. {"run": {"id", "url", "dataset"}}) + {"evaluation": evaluation}. A taken name gets a
    suffix (-2, -3, ...): a finished run never fails over a name."""
    try:
        info = describe_model(str(output_dir))
    except GenerationError as exc:
        raise ModelValidationError({"output_dir": str(exc)}) from None
    if info.kind not in FINE_TUNE_KINDS or not info.metadata:
        raise ModelValidationError({"output_dir": f"{output_dir} is not a fine-tune's output (a LoRA adapter or a "
                                                  "full model with inkstone.json)."})
    metadata = {**info.metadata, **(lineage or {}), "evaluation": evaluation or {}}
    for _attempt in range(20):  # a concurrent run may take the free name between looking and adding
        try:
            with transaction.atomic():
                return ModelVersion.objects.create(
                    workspace=workspace, name=_free_name(workspace, name), kind=info.kind, source=info.source,
                    spec=info.spec, base=info.base, metadata=metadata, description=description.strip(),
                    created_by=user, status=ModelVersion.Status.CANDIDATE,
                )
        except IntegrityError:
            continue
    raise ModelValidationError({"name": f"Could not find a free name for “{name}”."})


def _perplexity(evaluation: dict, when: str) -> str:
    value = (evaluation.get(when) or {}).get("perplexity") if isinstance(evaluation.get(when), dict) else None
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


@transaction.atomic
def model_promote(*, version: ModelVersion, user, reason: str = "") -> ModelVersion:
    """Make a candidate available to writers. One that did not improve on its base needs a reason."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    reason = (reason or "").strip()
    if not version.is_candidate:
        raise ModelValidationError({"status": f"“{version.name}” is already {version.get_status_display().lower()}."})
    evaluation = version.evaluation
    if evaluation.get("improved") is not True and not reason:
        raise ModelValidationError({"reason": (
            f"The validation perplexity went from {_perplexity(evaluation, 'before')} to "
            f"{_perplexity(evaluation, 'after')}: this fine-tune did not improve on its base. "
            "Say why writers should use it anyway.")})
    version.status = ModelVersion.Status.PROMOTED
    version.promoted_by, version.promoted_at, version.promotion_reason = user, timezone.now(), reason
    version.save(update_fields=["status", "promoted_by", "promoted_at", "promotion_reason"])
    return version


def workspace_adapters_dir(workspace) -> Path:
    """Where this workspace's training runs write (`<it>/<run id>/`)."""
    return Path(settings.DATA_DIR) / "adapters" / workspace.slug


def _adapters_roots() -> tuple[Path, Path]:
    """The shared adapters folder, as written (`..` collapsed) and with links followed."""
    typed = Path(os.path.normpath(Path(settings.DATA_DIR) / "adapters"))
    try:
        return typed, typed.resolve()
    except (OSError, RuntimeError):
        return typed, typed


def _other_workspace_slugs(workspace) -> set[str]:
    if workspace is None:
        return set()
    return set(Workspace.objects.exclude(pk=workspace.pk).values_list("slug", flat=True))


def _in_other_workspace(path: Path, adapters: tuple[Path, Path], others: set[str]) -> bool:
    """Whether `path` lies in adapters/<another workspace's slug>/ (that folder or below)."""
    for root in adapters:
        if path.is_relative_to(root) and path != root and path.relative_to(root).parts[0] in others:
            return True
    return False


@dataclass(frozen=True)
class ModelRoot:
    """A folder of INKSTONE_MODEL_ROOTS."""

    shown: str  # as the operator wrote it; relative to the data folder for one inside it
    typed: Path  # absolute, `..` collapsed: compared with a path as the admin typed it
    real: Path  # links followed: compared with the real path


def model_roots() -> list[ModelRoot]:
    """The folders admins may add models from; one that cannot be resolved holds no models."""
    data_dir = Path(os.path.normpath(settings.DATA_DIR))
    roots = []
    for folder in settings.INKSTONE_MODEL_ROOTS:
        try:
            absolute = Path(folder).expanduser().absolute()
            real = absolute.resolve()
        except (OSError, RuntimeError):
            continue
        typed = Path(os.path.normpath(absolute))
        # Messages name the default folders relative to the data folder, not where it lies.
        shown = f"{typed.relative_to(data_dir)}/ in Inkstone's data folder" if typed.is_relative_to(data_dir) else str(folder)
        roots.append(ModelRoot(shown, typed, real))
    return roots


def _in_model_roots(roots: list[ModelRoot], workspace=None):
    """describe_model's check_path: admins may add files only from INKSTONE_MODEL_ROOTS, and
    not from another workspace's fine-tunes (adapters/<its slug>/).

    Checked on the path as typed before anything is read, so that the page cannot be used to
    probe the server's disk; then on the real path, so that a link cannot lead out."""
    allowed = ", ".join(root.shown for root in roots) or "none are configured"
    adapters, others = _adapters_roots(), _other_workspace_slugs(workspace)
    not_ours = (f"{{}} is in another workspace's fine-tunes folder; this workspace's are in "
                f"adapters/{getattr(workspace, 'slug', '')}/ in Inkstone's data folder.")

    def check(source: ModelSource) -> None:
        typed = Path(os.path.normpath(source.path))
        if not any(typed.is_relative_to(root.typed) or typed.is_relative_to(root.real) for root in roots):
            raise InvalidModelError(
                f"{source.quoted} is outside the folders models may be added from ({allowed}); "
                "ask whoever runs Inkstone to put it there or to extend INKSTONE_MODEL_ROOTS.")
        if _in_other_workspace(typed, adapters, others):
            raise InvalidModelError(not_ours.format(source.quoted))
        real = source.resolved()
        if not any(real.is_relative_to(root.real) for root in roots):
            raise InvalidModelError(
                f"{source.quoted} leads out of the folders models may be added from ({allowed}) through a "
                "symbolic link; ask whoever runs Inkstone to put the files there.")
        if _in_other_workspace(real, adapters, others):
            raise InvalidModelError(not_ours.format(source.quoted))

    return check


@dataclass(frozen=True)
class FoundModel:
    name: str  # a suggested name
    source: str
    kind: str
    metrics: dict


@dataclass(frozen=True)
class DiskScan:
    models: list[FoundModel]
    looked_at: int  # folder entries
    complete: bool  # False: stopped at MAX_SCANNED_ENTRIES entries or MAX_FOUND models


MAX_SCANNED_ENTRIES = 2000  # folder entries looked at per scan (the Models page scans on each visit)
MAX_FOUND = 100


def models_on_disk(workspace, depth: int = 2) -> DiskScan:
    """Loadable models under INKSTONE_MODEL_ROOTS (down to `depth` folders, not following
    links) that this workspace has not added yet, such as the output of `python -m generation
    finetune --output var/adapters/NAME`. Checkpoint folders and a model's own subfolders are
    not offered; anything unreadable or not a model (a corrupt GGUF) is skipped. At most
    MAX_SCANNED_ENTRIES entries are looked at, so a folder of thousands of files stays quick."""
    added = set(ModelVersion.objects.filter(workspace=workspace).values_list("source", flat=True))
    added.add(str((default_models_dir() / DEFAULT_CACHE_NAME).resolve()))  # the bundled model's cache
    roots = model_roots()
    check = _in_model_roots(roots, workspace)
    adapters, others = _adapters_roots(), _other_workspace_slugs(workspace)
    found: dict[str, FoundModel] = {}
    budget, complete = MAX_SCANNED_ENTRIES, True

    def offer(path: Path) -> None:
        try:
            info = describe_model(str(path), check_path=check)
        except GenerationError:
            return
        if info.source in added:
            return
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem if info.kind == "gguf" else path.name)
        name = re.sub(r"^[^A-Za-z0-9]+", "", name).rstrip("-.") or "model"
        found.setdefault(info.source, FoundModel(name, info.source, info.kind, info.metadata.get("metrics") or {}))

    def visit(folder: Path, levels: int) -> None:
        nonlocal budget, complete
        try:
            with os.scandir(folder) as entries:
                children = list(islice(entries, budget + 1))
        except OSError:
            return
        if len(children) > budget:
            complete, children = False, children[:budget]
        budget -= len(children)
        for entry in sorted(children, key=lambda e: e.name):
            if len(found) >= MAX_FOUND:
                complete = False
                return
            try:
                path = Path(entry.path)
                if entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(".gguf"):
                    offer(path)
                elif not entry.is_dir(follow_symlinks=False) or entry.name.startswith(("checkpoint-", ".")):
                    continue
                elif _in_other_workspace(path, adapters, others):  # not even looked into
                    continue
                elif (path / "adapter_config.json").is_file() or (path / "config.json").is_file():
                    offer(path)
                elif levels > 1 and budget > 0:
                    visit(path, levels - 1)
                elif levels > 1:
                    complete = False
            except OSError:  # unreadable: not offered
                continue

    for root in roots:
        visit(root.real, depth)
    return DiskScan(list(found.values()), MAX_SCANNED_ENTRIES - budget, complete)


def model_update(*, version: ModelVersion, description: str) -> ModelVersion:
    version.description = description.strip()
    version.save(update_fields=["description"])
    return version


def files_removed_with(version: ModelVersion) -> Path | None:
    """The folder deleting this model removes too: only one inside the workspace's own
    adapters folder (a training run's output), links followed; None for anything else."""
    try:
        folder = Path(version.source).resolve()
        ours = workspace_adapters_dir(version.workspace).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if folder == ours or not folder.is_relative_to(ours) or not folder.is_dir():
        return None
    if ModelVersion.objects.filter(source=version.source).exclude(pk=version.pk).exists():
        return None  # another model (of this workspace, under another name) still uses the files
    return folder


@transaction.atomic
def model_delete(*, version: ModelVersion) -> None:
    """Remove it from the workspace. Drafts written with it keep their text and provenance (the
    spec they loaded); styles that picked it fall back to the workspace default (SET_NULL).
    A training run's output in the workspace's adapters folder is deleted from disk too, once
    the removal is committed; files anywhere else are left alone."""
    folder = files_removed_with(version)
    version.delete()
    if folder is not None:
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
