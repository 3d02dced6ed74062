"""Reads for the public pages and feeds: only published articles are ever public."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Workspace
from articles.models import Article


def public_workspace(slug: str) -> Workspace:
    """A workspace with something published: one that has published nothing has no public pages,
    so its name (and its existence) stays private."""
    return get_object_or_404(Workspace.objects.filter(articles__status=Article.Status.PUBLISHED).distinct(), slug=slug)


def published_articles(workspace: Workspace) -> QuerySet[Article]:
    """The workspace's published articles, newest first."""
    return (Article.objects.filter(workspace=workspace, status=Article.Status.PUBLISHED)
            .exclude(slug="").order_by("-published_at", "-pk"))


def scheduled_articles(workspace: Workspace) -> QuerySet[Article]:
    """Articles with a publishing or unpublishing time still ahead, soonest first."""
    from django.db.models import F, Q

    return (Article.objects.filter(workspace=workspace)
            .filter(Q(publish_at__isnull=False) | Q(unpublish_at__isnull=False))
            .order_by(F("publish_at").asc(nulls_last=True), F("unpublish_at").asc(nulls_last=True)))


def published_article(workspace: Workspace, slug: str) -> Article:
    """A published article by its public slug; anything else (a draft, an unpublished article,
    another workspace's) is not found."""
    return get_object_or_404(published_articles(workspace), slug=slug)
