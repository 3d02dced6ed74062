"""The article editor: Markdown with live preview, autosave as revisions, the conflict of a stale
save, revisions and their diffs, restore, comments, and "rewrite this paragraph" suggestions.

Thin adapters: the rules live in articles.revisions (article_save, EditConflict),
articles.editing (restore, suggestions), articles.comments and articles.workflow (edit_refusal).
The editor's script (static/articles/editor.js) posts saves with the header X-Editor-Autosave
and gets fragments back: 200 saved, 409 the conflict, 400 bad input, 403 not allowed.
"""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.permissions import WorkspacePermissionDenied, can, check
from articles import editing
from articles.comments import comment_add, latest_comments
from articles.models import SUGGESTION, Article, ArticleRevision, Generation
from articles.revisions import EditConflict, article_save
from articles.services import RateLimited
from articles.workflow import edit_refusal
from core.diffing import diff_counts, word_diff
from core.errors import FieldErrors
from core.fields import parse_id
from core.markdown import render_markdown
from core.text import unstorable_reason
from styles.models import StyleProfile

REVISION_NUMBER = re.compile(r"[0-9]{1,9}")  # 0: the article has no revision yet


def markdown_html(text: str) -> str:
    """The one place the editor renders Markdown: the project's sanitiser (raw HTML is inert)."""
    return render_markdown(text) if text and text.strip() else ""


def _article(request, pk, action="drafts.view") -> Article:
    article = get_object_or_404(Article.objects.select_related("chosen", "created_by"), pk=pk)
    check(request.membership, action, article)
    return article


def _check_editable(request, article: Article) -> None:
    """Saving, restoring and rewriting need articles.edit and a state this member may edit in."""
    if (refusal := edit_refusal(request.membership, article)) is not None:
        raise WorkspacePermissionDenied(refusal)


def _autosave(request) -> bool:
    return request.headers.get("X-Editor-Autosave") == "1"


def revisions_of(article: Article):
    return article.revisions.select_related("created_by", "generation").order_by("-number")


def _comments_context(request, article: Article, errors=None, posted=None) -> dict:
    shown, total = latest_comments(article)
    return {
        "article": article, "comments": shown, "comments_total": total, "comments_hidden": total - len(shown),
        "may_comment": can(request.membership, "articles.comment", article),
        "comment_errors": errors or {}, "posted": posted or {},
    }


def _revisions_context(request, article: Article) -> dict:
    return {"article": article, "revisions": revisions_of(article),
            "may_edit": edit_refusal(request.membership, article) is None}


def _editor_context(request, article: Article, conflict=None) -> dict:
    refusal = edit_refusal(request.membership, article)
    context = {
        "article": article, "refusal": refusal, "preview_html": markdown_html(article.body), "conflict": conflict,
        "styles": StyleProfile.objects.filter(workspace=article.workspace).exclude(current=None) if refusal is None else [],
        "suggestions": article.generations.filter(kind=SUGGESTION, outcome="").order_by("-created_at")[:3] if refusal is None else [],
    }
    return {**context, **_revisions_context(request, article), **_comments_context(request, article)}


@login_required
@require_GET
def article_edit(request, pk):
    article = _article(request, pk)
    return render(request, "articles/edit.html", _editor_context(request, article))


@login_required
@require_POST
def article_preview(request, pk):
    _article(request, pk)
    return HttpResponse(markdown_html(request.POST.get("body", "")) or '<p class="muted">Nothing written yet.</p>')


def _conflict_context(request, article: Article, conflict: EditConflict) -> dict:
    latest = conflict.latest
    theirs = latest.body if latest is not None else ""
    return {"article": article, "latest": latest, "theirs": theirs, "yours": conflict.body, "your_title": conflict.title,
            "message": str(conflict), "diff": word_diff(theirs, conflict.body)}


@login_required
@require_POST
def article_save_view(request, pk):
    """Save the editor's title and text as the next revision, from base revision `revision`."""
    article = _article(request, pk)
    if (refusal := edit_refusal(request.membership, article)) is not None:
        if _autosave(request):
            return render(request, "articles/_edit_status.html", {"error": refusal}, status=403)
        raise WorkspacePermissionDenied(refusal)
    base, note = request.POST.get("revision", ""), request.POST.get("note", "").strip()[:200]
    try:
        if not REVISION_NUMBER.fullmatch(base):
            raise FieldErrors({"revision": "The base revision is missing; reload the editor."})
        if reason := unstorable_reason(note):
            raise FieldErrors({"note": f"The note {reason}."})
        revision = article_save(article=article, membership=request.membership, title=request.POST.get("title", ""),
                                body=request.POST.get("body", ""), base_revision=int(base), note=note)
    except EditConflict as exc:
        context = _conflict_context(request, article, exc)
        if _autosave(request):
            return render(request, "articles/_edit_conflict.html", context, status=409)
        article.refresh_from_db()
        return render(request, "articles/edit.html", _editor_context(request, article, conflict=context), status=409)
    except FieldErrors as exc:
        if _autosave(request):
            return render(request, "articles/_edit_status.html", {"errors": exc.errors}, status=400)
        messages.error(request, " ".join(exc.errors.values()))
        return redirect("article_edit", pk=article.pk)
    if _autosave(request):
        return render(request, "articles/_edit_status.html", {"revision": revision})
    messages.success(request, f"Saved as revision {revision.number}.")
    return redirect("article_edit", pk=article.pk)


@login_required
@require_GET
def article_revisions_panel(request, pk):
    article = _article(request, pk)
    return render(request, "articles/_revisions.html", _revisions_context(request, article))


