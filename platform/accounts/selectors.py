import re

from accounts.models import Membership, Workspace
from core.fields import parse_id


def memberships_of(user):
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


class BadWorkspaceHeader(ValueError):
    """An X-Workspace header that is neither a workspace id nor a slug."""


_ID_RE = re.compile(r"[1-9][0-9]{0,17}")
_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]{1,120}")


def workspace_lookup(requested: str) -> dict:
    """The query an X-Workspace value (an id or a slug) stands for; BadWorkspaceHeader otherwise."""
    if _ID_RE.fullmatch(requested):
        return {"workspace_id": int(requested)}
    if _SLUG_RE.fullmatch(requested) and not requested.isdigit():
        return {"workspace__slug": requested}
    shown = requested if len(requested) <= 40 and requested.isprintable() else repr(requested[:40])
    raise BadWorkspaceHeader(
        f"X-Workspace: {shown} is neither a workspace id (a number from /api/workspaces/) nor a workspace slug."
    )


def membership_for_request(user, *, requested: str | None, session_workspace_id) -> Membership | None:
    """Pick the workspace a request acts in.

    An explicit `X-Workspace` (id or slug) that the user is not a member of yields None, so the
    caller gets a 403/404 instead of silently acting in another workspace; a malformed one raises
    BadWorkspaceHeader.
    """
    lookup = workspace_lookup(requested) if requested else None  # malformed: 400, signed in or not
    if user is None or not user.is_authenticated:
        return None
    memberships = memberships_of(user)
    if lookup is not None:
        return memberships.filter(**lookup).first()
    if parse_id(session_workspace_id) is not None:
        membership = memberships.filter(workspace_id=session_workspace_id).first()
        if membership is not None:
            return membership
    return memberships.order_by("created_at", "id").first()  # the workspace joined first


def workspace_members(workspace: Workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")
