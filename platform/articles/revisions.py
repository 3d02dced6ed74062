"""Saving an article's text: every save is a revision, and a save that did not start from the
latest revision is refused with both texts (never a silent overwrite)."""

from django.db import transaction

from accounts.permissions import WorkspacePermissionDenied
from articles import authorship
from articles.models import Article, ArticleRevision, Generation
from articles.workflow import edit_refusal
from core.errors import FieldErrors
from core.text import unstorable_reason
from core.versioning import version_add

MAX_BODY_CHARS = 200_000


class EditConflict(Exception):
    """Someone saved since this edit began. Carries the latest revision and the refused text."""

    def __init__(self, latest: ArticleRevision | None, title: str, body: str, base_revision: int):
        who = latest.created_by if latest is not None and latest.created_by else "someone"
        number = latest.number if latest is not None else 0
        super().__init__(f"{who} saved revision {number} after you opened revision {base_revision}; your text was not "
                         f"saved. Compare both and save again from revision {number}.")
        self.latest, self.title, self.body, self.base_revision = latest, title, body, base_revision


def _checked(title: str, body: str) -> tuple[str, str]:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "The title is empty."
    elif len(title) > 200:
        errors["title"] = f"The title is {len(title)} characters; keep it to 200."
    if len(body) > MAX_BODY_CHARS:
        errors["body"] = f"The text is {len(body):,} characters; keep it under {MAX_BODY_CHARS:,}."
    for name, value in (("title", title), ("body", body)):
        if name not in errors and (reason := unstorable_reason(value)):
            errors[name] = f"The {name} {reason}."
    if errors:
        raise FieldErrors(errors)
    return title, body.replace("\r\n", "\n")


@transaction.atomic
def article_save(*, article: Article, membership, title: str, body: str, base_revision: int, note: str = "",
                 generation: Generation | None = None) -> ArticleRevision:
    """Save title and text as the next revision, if `base_revision` is still the latest.

    `generation`: the text comes from that run (choosing a variant, accepting a suggestion): what
    it adds counts as machine-written. Saving unchanged text makes no revision.
    """
    if (refusal := edit_refusal(membership, article)) is not None:
        raise WorkspacePermissionDenied(refusal)
    title, body = _checked(title, body)
    locked = Article.objects.select_for_update().get(pk=article.pk)
    latest = locked.revisions.order_by("-number").first()
    if locked.revision != base_revision:
        raise EditConflict(latest, title, body, base_revision)
    if latest is not None and latest.title == title and latest.body == body and generation is None:
        return latest
    old_body, old_runs = (latest.body, latest.authorship) if latest else ("", [])
    runs = authorship.carry(old_body, old_runs, body, authorship.MACHINE if generation else authorship.HUMAN)
    revision = version_add(
        ArticleRevision, locked, user=membership.user, note=note, title=title, body=body, generation=generation,
        authorship=runs, machine_share=authorship.machine_share(body, runs),
    )
    locked.title, locked.body, locked.revision = title, body, revision.number
    locked.save(update_fields=["title", "body", "revision", "updated_at"])
    article.title, article.body, article.revision, article.updated_at = title, body, revision.number, locked.updated_at
    return revision


def revision_at(article: Article, number: int) -> ArticleRevision:
    return article.revisions.select_related("created_by", "generation").get(number=number)
