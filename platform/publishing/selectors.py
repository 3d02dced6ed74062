"""Reads for the public pages and feeds: only published articles are ever public."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Workspace
from articles.models import Article


def public_workspace(slug: str) -> Workspace:
    return get_object_or_404(Workspace, slug=slug)


def published_articles(workspace: Workspace) -> QuerySet[Article]:
    """The workspace's published articles, newest first."""
    return (Article.objects.filter(workspace=workspace, status=Article.Status.PUBLISHED)
            .exclude(slug="").order_by("-published_at", "-pk"))


def published_article(workspace: Workspace, slug: str) -> Article:
    """A published article by its public slug; anything else (a draft, an unpublished article,
    another workspace's) is not found."""
    return get_object_or_404(published_articles(workspace), slug=slug)
