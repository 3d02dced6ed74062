"""The workflow in a browser: a writer submits, an editor finds the article in the queue (the
navigation counts it), reads its provenance, and sends it back with a comment; the writer sees
why on My drafts. Pages are looked at 1280 and 390 px wide (INKSTONE_SCREENSHOTS=folder saves them)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from articles.models import Article, Generation
from tests.browser.test_library import log_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("INKSTONE_SCREENSHOTS", "")


def look(page, name: str) -> None:
    """At 390 px nothing scrolls sideways; save both widths when asked."""
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def drafted_article(workspace, writer):
    from articles.services import article_choose
    from prompts.services import prompt_create
    from styles.services import style_create

    template = prompt_create(workspace=workspace, user=writer, name="Newsletter", category="free",
                             body="Write about {x}", variables=[{"name": "x"}])
    style = style_create(workspace=workspace, user=writer, name="House voice", voice="Warm.")
    article = Article.objects.create(workspace=workspace, title="Solar lanterns for the harbour", created_by=writer)
    texts = ["Solar lanterns light the harbour path after dusk, charging all day on the pier.",
             "Our new lanterns drink the sun by day and guide your steps at night."]
    generations = [Generation.objects.create(
        article=article, workspace=workspace, variant=i + 1, model_name="default", prompt="Write about lanterns",
        seed=7 + i, params={"temperature": 0.8, "max_new_tokens": 200}, status="completed", text=text,
        template_version=template.current, style_version=style.current, style_fit=[0.74, 0.61][i])
        for i, text in enumerate(texts)]
    article_choose(article=article, generation=generations[0], membership=writer.memberships.get())
    return article


def test_writer_submits_and_editor_sends_it_back_from_the_queue(asgi_server, page, make_member, workspace):
    writer = make_member("writer", workspace, username="wendy")
    make_member("editor", workspace, username="edna")
    article = drafted_article(workspace, writer)

    log_in(page, asgi_server, "wendy")
    page.goto(asgi_server + article.get_absolute_url())
    expect(page.get_by_test_id("article-status")).to_have_text("Draft")
    expect(page.get_by_test_id("provenance")).to_contain_text("100% machine-written")
    expect(page.get_by_test_id("move-approve")).to_have_count(0)
    page.get_by_label("Comment").fill("First go at the lantern piece.")
    page.get_by_test_id("move-submit").click()
    expect(page.get_by_text("Submitted for review")).to_be_visible()
    expect(page.get_by_test_id("article-status")).to_have_text("In review")
    expect(page.get_by_test_id("timeline")).to_contain_text("First go at the lantern piece.")
    page.context.clear_cookies()

    log_in(page, asgi_server, "edna")
    review = page.get_by_test_id("nav-review")
    expect(review.get_by_test_id("review-count")).to_have_text("1")
    review.click()
    row = page.get_by_test_id(f"review-row-{article.pk}")
    expect(row).to_contain_text("Newsletter v1")
    expect(row).to_contain_text("fit 0.74")
    look(page, "review-queue")
    page.get_by_label("Status").select_option("draft")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No article matches these filters.")).to_be_visible()
    page.get_by_role("link", name="Reset").click()
    page.get_by_role("link", name="Solar lanterns for the harbour").click()

    expect(page.get_by_test_id("provenance")).to_contain_text("House voice")
    chosen = article.generations.get(variant=1)
    expect(page.get_by_test_id(f"style-fit-{chosen.pk}")).to_contain_text("closest to the voice")
    look(page, "article-in-review")
    page.get_by_test_id("move-request_changes").click()  # without saying why
    expect(page.get_by_test_id("comment-error")).to_contain_text("needs a comment")
    look(page, "transition-refused")
    page.get_by_label("Comment").fill("Mention the battery life.")
    page.get_by_test_id("move-request_changes").click()
    expect(page.get_by_test_id("article-status")).to_have_text("Changes requested")
    expect(page.get_by_test_id("timeline")).to_contain_text("Mention the battery life.")
    page.context.clear_cookies()

    log_in(page, asgi_server, "wendy")
    page.locator("header nav").get_by_role("link", name="My drafts").click()
    expect(page.get_by_test_id(f"next-{article.pk}")).to_have_text(
        "Changes requested by edna: “Mention the battery life.” Edit it and submit it again.")
    look(page, "my-drafts")
