"""Public pages (no login) and members' exports, print view and scheduling."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import check, require
from articles.models import Article
from publishing import services
from publishing.exports import FORMATS, article_export
from publishing.forms import ScheduleForm
from publishing.rendering import (
    article_html,
    first_paragraph,
    mark_answer_key,
    reading_minutes,
    without_title_heading,
)
from publishing.selectors import (
    public_workspace,
    published_article,
    published_articles,
    scheduled_articles,
)


def _feeds(workspace) -> dict:
    return {"atom_url": reverse("publishing_atom", args=[workspace.slug]),
            "rss_url": reverse("publishing_rss", args=[workspace.slug])}


# --- public ------------------------------------------------------------------------------------
def public_index(request, workspace_slug):
    workspace = public_workspace(workspace_slug)
    articles = [(article, first_paragraph(article_html(article.body), 280))
                for article in published_articles(workspace)[:100]]
    return render(request, "publishing/index.html", {
        "workspace": workspace, "articles": articles, **_feeds(workspace),
        "canonical_url": request.build_absolute_uri(reverse("publishing_index", args=[workspace.slug])),
    })


def public_article(request, workspace_slug, article_slug):
    workspace = public_workspace(workspace_slug)
    article = published_article(workspace, article_slug)
    body_html = without_title_heading(article_html(article.body), article.title)
    return render(request, "publishing/article.html", {
        "workspace": workspace, "article": article, "body_html": body_html,
        "reading_minutes": reading_minutes(article.body),
        "description": first_paragraph(body_html), **_feeds(workspace),
        "canonical_url": request.build_absolute_uri(reverse("publishing_article", args=[workspace.slug, article.slug])),
        "index_url": reverse("publishing_index", args=[workspace.slug]),
    })


# --- members -----------------------------------------------------------------------------------
def _article_for(request, pk, action="drafts.view") -> Article:
    article = get_object_or_404(Article.objects.select_related("workspace"), pk=pk)
    check(request.membership, action, article)
    return article


@login_required
@require("drafts.view")
def published_list(request):
    """The workspace's published and scheduled articles, with the public addresses."""
    workspace = request.workspace
    return render(request, "publishing/published.html", {
        "published": published_articles(workspace).select_related("workspace"),
        "scheduled": scheduled_articles(workspace),
        "index_url": request.build_absolute_uri(reverse("publishing_index", args=[workspace.slug])),
        **_feeds(workspace),
    })


@login_required
def article_export_view(request, pk, fmt):
    article = _article_for(request, pk)
    if fmt not in FORMATS:
        raise Http404(f"No export format {fmt!r}; the formats are {', '.join(FORMATS)}.")
    exported = article_export(article=article, fmt=fmt)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response


@login_required
def article_print(request, pk):
    article = _article_for(request, pk)
    body_html = mark_answer_key(without_title_heading(article_html(article.body), article.title))
    return render(request, "publishing/print.html", {
        "article": article, "body_html": body_html, "has_answer_key": 'class="answer-key"' in body_html,
    })


@login_required
@require_POST
def article_schedule(request, pk):
    article = _article_for(request, pk)
    form = ScheduleForm(request.POST)
    if request.POST.get("action") == "cancel":
        services.schedule_cancel(article=article, membership=request.membership)
        messages.success(request, "Schedule cancelled.")
    elif not form.is_valid():
        check(request.membership, "articles.publish", article)
        messages.error(request, " ".join(f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()))
    else:
        try:
            article = services.schedule(article=article, membership=request.membership, **form.cleaned_data)
        except services.ScheduleError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, services.schedule_summary(article))
    return redirect(article)
