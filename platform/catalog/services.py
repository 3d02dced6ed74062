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
from generation.errors import GenerationError
from generation.models import (
    DEFAULT_CACHE_NAME,
    DEFAULT_MODEL_NAME,
    default_models_dir,
    describe_model,
    local_path,
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
    outside = _outside_model_roots(source)
    if outside:
        errors["source"] = outside
    else:
        try:
            info = describe_model(source)
            outside = _outside_model_roots(info.base)
            if outside:
                errors["source"] = f"Its base model: {outside}"
            elif info.kind == "default":
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


def _outside_model_roots(source: str) -> str:
    """Admins may add files only from INKSTONE_MODEL_ROOTS (checked before anything is read,
    so that the page cannot be used to probe the server's disk). Hub ids come from the local cache."""
    path = local_path(source)
    if path is None:
        return ""
    roots: list[Path] = settings.INKSTONE_MODEL_ROOTS
    if any(path.is_relative_to(root) for root in roots):
        return ""
    return (f"{path} is outside the folders models may be added from ({', '.join(map(str, roots))}); "
            "ask whoever runs Inkstone to put it there or to extend INKSTONE_MODEL_ROOTS.")


@dataclass(frozen=True)
class FoundModel:
    name: str  # a suggested name
    source: str
    kind: str
    metrics: dict


MAX_ENTRIES_PER_FOLDER = 500


def models_on_disk(workspace, depth: int = 2) -> list[FoundModel]:
    """Loadable models under INKSTONE_MODEL_ROOTS (down to `depth` folders, not following
    links) that this workspace has not added yet, such as the output of `python -m generation
    finetune --output var/adapters/NAME`. Checkpoint folders and a model's own subfolders are
    not offered; anything unreadable is skipped."""
    added = set(ModelVersion.objects.filter(workspace=workspace).values_list("source", flat=True))
    added.add(str((default_models_dir() / DEFAULT_CACHE_NAME).resolve()))  # the bundled model's cache
    found: dict[str, FoundModel] = {}

    def offer(path: Path) -> None:
        info = describe_model(str(path))
        if info.source in added or _outside_model_roots(info.source) or _outside_model_roots(info.base):
            return
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem if info.kind == "gguf" else path.name)
        name = re.sub(r"^[^A-Za-z0-9]+", "", name).rstrip("-.") or "model"
        found.setdefault(info.source, FoundModel(name, info.source, info.kind, info.metadata.get("metrics") or {}))

    def visit(folder: Path, levels: int) -> None:
        try:
            with os.scandir(folder) as entries:
                children = sorted(islice(entries, MAX_ENTRIES_PER_FOLDER), key=lambda e: e.name)
        except OSError:
            return
        for entry in children:
            try:
                path = Path(entry.path)
                if entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(".gguf"):
                    offer(path)
                elif not entry.is_dir(follow_symlinks=False) or entry.name.startswith(("checkpoint-", ".")):
                    continue
                elif (path / "adapter_config.json").is_file() or (path / "config.json").is_file():
                    offer(path)
                elif levels > 1:
                    visit(path, levels - 1)
            except Exception:  # unreadable or not a model after all: not offered
                continue

    for root in settings.INKSTONE_MODEL_ROOTS:
        visit(root, depth)
    return list(found.values())


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
