"""The editorial workflow, enforced in one place for pages, the API and scheduled tasks.

    draft ─submit→ in review ─approve→ approved ─publish→ published ─unpublish→ unpublished
                      │ ├─request_changes→ changes requested ─submit→ in review
                      │ └─reject→ rejected
    archive: from any state but published; reopen: archived or rejected → draft

Writers submit their own articles; editors (and admins) do everything else, on anyone's. Each
transition is a `Transition` row (who, when, comment). A submission opens a `Review`, which the
database allows once per article at a time; approving, rejecting or requesting changes closes it.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.permissions import check, decide
from articles.models import Article, Review, Transition
from core.errors import FieldErrors
from core.text import unstorable_reason

S = Article.Status


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str
    permission: str  # an action of accounts.permissions.ACTIONS
    label: str
    needs_text: bool = False  # the article must have a body
    needs_comment: bool = False  # the writer must be told why


MOVES: dict[str, Move] = {
    "submit": Move((S.DRAFT, S.CHANGES_REQUESTED), S.IN_REVIEW, "articles.submit", "Submit for review", needs_text=True),
    "request_changes": Move((S.IN_REVIEW,), S.CHANGES_REQUESTED, "articles.review", "Request changes",
                            needs_comment=True),
    "reject": Move((S.IN_REVIEW,), S.REJECTED, "articles.review", "Reject", needs_comment=True),
    "approve": Move((S.IN_REVIEW,), S.APPROVED, "articles.review", "Approve", needs_text=True),
    "publish": Move((S.APPROVED, S.UNPUBLISHED), S.PUBLISHED, "articles.publish", "Publish", needs_text=True),
    "unpublish": Move((S.PUBLISHED,), S.UNPUBLISHED, "articles.publish", "Unpublish"),
    "archive": Move((S.DRAFT, S.CHANGES_REQUESTED, S.REJECTED, S.APPROVED, S.UNPUBLISHED), S.ARCHIVED,
                    "articles.archive", "Archive"),
    "reopen": Move((S.ARCHIVED, S.REJECTED), S.DRAFT, "articles.archive", "Reopen as a draft"),
}
MAX_COMMENT_CHARS = 5_000
REVIEW_OUTCOMES = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected"}


class TransitionNotAllowed(Exception):
    """The move does not exist from the article's current state (HTTP 409)."""


def allowed_moves(membership, article: Article) -> list[str]:
    """The moves this member may make on the article now, in MOVES order (for buttons); a move
    that needs text is not offered while the article has none."""
    return [name for name, move in MOVES.items()
            if article.status in move.sources and (not move.needs_text or article.body.strip())
            and decide(membership, move.permission, article)]


# Addresses the public pages use beside articles' slugs (publishing/urls.py): /p/<workspace>/feed/ ...
RESERVED_SLUGS = {"feed", "rss"}


def _unique_slug(article: Article) -> str:
    base = slugify(article.title)[:70].strip("-") or f"article-{article.pk}"
    taken = RESERVED_SLUGS | set(Article.objects.filter(workspace_id=article.workspace_id, slug__startswith=base)
                .exclude(pk=article.pk).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def article_transition(*, article: Article, action: str, membership=None, comment: str = "", scheduled: bool = False) -> Transition:
    """Move the article along the workflow. `membership` is whoever asks (checked against the
    move's permission); `scheduled=True` is the scheduler, which needs none.

    Raises WorkspacePermissionDenied (or Http404 outside the workspace) when the role is short,
    TransitionNotAllowed when the move does not exist from the current state, FieldErrors on
    "comment" when the move needs one (request changes, reject) and has none, or it is too long.
    """
    move = MOVES.get(action)
    if move is None:
        raise TransitionNotAllowed(f"There is no action {action!r}; the actions are {', '.join(MOVES)}.")
    comment = (comment or "").strip()
    if not scheduled:
        check(membership, move.permission, article)
    # Read the state under a lock: two editors pressing Approve at once move it once.
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status not in move.sources:
        raise TransitionNotAllowed(
            f"“{move.label}” is not possible while the article is {article.get_status_display().lower()}; "
            f"it needs the article to be {' or '.join(S(s).label.lower() for s in move.sources)}."
        )
    if move.needs_text and not article.body.strip():
        raise TransitionNotAllowed(f"“{move.label}” needs the article to have text: choose a variant or write it first.")
    if move.needs_comment and not comment:
        raise FieldErrors({"comment": f"“{move.label}” needs a comment: tell the writer what to change or why."})
    if len(comment) > MAX_COMMENT_CHARS:
        raise FieldErrors({"comment": f"The comment is {len(comment):,} characters; keep it under {MAX_COMMENT_CHARS:,}."})
    if reason := unstorable_reason(comment):
        raise FieldErrors({"comment": f"The comment {reason}."})
    actor = membership.user if membership is not None and not scheduled else None
    now = timezone.now()
    if action == "submit":
        try:
            with transaction.atomic():
                Review.objects.create(article=article, submitted_by=actor)
        except IntegrityError:
            raise TransitionNotAllowed("The article is already in review.") from None
    elif action in REVIEW_OUTCOMES:
        Review.objects.filter(article=article, closed_at__isnull=True).update(
            closed_at=now, closed_by=actor, outcome=REVIEW_OUTCOMES[action])
    fields = ["status", "updated_at"]
    if action == "publish":
        article.published_at = now
        article.publish_at = None
        fields += ["published_at", "publish_at"]
        if not article.slug:
            article.slug = _unique_slug(article)
            fields.append("slug")
    if action == "unpublish":
        article.unpublish_at = None
        fields.append("unpublish_at")
    if move.target not in (S.APPROVED, S.UNPUBLISHED, S.PUBLISHED) and (article.publish_at or article.unpublish_at):
        # archived (or back in the workflow): a publishing time set before no longer applies
        article.publish_at = article.unpublish_at = None
        fields += ["publish_at", "unpublish_at"]
    transition = Transition.objects.create(
        article=article, action=action, from_status=article.status, to_status=move.target,
        actor=actor, comment=comment, revision=article.revision,
    )
    article.status = move.target
    article.save(update_fields=fields)
    return transition


EDITOR_ONLY_STATES = (S.IN_REVIEW, S.APPROVED, S.PUBLISHED, S.UNPUBLISHED, S.REJECTED)


def edit_refusal(membership, article: Article) -> str | None:
    """Why this member may not change the article's text now, or None when they may.

    Archived articles are read-only. Writers change their own articles while they are drafts or
    back with them for changes; once submitted, the text is the editors'.
    """
    decision = decide(membership, "articles.edit", article)
    if not decision:
        return decision.reason
    if article.status == S.ARCHIVED:
        return "The article is archived; reopen it to edit."
    if article.status in EDITOR_ONLY_STATES and not decide(membership, "articles.review", article):
        return f"The article is {article.get_status_display().lower()}; only editors change it now."
    return None