def _side(article: Article, key: str, default: int | None):
    """One side of a comparison: a revision number, or "chosen" (the chosen variant's text)."""
    if key == "chosen" and article.chosen is not None:
        return {"key": "chosen", "label": f"Variant {article.chosen.variant} as generated",
                "title": article.title, "body": article.chosen.prefix + article.chosen.text}
    number = parse_id(key) if key else default
    revision = article.revisions.select_related("created_by").filter(number=number).first() if number else None
    if revision is None:
        return None
    return {"key": str(revision.number), "label": f"r{revision.number}", "revision": revision,
            "title": revision.title, "body": revision.body}


@login_required
@require_GET
def article_revisions(request, pk):
    """Revisions and the word diff between two of them (?a=&b=, numbers or "chosen")."""
    article = _article(request, pk)
    revisions = list(revisions_of(article))
    latest = revisions[0].number if revisions else None
    previous = revisions[1].number if len(revisions) > 1 else latest
    old = _side(article, request.GET.get("a", ""), previous)
    new = _side(article, request.GET.get("b", ""), latest)
    diff = word_diff(old["body"], new["body"]) if old and new else None
    return render(request, "articles/revisions.html", {
        **_revisions_context(request, article), "revisions": revisions, "old": old, "new": new, "diff": diff,
        "counts": diff_counts(diff) if diff is not None else None,
        "bad_choice": bool(request.GET.get("a") or request.GET.get("b")) and not (old and new),
    })


@login_required
@require_POST
def article_restore(request, pk, number):
    article = _article(request, pk)
    _check_editable(request, article)
    base = parse_id(request.POST.get("revision")) or article.revision
    try:
        revision = editing.revision_restore(article=article, membership=request.membership, number=number,
                                            base_revision=base)
    except ArticleRevision.DoesNotExist:
        messages.error(request, f"This article has no revision {number}.")
    except EditConflict as exc:
        messages.error(request, f"Not restored: {exc}")
    else:
        if revision.number == number:
            messages.info(request, f"Revision {number} is the current text already.")
        else:
            messages.success(request, f"Restored revision {number} as revision {revision.number}.")
    return redirect("article_edit", pk=article.pk)


@login_required
@require_GET
def article_comments(request, pk):
    article = _article(request, pk)
    return render(request, "articles/_comments.html", _comments_context(request, article))


@login_required
@require_POST
def article_comment_add(request, pk):
    article = _article(request, pk)
    check(request.membership, "articles.comment", article)
    posted = {"body": request.POST.get("body", ""), "quote": request.POST.get("quote", "")}
    try:
        comment_add(article=article, membership=request.membership, **posted)
    except FieldErrors as exc:
        if request.htmx:  # htmx swaps 2xx answers only: the list, and the errors by the form
            return render(request, "articles/_comments_added.html", _comments_context(request, article, exc.errors, posted))
        messages.error(request, " ".join(exc.errors.values()))
        return redirect("article_edit", pk=article.pk)
    if request.htmx:
        response = render(request, "articles/_comments_added.html", _comments_context(request, article))
        return trigger_client_event(response, "comment-added")  # the editor's script empties the form
    messages.success(request, "Comment added.")
    return redirect("article_edit", pk=article.pk)


@login_required
@require_POST
def suggestion_create(request, pk):
    article = _article(request, pk)
    _check_editable(request, article)
    style_id = parse_id(request.POST.get("style"))
    style = StyleProfile.objects.filter(workspace=article.workspace, pk=style_id).select_related("current").first() if style_id else None
    posted = {"passage": request.POST.get("passage", ""), "instruction": request.POST.get("instruction", "")}
    try:
        if style_id and style is None:
            raise FieldErrors({"style": "No such style in this workspace."})
        suggestion = editing.suggestion_create(article=article, membership=request.membership, style=style, **posted)
    except (FieldErrors, RateLimited) as exc:
        errors = exc.errors if isinstance(exc, FieldErrors) else {"suggestion": str(exc)}
        return render(request, "articles/_suggestion_form_errors.html", {"errors": errors},
                      status=200 if request.htmx else 400)
    return render(request, "articles/_suggestion.html", {"s": suggestion, "may_edit": True})


def _suggestion(request, pk) -> Generation:
    suggestion = get_object_or_404(Generation.objects.select_related("article"), pk=pk)
    check(request.membership, "drafts.view", suggestion)
    _check_editable(request, suggestion.article)
    return suggestion


@login_required
@require_POST
def suggestion_accept(request, pk):
    """Answers JSON for the editor's script: the new revision's number and text."""
    suggestion = _suggestion(request, pk)
    try:
        revision = editing.suggestion_accept(suggestion=suggestion, membership=request.membership,
                                             base_revision=parse_id(request.POST.get("revision")) or 0)
    except EditConflict as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    except FieldErrors as exc:
        return JsonResponse({"error": " ".join(exc.errors.values()), "errors": exc.errors}, status=400)
    status_html = render_to_string("articles/_edit_status.html", {"revision": revision}, request=request)
    return JsonResponse({"revision": revision.number, "title": revision.title, "body": revision.body,
                         "status_html": status_html, "machine_share": revision.machine_share})


@login_required
@require_POST
def suggestion_discard(request, pk):
    suggestion = _suggestion(request, pk)
    try:
        editing.suggestion_discard(suggestion=suggestion, membership=request.membership)
    except FieldErrors as exc:
        return JsonResponse({"error": " ".join(exc.errors.values()), "errors": exc.errors}, status=400)
    return JsonResponse({"discarded": suggestion.pk})
