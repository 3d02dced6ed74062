from accounts.selectors import membership_for_request

SESSION_KEY = "workspace_id"


def resolve_membership(request):
    """The membership of the current workspace: header X-Workspace, else session, else first."""
    return membership_for_request(
        request.user,
        requested=request.headers.get("X-Workspace"),
        session_workspace_id=request.session.get(SESSION_KEY) if hasattr(request, "session") else None,
    )


class CurrentWorkspaceMiddleware:
    """Puts `request.membership` and `request.workspace` on every request (None when anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = resolve_membership(request)
        request.membership = membership
        request.workspace = membership.workspace if membership else None
        return self.get_response(request)
