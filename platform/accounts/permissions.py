"""Who may do what. Every entry point (views, API, consumers, tasks) asks this module.

Roles are ordered: writer < editor < admin. An action names the lowest role allowed.
Objects of another workspace are reported as *not found*, never as *forbidden*, so that
their existence does not leak.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.permissions import BasePermission

from accounts.models import Membership, Role

ROLE_RANK = {Role.WRITER: 1, Role.EDITOR: 2, Role.ADMIN: 3}

# action -> lowest role that may perform it. Later features add their actions here.
ACTIONS: dict[str, Role] = {
    "workspace.view": Role.WRITER,
    "workspace.switch": Role.WRITER,
    "members.view": Role.ADMIN,
    "members.manage": Role.ADMIN,
    # Library. Writers write their own prompts; editors curate prompts and voices; admins own
    # the training data.
    "prompts.view": Role.WRITER,
    "prompts.create": Role.WRITER,
    "prompts.change_own": Role.WRITER,
    "prompts.change_any": Role.EDITOR,
    "styles.view": Role.WRITER,
    "styles.manage": Role.EDITOR,
    "datasets.view": Role.WRITER,
    "datasets.manage": Role.ADMIN,
    # Models: everyone writes with the workspace's models; admins decide which ones exist.
    "models.view": Role.WRITER,
    "models.manage": Role.ADMIN,
}


class WorkspacePermissionDenied(PermissionDenied):
    """The user is in the workspace but their role does not allow the action."""


def role_allows(role: str | None, action: str) -> bool:
    if role is None:
        return False
    try:
        needed = ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; add it to accounts.permissions.ACTIONS") from None
    return ROLE_RANK[Role(role)] >= ROLE_RANK[needed]


def membership_for(user, workspace_id) -> Membership | None:
    """The user's membership in a workspace, or None (for anonymous users too)."""
    if user is None or not user.is_authenticated or workspace_id is None:
        return None
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace_id=workspace_id)
        .first()
    )


def check(membership: Membership | None, action: str) -> None:
    """Raise Http404 when outside the workspace, WorkspacePermissionDenied when the role is short."""
    if membership is None:
        raise Http404("No such workspace.")
    if not role_allows(membership.role, action):
        raise WorkspacePermissionDenied(
            f"Your role ({membership.get_role_display()}) does not allow this."
        )


def check_object(membership: Membership | None, obj, action: str) -> None:
    """Like check(), and the object must belong to the membership's workspace."""
    if membership is None or getattr(obj, "workspace_id", None) != membership.workspace_id:
        raise Http404("Not found.")
    check(membership, action)


def require(action: str):
    """View decorator: the current workspace membership must allow `action`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            check(getattr(request, "membership", None), action)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class IsWorkspaceMember(BasePermission):
    """DRF: the caller is authenticated and a member of the current workspace.

    A view may set `required_action` (or `required_actions` per HTTP method) to demand more.
    """

    message = "You are not a member of this workspace."

    def has_permission(self, request, view) -> bool:
        membership = getattr(request, "membership", None)
        if membership is None:
            from accounts.middleware import resolve_membership

            membership = resolve_membership(request)
            request.membership = membership
        if membership is None:
            return False
        action = getattr(view, "required_actions", {}).get(
            request.method, getattr(view, "required_action", "workspace.view")
        )
        if not role_allows(membership.role, action):
            self.message = f"Your role ({membership.get_role_display()}) does not allow this."
            return False
        return True
