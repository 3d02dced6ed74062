from django.db import IntegrityError, transaction

from core.errors import FieldErrors
from core.versioning import version_add_current, version_restore, version_save
from prompts.models import PromptTemplate, PromptTemplateVersion
from prompts.rendering import check_template, parse_variables


class PromptValidationError(FieldErrors):
    """Bad template input, as {field: message}."""


def _validated(*, body: str, variables: list[dict]) -> list[dict]:
    from prompts.rendering import TemplateError, VariableError

    try:
        parsed = parse_variables(variables)
    except VariableError as exc:
        raise PromptValidationError({"variables": str(exc)}) from None
    if not body.strip():
        raise PromptValidationError({"body": "The template text is empty."})
    try:
        check_template(body, [v.name for v in parsed])
    except TemplateError as exc:
        raise PromptValidationError({"body": str(exc)}) from None
    return [v.as_dict() for v in parsed]


@transaction.atomic
def prompt_create(*, workspace, user, name: str, category: str, body: str, variables: list[dict]) -> PromptTemplate:
    name = name.strip()
    if not name:
        raise PromptValidationError({"name": "Give the template a name."})
    if PromptTemplate.objects.filter(workspace=workspace, name=name).exists():
        raise PromptValidationError({"name": f"A template named {name!r} already exists in this workspace."})
    clean_variables = _validated(body=body, variables=variables)
    try:
        with transaction.atomic():
            template = PromptTemplate.objects.create(workspace=workspace, name=name, category=category, created_by=user)
    except IntegrityError:
        raise PromptValidationError({"name": f"A template named {name!r} already exists in this workspace."}) from None
    version_add_current(PromptTemplateVersion, template, user=user, note="Created", body=body, variables=clean_variables)
    return template


@transaction.atomic
def prompt_update(*, template: PromptTemplate, user, name: str, category: str, body: str, variables: list[dict], note: str = "") -> PromptTemplate:
    """Save a new version (only when the text or variables changed); rename/recategorise in place."""
    name = name.strip()
    if not name:
        raise PromptValidationError({"name": "Give the template a name."})
    clash = PromptTemplate.objects.filter(workspace=template.workspace, name=name).exclude(pk=template.pk)
    if clash.exists():
        raise PromptValidationError({"name": f"A template named {name!r} already exists in this workspace."})
    clean_variables = _validated(body=body, variables=variables)
    template.name, template.category = name, category
    template.save(update_fields=["name", "category", "updated_at"])
    version_save(PromptTemplateVersion, template, user=user, note=note or "Edited", body=body, variables=clean_variables)
    return template


@transaction.atomic
def prompt_restore(template: PromptTemplate, *, number: int, user) -> PromptTemplateVersion:
    """Restoring never rewrites history: the old text becomes the newest version."""
    return version_restore(PromptTemplateVersion, template, number, user=user)


@transaction.atomic
def prompt_delete(*, template: PromptTemplate) -> None:
    template.delete()
