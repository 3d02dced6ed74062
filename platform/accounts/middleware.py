from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.html import escape

from accounts.selectors import BadWorkspaceHeader, membership_for_request

SESSION_KEY = "workspace_id"


def resolve_membership(request):
    """The membership of the current workspace: header X-Workspace, else session, else first.

    Raises BadWorkspaceHeader for an X-Workspace that is neither an id nor a slug.
    """
    return membership_for_request(
        request.user,
        requested=request.headers.get("X-Workspace"),
        session_workspace_id=request.session.get(SESSION_KEY) if hasattr(request, "session") else None,
    )


def bad_workspace_response(request, exc: BadWorkspaceHeader):
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": str(exc), "X-Workspace": [str(exc)]}, status=400)
    return HttpResponseBadRequest(f"<h1>Bad request</h1><p>{escape(exc)}</p>")


class CurrentWorkspaceMiddleware:
    """Puts `request.membership` and `request.workspace` on every request (None when anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            membership = resolve_membership(request)
        except BadWorkspaceHeader as exc:
            return bad_workspace_response(request, exc)
        request.membership = membership
        request.workspace = membership.workspace if membership else None
        return self.get_response(request)
