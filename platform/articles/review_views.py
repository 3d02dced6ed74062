"""Workflow pages: moving an article along (the buttons on its page), the review queue for
editors, My drafts for writers and the list of published articles. Thin: the rules live in
articles.workflow and the queries in articles.review_selectors."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import check, require
from articles import review_selectors as rs
from articles.models import Article
from articles.workflow import MOVES, TransitionNotAllowed, article_transition
from core.errors import FieldErrors

DONE = {
    "submit": "Submitted for review: an editor will look at it.",
    "request_changes": "Sent back to the writer with your comment.",
    "reject": "Rejected.",
    "approve": "Approved: it can be published now.",
    "publish": "Published.",
    "unpublish": "Unpublished: the public page is gone.",
    "archive": "Archived.",
    "reopen": "Reopened as a draft.",
}


@login_required
@require_POST
def article_transition_view(request, pk, action):
    article = get_object_or_404(Article, pk=pk)
    check(request.membership, "drafts.view", article)  # another workspace's article: 404
    if action not in MOVES:
        raise Http404(f"No workflow action {action!r}.")
    comment = request.POST.get("comment", "")
    try:
        article_transition(article=article, action=action, membership=request.membership, comment=comment)
    except TransitionNotAllowed as exc:
        return _refused(request, article, action, comment, error=str(exc), status=409)
    except FieldErrors as exc:
        return _refused(request, article, action, comment, field_errors=exc.errors, status=400)
    messages.success(request, DONE[action])
    return redirect(article)


def _refused(request, article, action, comment, *, status, error="", field_errors=None):
    article.refresh_from_db()
    return render(request, "articles/transition_refused.html", {
        "article": article, "move": MOVES[action], "action": action, "comment": comment, "error": error,
        "field_errors": field_errors or {}, "buttons": rs.move_buttons(request.membership, article),
    }, status=status)


@login_required
@require("drafts.view")  # the queue is the editors' (the navigation offers it to them); anyone may look
def review_queue(request):
    params = request.GET.dict()
    params.setdefault("status", Article.Status.IN_REVIEW)
    errors = {}
    try:
        articles = rs.articles_filtered(request.workspace, params)
    except FieldErrors as exc:
        errors, articles = exc.errors, Article.objects.none()
    page = Paginator(articles, 25).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in params.items() if k in rs.FILTER_KEYS and v})
    return render(request, "articles/review_queue.html", {
        "page": page, "params": params, "errors": errors, "query": query,
        "choices": rs.filter_choices(request.workspace), "sorts": [
            ("submitted", "Oldest submitted first"), ("-submitted", "Newest submitted first"),
            ("-updated", "Recently updated")],
    }, status=400 if errors else 200)


@login_required
@require("drafts.view")
def my_drafts(request):
    page = Paginator(rs.my_articles(request.membership), 25).get_page(request.GET.get("page"))
    return render(request, "articles/mine.html", {"page": page, "rows": rs.with_next_steps(page.object_list)})


@login_required
@require("drafts.view")
def published_list(request):
    page = Paginator(rs.published_articles(request.workspace), 25).get_page(request.GET.get("page"))
    rows = [{"article": a, "public": rs.public_path(a)} for a in page.object_list]
    return render(request, "articles/published.html", {"page": page, "rows": rows})
