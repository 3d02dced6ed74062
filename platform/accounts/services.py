from django.db import transaction
from django.utils.text import slugify

from accounts.models import Membership, Role, User, Workspace
from accounts.permissions import check
from accounts.signals import workspace_created


@transaction.atomic
def workspace_create(
    *, name: str, owner: User | None = None, slug: str | None = None, starter_content: bool = True
) -> Workspace:
    """Create a workspace; its owner (if any) becomes its first admin.

    With `starter_content`, the apps add their examples in the same transaction, so a new team
    can write and fine-tune at once.
    """
    base = slugify(slug or name) or "workspace"
    candidate, n = base, 2
    while Workspace.objects.filter(slug=candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    workspace = Workspace.objects.create(name=name, slug=candidate)
    if owner is not None:
        Membership.objects.create(user=owner, workspace=workspace, role=Role.ADMIN)
    if starter_content:
        workspace_created.send(sender=Workspace, workspace=workspace)
    return workspace


@transaction.atomic
def membership_set(*, workspace: Workspace, user: User, role: str) -> Membership:
    """Add a user to a workspace or change their role."""
    membership, _ = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": Role(role)}
    )
    return membership


def workspace_switch(*, request, workspace_id: int) -> Membership:
    """Make `workspace_id` the session's current workspace (404 when not a member)."""
    from accounts.middleware import SESSION_KEY
    from accounts.permissions import membership_for

    membership = membership_for(request.user, workspace_id)
    check(membership, "workspace.switch")
    request.session[SESSION_KEY] = membership.workspace_id
    return membership
