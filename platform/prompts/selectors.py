from django.db.models import Q, QuerySet

from prompts.models import PromptTemplate


def prompt_list(*, workspace, search: str = "", category: str = "") -> QuerySet[PromptTemplate]:
    templates = PromptTemplate.objects.filter(workspace=workspace).select_related("current", "created_by")
    if search:
        templates = templates.filter(Q(name__icontains=search) | Q(current__body__icontains=search))
    if category:
        templates = templates.filter(category=category)
    return templates.order_by("name")
