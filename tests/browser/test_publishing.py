"""Publishing in Chromium: hostile text stays inert on every page and file that shows it, and
the public page and print view look like a publication at desktop and phone widths."""

import re

import pytest
from playwright.sync_api import expect

from articles.models import Article
from articles.workflow import article_transition
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = """Before the tricks.

<script>alert(1)</script>

<img src=x onerror=alert(1)>

[click](javascript:alert(1))

After the tricks."""


def log_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()


def publish(workspace, author, editor, title, body):
    article = Article.objects.create(workspace=workspace, title=title, body=body, status=Article.Status.APPROVED,
                                     created_by=author)
    article_transition(article=article, action="publish", membership=editor.memberships.get())
    article.refresh_from_db()
    return article


def assert_inert(page, content_selector):
    """No script element in the article's content, no handler attribute, no javascript: link,
    and clicking the link opens nothing."""
    content = page.locator(content_selector)
    expect(content).to_contain_text("After the tricks.")
    assert content.locator("script").count() == 0
    assert content.locator("[onerror]").count() == 0
    assert content.locator("a[href^='javascript' i]").count() == 0
    link = content.get_by_text("click")
    if link.count():
        link.first.click()


def test_script_handlers_and_javascript_links_are_inert_everywhere_the_article_shows(asgi_server, page, make_member, workspace):
    author = make_member("writer", workspace, username="author")
    editor = make_member("editor", workspace, username="edna")
    article = publish(workspace, author, editor, "Tricky text", HOSTILE)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{asgi_server}/p/{workspace.slug}/{article.slug}/")  # no login
    assert_inert(page, "[data-testid=public-body]")
    # text that is not allowed markup is shown as text, not dropped
    expect(page.locator("[data-testid=public-body]")).to_contain_text("<script>alert(1)</script>")
    page.goto(f"{asgi_server}/p/{workspace.slug}/")
    expect(page.get_by_role("link", name="Tricky text")).to_be_visible()
    assert page.locator("main script").count() == 0

    feed = page.request.get(f"{asgi_server}/p/{workspace.slug}/feed/").text()
    # the hostile text is in the feed only as escaped text (checked as a reader renders it below)
    assert "Tricky text" in feed and "<script" not in feed and "javascript:" not in feed
    import xml.etree.ElementTree as ET

    content = ET.fromstring(feed).find(".//{http://www.w3.org/2005/Atom}content").text
    page.set_content(f"<main id=feed-entry>{content}</main>")  # a feed reader shows it, no CSP to help
    assert_inert(page, "#feed-entry")

    log_in(page, asgi_server, "edna")
    page.goto(f"{asgi_server}/write/articles/{article.pk}/")
    assert_inert(page, "[data-testid=article-body]")
    exported = page.request.get(f"{asgi_server}/write/articles/{article.pk}/export/html/").text()
    page.set_content(exported)  # opened from disk: nothing but the file itself
    assert_inert(page, "article")
    page.goto(f"{asgi_server}/write/articles/{article.pk}/print/")
    assert_inert(page, "[data-testid=print-sheet]")
    page.wait_for_timeout(300)  # a late onerror would have fired by now
    assert dialogs == []


ESSAY = """# Why a dripping tap matters

A tap that drips once a second wastes more than **15 litres of water a day**. Over a year that is
enough to fill a bath every week, and most of the fix costs less than a cup of coffee.

## Find the leak

Turn off every tap and watch the water meter for ten minutes. If the numbers move, something is
leaking: check the toilet cistern first, then *outdoor* taps and the pipes under the sink.

> The cheapest litre of water is the one you never use.

## Fix it in an afternoon

1. Turn off the water supply under the sink.
2. Unscrew the tap head and replace the worn washer.
3. Turn the water back on and check for drips.

Most hardware shops sell washers in mixed packs, so buy one and keep the rest for next time.
"""

QUIZ = """# The water cycle

Water moves between the sea, the sky and the land. Read the passage, then answer the questions.

## Questions

1. What makes water evaporate from the sea?
2. What do we call water that falls from clouds?
3. Name one place where water is stored on land.

## Answer key

1. The heat of the sun.
2. Precipitation (rain, snow, sleet or hail).
3. Lakes, rivers, glaciers or groundwater.
"""


def test_public_page_index_and_print_view_screenshots(asgi_server, page, make_member, workspace):
    author = make_member("writer", workspace, username="author")
    editor = make_member("editor", workspace, username="edna")
    essay = publish(workspace, author, editor, "Why a dripping tap matters", ESSAY)
    publish(workspace, author, editor, "Five ways to save water in the garden",
            "Water early in the morning, when less of it evaporates.\n\nMulch your beds.")
    quiz = Article.objects.create(workspace=workspace, title="The water cycle", body=QUIZ, created_by=author)
    ARTIFACTS.mkdir(exist_ok=True)
    blocked = []  # the public pages work under the Content-Security-Policy
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    shots = {
        "publishing-article": f"/p/{workspace.slug}/{essay.slug}/",
        "publishing-index": f"/p/{workspace.slug}/",
    }
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in shots.items():
            page.goto(asgi_server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    log_in(page, asgi_server, "edna")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{asgi_server}/write/articles/{quiz.pk}/print/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"publishing-print-{width}.png"), full_page=True)
        page.goto(f"{asgi_server}/write/articles/{essay.pk}/")
        page.locator("details.schedule summary").click()
        expect(page.get_by_label("Unpublish at (UTC)")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"publishing-actions-{width}.png"), full_page=True)
        page.get_by_role("navigation").get_by_role("link", name="Published", exact=True).click() if width > 768 else page.goto(f"{asgi_server}/write/published/")
        expect(page.get_by_test_id("published")).to_contain_text("Why a dripping tap matters")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"publishing-published-{width}.png"), full_page=True)
    assert blocked == []
    page.goto(f"{asgi_server}/write/articles/{quiz.pk}/print/")
    page.emulate_media(media="print")
    assert page.locator(".answer-key").evaluate("e => getComputedStyle(e).breakBefore") == "page"
    assert page.locator(".print-hint").is_hidden()
    pdf = page.pdf(path=str(ARTIFACTS / "publishing-print.pdf"))
    # The passage and questions fit on one page; the answer key is alone on the second.
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)) == 2
