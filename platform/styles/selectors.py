from django.db.models import Q, QuerySet

from styles.models import StyleProfile


def style_list(*, workspace, search: str = "") -> QuerySet[StyleProfile]:
    profiles = StyleProfile.objects.filter(workspace=workspace).select_related("current", "created_by")
    if search:
        profiles = profiles.filter(Q(name__icontains=search) | Q(current__voice__icontains=search) | Q(current__audience__icontains=search))
    return profiles.order_by("name")
