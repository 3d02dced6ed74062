from django.db import IntegrityError, transaction

from catalog.models import ModelVersion
from catalog.services import UnknownModel, model_resolve
from core.errors import FieldErrors
from core.sampling import STYLE_PARAMS, params_errors
from core.versioning import version_add_current, version_restore, version_save
from styles.models import DEFAULT_PARAMS, StyleProfile, StyleProfileVersion

VERSIONED_FIELDS = (
    "voice", "audience", "tone", "reading_level", "do_rules", "dont_rules", "banned_words",
    "examples", "default_params", "default_model", "system_prompt_override",
)


class StyleValidationError(FieldErrors):
    """Bad style input, as {field: message}."""


def _clean(workspace, fields: dict) -> dict:
    """Normalise and check the versioned fields; errors are keyed by field name. The default
    model comes in by name and goes out as the ModelVersion (None: the workspace default)."""
    clean = {name: fields.get(name) for name in VERSIONED_FIELDS}
    if isinstance(clean["default_model"], ModelVersion):  # restoring or re-saving a version
        clean["default_model"] = clean["default_model"].name
    for name in ("voice", "audience", "tone", "do_rules", "dont_rules", "banned_words", "examples", "default_model", "system_prompt_override"):
        clean[name] = (clean[name] or "").strip()
    level = clean["reading_level"]
    if level in ("", None):
        clean["reading_level"] = None
    else:
        try:
            clean["reading_level"] = int(level)
        except (TypeError, ValueError):
            raise StyleValidationError({"reading_level": f"{level!r} is not a whole number."}) from None
        if not 1 <= clean["reading_level"] <= 16:
            raise StyleValidationError({"reading_level": "Use a US grade level between 1 and 16."})
    params = {**DEFAULT_PARAMS, **(clean["default_params"] or {})}
    errors = params_errors(params)
    for name in set(params) - set(STYLE_PARAMS) - set(errors):
        errors[name] = f"a style keeps only {', '.join(STYLE_PARAMS)}, not {name}"
    if errors:
        raise StyleValidationError({"default_params": "; ".join(errors.values())})
    clean["default_params"] = params
    try:  # by name, as forms and the API send it; stored as the model itself (None: the default)
        clean["default_model"] = model_resolve(workspace, clean["default_model"]).version
    except UnknownModel as exc:
        raise StyleValidationError({"default_model": str(exc)}) from None
    return clean


def _check_name(*, workspace, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    if not name:
        raise StyleValidationError({"name": "Give the style a name."})
    if StyleProfile.objects.filter(workspace=workspace, name=name).exclude(pk=exclude_pk).exists():
        raise StyleValidationError({"name": f"A style named {name!r} already exists in this workspace."})
    return name


@transaction.atomic
def style_create(*, workspace, user, name: str, **fields) -> StyleProfile:
    name = _check_name(workspace=workspace, name=name)
    clean = _clean(workspace, fields)
    try:
        with transaction.atomic():
            profile = StyleProfile.objects.create(workspace=workspace, name=name, created_by=user)
    except IntegrityError:
        raise StyleValidationError({"name": f"A style named {name!r} already exists in this workspace."}) from None
    version_add_current(StyleProfileVersion, profile, user=user, note="Created", **clean)
    return profile


@transaction.atomic
def style_update(*, profile: StyleProfile, user, name: str, note: str = "", **fields) -> StyleProfile:
    profile.name = _check_name(workspace=profile.workspace, name=name, exclude_pk=profile.pk)
    profile.save(update_fields=["name", "updated_at"])
    clean = _clean(profile.workspace, fields)
    version_save(StyleProfileVersion, profile, user=user, note=note or "Edited", **clean)
    return profile


@transaction.atomic
def style_restore(profile: StyleProfile, *, number: int, user) -> StyleProfileVersion:
    """Restoring never rewrites history: the old settings become the newest version."""
    return version_restore(StyleProfileVersion, profile, number, user=user)


@transaction.atomic
def style_delete(*, profile: StyleProfile) -> None:
    profile.delete()
