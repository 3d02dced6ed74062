from django.db import IntegrityError, transaction
from django.db.models import Max

from core.errors import FieldErrors
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


def _add_version(*, template, body, variables, user, note="") -> PromptTemplateVersion:
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PromptTemplateVersion.objects.create(
        template=template, number=number, body=body, variables=variables, created_by=user, note=note
    )
    template.current = version
    template.save(update_fields=["current", "updated_at"])
    return version


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
    _add_version(template=template, body=body, variables=clean_variables, user=user, note="Created")
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
    current = template.current
    if current is None or current.body != body or current.variables != clean_variables:
        _add_version(template=template, body=body, variables=clean_variables, user=user, note=note or "Edited")
    return template


@transaction.atomic
def prompt_restore(*, template: PromptTemplate, number: int, user) -> PromptTemplateVersion:
    """Restoring never rewrites history: the old text becomes the newest version."""
    old = template.versions.get(number=number)
    return _add_version(template=template, body=old.body, variables=old.variables, user=user, note=f"Restored v{number}")


@transaction.atomic
def prompt_delete(*, template: PromptTemplate) -> None:
    template.delete()
