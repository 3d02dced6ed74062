from django.db.models import Count, Q

from catalog.models import ModelVersion


def model_list(*, workspace, search: str = "", kind: str = ""):
    versions = ModelVersion.objects.filter(workspace=workspace).select_related("created_by")
    if search:
        versions = versions.filter(Q(name__icontains=search) | Q(description__icontains=search) | Q(source__icontains=search))
    if kind:
        versions = versions.filter(kind=kind)
    return versions.annotate(generation_count=Count("generations")).order_by("name")
