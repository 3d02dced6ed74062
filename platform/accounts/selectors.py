from accounts.models import Membership, Workspace


def memberships_of(user):
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def membership_for_request(user, *, requested: str | None, session_workspace_id) -> Membership | None:
    """Pick the workspace a request acts in.

    An explicit `X-Workspace` (id or slug) that the user is not a member of yields None, so the
    caller gets a 403/404 instead of silently acting in another workspace.
    """
    if user is None or not user.is_authenticated:
        return None
    memberships = memberships_of(user)
    if requested:
        lookup = {"workspace_id": int(requested)} if requested.isdigit() else {"workspace__slug": requested}
        return memberships.filter(**lookup).first()
    if session_workspace_id is not None:
        membership = memberships.filter(workspace_id=session_workspace_id).first()
        if membership is not None:
            return membership
    return memberships.order_by("created_at", "id").first()  # the workspace joined first


def workspace_members(workspace: Workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")
