"""The models a workspace may write with, and the one place a writer's choice becomes a spec."""

import os
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from catalog.models import MODEL_NAME_RE, ModelVersion
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
    return [default_choice(), *(_choice(v) for v in ModelVersion.objects.filter(workspace=workspace))]


def model_resolve(workspace, key: str) -> ModelChoice:
    """The model `key` names in this workspace: blank or "default" is the default model."""
    key = (key or "").strip()
    if key in ("", DEFAULT_KEY, settings.INKSTONE_DEFAULT_MODEL):
        return default_choice()
    version = ModelVersion.objects.filter(workspace=workspace, name=key).first()
    if version is None:
        names = ", ".join(c.key for c in model_choices(workspace))
        raise UnknownModel(f"No model “{key}” in this workspace. Available: {names}.")
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
        info = describe_model(source, check_path=_in_model_roots(model_roots()))
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
            )
    except IntegrityError:  # a concurrent registration took the name
        raise ModelValidationError({"name": f"This workspace already has a model named “{name}”."}) from None


def workspace_adapters_dir(workspace) -> Path:
    """Where this workspace's training runs write their models: adapters/<workspace slug>/."""
    return Path(settings.DATA_DIR) / "adapters" / workspace.slug


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


def _in_model_roots(roots: list[ModelRoot]):
    """describe_model's check_path: admins may add files only from INKSTONE_MODEL_ROOTS.

    Checked on the path as typed before anything is read, so that the page cannot be used to
    probe the server's disk; then on the real path, so that a link cannot lead out."""
    allowed = ", ".join(root.shown for root in roots) or "none are configured"

    def check(source: ModelSource) -> None:
        typed = Path(os.path.normpath(source.path))
        if not any(typed.is_relative_to(root.typed) or typed.is_relative_to(root.real) for root in roots):
            raise InvalidModelError(
                f"{source.quoted} is outside the folders models may be added from ({allowed}); "
                "ask whoever runs Inkstone to put it there or to extend INKSTONE_MODEL_ROOTS.")
        if not any(source.resolved().is_relative_to(root.real) for root in roots):
            raise InvalidModelError(
                f"{source.quoted} leads out of the folders models may be added from ({allowed}) through a "
                "symbolic link; ask whoever runs Inkstone to put the files there.")

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
    check = _in_model_roots(roots)
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


def styles_using(version: ModelVersion) -> list[str]:
    """Names of the styles whose current version picks this model by default."""
    from styles.models import StyleProfile

    return list(StyleProfile.objects.filter(workspace=version.workspace_id, current__default_model=version.name)
                .values_list("name", flat=True))


def model_update(*, version: ModelVersion, description: str) -> ModelVersion:
    version.description = description.strip()
    version.save(update_fields=["description"])
    return version


def model_delete(*, version: ModelVersion) -> None:
    """Drafts written with it keep their text and provenance (the spec they loaded)."""
    version.delete()
