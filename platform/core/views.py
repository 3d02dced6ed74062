from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from accounts.permissions import require, role_allows
from core.health import system_health, workers_health
from core.sections import SECTIONS, SECTIONS_BY_SLUG


@login_required
@require("workspace.view")
def dashboard(request):
    from training.selectors import recent_runs
    from training.services import queue_position

    runs = recent_runs(workspace=request.workspace)
    return render(
        request,
        "core/dashboard.html",
        {
            "sections": SECTIONS,
            "workers": workers_health(),
            "default_model": settings.INKSTONE_DEFAULT_MODEL,
            "training_rows": [{"run": run, "queue_position": queue_position(run)} for run in runs],
            "can_train": role_allows(request.membership.role, "training.manage"),
        },
    )


@login_required
@require("workspace.view")
def section(request, slug: str):
    try:
        current = SECTIONS_BY_SLUG[slug]
    except KeyError:
        raise Http404(f"No section {slug!r}.") from None
    return render(request, "core/section.html", {"section": current})


async def healthz(request):
    """Database, channel layer (round trip) and workers; HTTP 503 when any of them is down."""
    healthy, report = await system_health()
    return JsonResponse(report, status=200 if healthy else 503)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon."""
    return redirect(static("img/favicon.svg"), permanent=True)
