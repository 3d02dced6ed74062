from accounts.permissions import role_allows
from accounts.selectors import memberships_of


def workspace(request):
    """Current workspace, the user's other workspaces (for the switcher) and role flags."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"current_membership": None, "workspace_choices": []}
    return {
        "current_membership": membership,
        "current_workspace": membership.workspace,
        "workspace_choices": list(memberships_of(request.user)),
        "can_manage_members": role_allows(membership.role, "members.view"),
    }
