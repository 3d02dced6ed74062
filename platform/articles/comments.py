"""Comments on an article, optionally on a passage of its current text."""

import html

from django.utils.html import strip_tags

from accounts.permissions import check
from articles.models import Article, Comment
from core.errors import FieldErrors
from core.markdown import render_markdown
from core.text import unstorable_reason

MAX_COMMENT_CHARS = 5_000
SHOWN_COMMENTS = 100  # pages show the newest ones (the API pages through all)


def latest_comments(article: Article, limit: int = SHOWN_COMMENTS) -> tuple[list[Comment], int]:
    """The article's newest `limit` comments, oldest first, and how many it has in all."""
    total = article.comments.count()
    newest = article.comments.select_related("author").order_by("-created_at", "-pk")[:limit]
    return list(reversed(newest)), total


def _words(text: str) -> str:
    return " ".join(text.split())


def _quotes(body: str, quote: str) -> bool:
    """Whether `quote` is a passage of the text: of its Markdown source (selected in the editor)
    or of the text as the preview shows it (selected there: no Markdown marks, other line breaks)."""
    if quote in body:
        return True
    shown = html.unescape(strip_tags(render_markdown(body)))
    return _words(quote) in _words(shown)


def comment_add(*, article: Article, membership, body: str, quote: str = "") -> Comment:
    check(membership, "articles.comment", article)
    body, quote = (body or "").strip(), (quote or "").strip()
    errors = {}
    if not body:
        errors["body"] = "The comment is empty."
    elif len(body) > MAX_COMMENT_CHARS:
        errors["body"] = f"The comment is {len(body):,} characters; keep it under {MAX_COMMENT_CHARS:,}."
    elif reason := unstorable_reason(body):
        errors["body"] = f"The comment {reason}."
    if quote and not _quotes(article.body, quote):
        errors["quote"] = "The quoted passage is not in the article's current text (was it edited meanwhile?)."
    if errors:
        raise FieldErrors(errors)
    return Comment.objects.create(article=article, author=membership.user, body=body, quote=quote, revision=article.revision)
