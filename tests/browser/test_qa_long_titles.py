"""A title with no spaces (a pasted address, a code) must not push the other columns of the
workflow lists off the page (found trying Step 7 as a new user would)."""

import pytest

from articles.models import Article
from tests.browser.test_library import log_in

pytestmark = pytest.mark.browser
LONG = "x" * 200


@pytest.mark.parametrize(("path", "status", "last_column"), [
    ("/write/mine/", "draft", "td .status-draft"), ("/review/", "in_review", "td .status-in_review"),
    ("/write/published/", "published", "td >> text=Public page"), ("/datasets/add-articles/", "approved", "td .status-approved")])
def test_a_long_unbroken_title_keeps_the_status_column_on_screen(asgi_server, page, make_member, workspace, path, status,
                                                                  last_column):
    writer = make_member("writer", workspace, username="wendy")
    make_member("editor", workspace, username="edna")
    Article.objects.create(workspace=workspace, title=LONG, body="Text.", revision=1, status=status,
                           slug="long" if status == "published" else "", created_by=writer)
    log_in(page, asgi_server, "wendy" if path == "/write/mine/" else "edna")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(asgi_server + path)
    box = page.locator(last_column).last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280, f"{path}: the last column is at x={box and box['x']}"


def test_a_long_unbroken_title_does_not_widen_the_article_page(asgi_server, page, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    article = Article.objects.create(workspace=workspace, title=LONG, body="Text.", revision=1, created_by=writer)
    log_in(page, asgi_server, "wendy")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{asgi_server}/write/articles/{article.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_public_pages_wrap_a_long_unbroken_title_on_a_phone(asgi_server, page, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    Article.objects.create(workspace=workspace, title=LONG, body="Text.", revision=1, status="published",
                           slug="long", published_at="2026-01-01T00:00Z", created_by=writer)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/p/{workspace.slug}/", f"/p/{workspace.slug}/long/"):
        page.goto(asgi_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
