"""Who may do what: one decision for every entry point (pages, API, WebSocket consumers, tasks).

Each action has a Rule: the lowest role that may do it on one's own objects, and the lowest role
that may do it on other people's (the same unless said otherwise). Roles are ordered
writer < editor < admin. Objects of another workspace are *not found*, never *forbidden*, so that
their existence does not leak.

    decide(membership, "generations.cancel", generation)  -> Decision(allowed, status, reason)
    can(...) -> bool;  check(...) raises Http404 / WorkspacePermissionDenied
"""

from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.permissions import BasePermission

from accounts.models import Membership, Role

ROLE_RANK = {Role.WRITER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Rule:
    own: Role  # lowest role that may act on objects the member created (or on no object)
    others: Role | None = None  # ...on objects someone else created; None: the same role

    def needed(self, is_owner: bool) -> Role:
        return self.own if is_owner or self.others is None else self.others


W, E, A = Role.WRITER, Role.EDITOR, Role.ADMIN

# Later features add their actions here; every entry point names one of these.
ACTIONS: dict[str, Rule] = {
    "workspace.view": Rule(W),
    "workspace.switch": Rule(W),
    "members.view": Rule(A),
    "members.manage": Rule(A),
    # Library. Writers write their own prompts; editors curate prompts and voices; admins own
    # the training data.
    "prompts.view": Rule(W),
    "prompts.create": Rule(W),
    "prompts.change": Rule(W, others=E),  # edit, delete, restore a version
    "styles.view": Rule(W),
    "styles.manage": Rule(E),
    "datasets.view": Rule(W),
    "datasets.manage": Rule(A),
    # Models: everyone writes with the workspace's models; admins decide which ones exist.
    "models.view": Rule(W),
    "models.manage": Rule(A),
    "models.promote": Rule(A),  # make a fine-tuned candidate available to writers
    # Training: everyone may watch the workspace's runs; admins start, cancel and resume them.
    "training.view": Rule(W),
    "training.manage": Rule(A),
    # Drafting. Everyone reads the workspace's drafts; a writer steers only their own (an
    # article's generations belong to the article's writer too), editors and admins anyone's.
    "drafts.view": Rule(W),
    "drafts.create": Rule(W),
    "drafts.choose": Rule(W, others=E),  # make a variant the article's text
    "generations.cancel": Rule(W, others=E),
    "generations.rerun": Rule(W, others=E),  # retry, regenerate, continue writing
    # Review and publishing. Writers edit and submit their own articles; editors review, edit,
    # publish and archive anyone's. (Which states allow what is articles.workflow's to say.)
    "articles.edit": Rule(W, others=E),  # save a revision, rewrite a passage
    "articles.comment": Rule(W),
    "articles.submit": Rule(W, others=E),
    "articles.review": Rule(E),  # approve, request changes, reject; the review queue
    "articles.publish": Rule(E),  # publish, unpublish, schedule
    "articles.archive": Rule(E),  # archive, reopen
    "articles.to_dataset": Rule(E),  # add approved articles to a dataset as its next version
}


class WorkspacePermissionDenied(PermissionDenied):
    """The user is in the workspace but their role does not allow the action."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int | None = None  # 404 (outside the workspace) or 403 (role too low) when refused
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _rule(action: str) -> Rule:
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; add it to accounts.permissions.ACTIONS") from None


def owner_ids(obj) -> set[int]:
    """Users who count as the owners of an object (its creator; a generation's article's writer too)."""
    if hasattr(obj, "owner_ids"):
        return set(obj.owner_ids())
    return {getattr(obj, "created_by_id", None)} - {None}


def decide(membership: Membership | None, action: str, obj=None) -> Decision:
    """May this member do `action` (on `obj`, if given)? The one place that says so."""
    rule = _rule(action)
    if membership is None:
        return Decision(False, 404, "No such workspace.")
    if obj is not None and getattr(obj, "workspace_id", None) != membership.workspace_id:
        return Decision(False, 404, "Not found.")
    is_owner = obj is None or membership.user_id in owner_ids(obj)
    needed = rule.needed(is_owner)
    if ROLE_RANK[Role(membership.role)] >= ROLE_RANK[needed]:
        return Decision(True)
    role = membership.get_role_display()
    if not is_owner and ROLE_RANK[Role(membership.role)] >= ROLE_RANK[rule.own]:
        return Decision(False, 403, f"Your role ({role}) may do this only on what you created.")
    return Decision(False, 403, f"Your role ({role}) does not allow this.")


def can(membership: Membership | None, action: str, obj=None) -> bool:
    return decide(membership, action, obj).allowed


def check(membership: Membership | None, action: str, obj=None) -> None:
    """Raise Http404 outside the workspace, WorkspacePermissionDenied when the role is short."""
    decision = decide(membership, action, obj)
    if decision.allowed:
        return
    if decision.status == 404:
        raise Http404(decision.reason)
    raise WorkspacePermissionDenied(decision.reason)


def check_object(membership: Membership | None, obj, action: str) -> None:
    """check() on an object (kept for the many callers that name the object first)."""
    check(membership, action, obj)


def role_allows(role: str | None, action: str) -> bool:
    """Whether a role may do `action` on its own objects (e.g. to show a "New" button)."""
    rule = _rule(action)
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[rule.own]


def membership_for(user, workspace_id) -> Membership | None:
    """The user's membership in a workspace, or None (for anonymous users too)."""
    if user is None or not user.is_authenticated or workspace_id is None:
        return None
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace_id=workspace_id)
        .first()
    )


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

    A view may set `required_action` (or `required_actions` per HTTP method) to demand more;
    objects are checked with check()/check_object() like the pages do.
    """

    message = "You are not a member of this workspace."

    def has_permission(self, request, view) -> bool:
        membership = getattr(request, "membership", None)
        if membership is None:
            from rest_framework.exceptions import ValidationError

            from accounts.middleware import resolve_membership
            from accounts.selectors import BadWorkspaceHeader

            try:
                membership = resolve_membership(request)
            except BadWorkspaceHeader as exc:
                raise ValidationError({"X-Workspace": [str(exc)]}) from None
            request.membership = membership
        if membership is None:
            if request.user and request.user.is_authenticated:
                from rest_framework.exceptions import NotFound

                raise NotFound("No such workspace among yours (see /api/workspaces/).")  # as the pages say
            return False
        action = getattr(view, "required_actions", {}).get(
            request.method, getattr(view, "required_action", "workspace.view")
        )
        decision = decide(membership, action)
        if not decision:
            self.message = decision.reason
        return decision.allowed
