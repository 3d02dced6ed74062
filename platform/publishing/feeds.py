"""A workspace's published articles as Atom and RSS (Django's syndication framework)."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from publishing.rendering import article_html, first_paragraph
from publishing.selectors import public_workspace, published_articles

FEED_LENGTH = 30


class ContentAtom1Feed(Atom1Feed):
    """Atom with the whole (sanitised) article as <content type="html"> beside its summary."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


class PublishedRssFeed(Feed):
    url_name = "publishing_rss"

    def get_object(self, request, workspace_slug):
        return public_workspace(workspace_slug)

    def title(self, workspace):
        return workspace.name

    def link(self, workspace):
        return reverse("publishing_index", args=[workspace.slug])

    def description(self, workspace):
        return f"Articles published by {workspace.name}."

    def feed_url(self, workspace):
        return reverse(self.url_name, args=[workspace.slug])

    def items(self, workspace):
        return published_articles(workspace).select_related("workspace")[:FEED_LENGTH]

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        return article_html(article.body)  # sanitised; the feed escapes it as text

    def item_link(self, article):
        return reverse("publishing_article", args=[article.workspace.slug, article.slug])

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.updated_at

    def item_author_name(self, article):
        return article.workspace.name


class PublishedAtomFeed(PublishedRssFeed):
    feed_type = ContentAtom1Feed
    subtitle = PublishedRssFeed.description
    url_name = "publishing_atom"

    def item_description(self, article):
        return first_paragraph(article_html(article.body))  # Atom: the summary; the content below

    def item_extra_kwargs(self, article):
        return {"content": article_html(article.body)}
