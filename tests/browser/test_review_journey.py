"""Step 7's acceptance journey in real browsers, on the real worker: a writer drafts and submits;
an editor finds the article in the review queue, edits it, sees the diff and the machine-written
share drop, approves and publishes it; the public page shows it without a login and the feed
lists it; a second editor's stale save is refused with the conflict shown and nothing lost."""

import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from articles.models import Article
from tests.articles.conftest import smollm2_tokenizer_dir, tiny_model_dir  # noqa: F401
from tests.support import start_worker, stop

pytestmark = pytest.mark.browser

EDNA_ADDS = "Edna checked every fact in this article."
ERIC_ADDS = "Eric would have said it differently."


def log_in(browser, base, username, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return context, page


def type_at_end(page, text):
    page.locator("#editor-body").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def machine_share(page) -> int:
    text = page.get_by_test_id("machine-share").inner_text()
    return int(re.search(r"(\d+)\s*%", text).group(1))


def test_draft_review_edit_approve_publish_and_a_stale_save(asgi_server, browser, make_member, workspace, tmp_path,
                                                              tiny_model_dir):  # noqa: F811
    make_member("writer", workspace, username="wendy")
    make_member("editor", workspace, username="edna")
    make_member("editor", workspace, username="eric")
    worker = start_worker(connection.settings_dict, "generation", tmp_path / "worker.log",
                          INKSTONE_DEFAULT_MODEL=str(tiny_model_dir))
    contexts = []
    try:
        # The writer drafts, uses the variant and submits it.
        context, wendy = log_in(browser, asgi_server, "wendy")
        contexts.append(context)
        wendy.goto(asgi_server + "/write/new/")
        wendy.get_by_label("Free prompt").check()
        wendy.get_by_label("Prompt", exact=True).fill("Announce the Sun Lantern to campers.")
        wendy.get_by_label("Article title (optional)").fill("The Sun Lantern")
        wendy.get_by_text("Advanced").click()
        wendy.get_by_label("Length limit (tokens)").fill("40")
        wendy.get_by_role("button", name="Write it").click()
        article = Article.objects.get()
        generation = article.generations.get()
        expect(wendy.get_by_test_id(f"status-{generation.pk}")).to_have_text("Done", timeout=90_000)
        wendy.get_by_role("button", name="Use this one").click()
        expect(wendy.get_by_test_id(f"in-use-{generation.pk}")).to_be_visible()
        wendy.get_by_test_id("move-submit").click()
        expect(wendy.get_by_test_id("article-status")).to_have_text("In review")

        # The second editor opens the editor now, on revision 1.
        context, eric = log_in(browser, asgi_server, "eric")
        contexts.append(context)
        eric.goto(f"{asgi_server}/write/articles/{article.pk}/edit/")
        expect(eric.get_by_test_id("base-revision")).to_have_value("1")

        # The editor finds it in the queue (the navigation counts it), reads its provenance.
        context, edna = log_in(browser, asgi_server, "edna")
        contexts.append(context)
        review = edna.locator("header nav").get_by_role("link", name=re.compile(r"^Review"))
        expect(review).to_contain_text("1")
        review.click()
        edna.get_by_test_id(f"review-row-{article.pk}").get_by_role("link", name="The Sun Lantern").click()
        expect(edna).to_have_url(re.compile(rf"/write/articles/{article.pk}/$"))
        assert machine_share(edna) == 100

        # She edits it: autosaved as revision 2; the diff shows her sentence; the share drops.
        edna.get_by_test_id("edit-link").click()
        type_at_end(edna, "\n\n" + EDNA_ADDS)
        expect(edna.get_by_test_id("save-status")).to_contain_text("Saved r2")
        edna.goto(f"{asgi_server}/write/articles/{article.pk}/revisions/?a=1&b=2")
        expect(edna.get_by_test_id("diff").locator("ins")).to_contain_text("Edna checked every fact")
        edna.goto(f"{asgi_server}/write/articles/{article.pk}/")
        assert machine_share(edna) < 100

        # The second editor's save started from revision 1: refused, both texts shown, his kept.
        type_at_end(eric, "\n\n" + ERIC_ADDS)
        conflict = eric.get_by_test_id("conflict")
        expect(conflict).to_be_visible()
        expect(conflict.get_by_test_id("conflict-theirs")).to_contain_text(EDNA_ADDS)
        expect(conflict.get_by_test_id("conflict-yours")).to_contain_text(ERIC_ADDS)
        expect(eric.locator("#editor-body")).to_have_value(re.compile(re.escape(ERIC_ADDS) + r"$"))
        article.refresh_from_db()
        assert article.revision == 2 and article.body.endswith(EDNA_ADDS) and ERIC_ADDS not in article.body

        # She approves and publishes.
        edna.get_by_test_id("move-approve").click()
        expect(edna.get_by_test_id("article-status")).to_have_text("Approved")
        edna.get_by_test_id("move-publish").click()
        expect(edna.get_by_test_id("article-status")).to_have_text("Published")
        article.refresh_from_db()
        assert article.status == "published" and article.slug == "the-sun-lantern"

        # Anyone reads it at its public address, and the feed lists it.
        context = browser.new_context()
        contexts.append(context)
        reader = context.new_page()
        public = f"{asgi_server}/p/{workspace.slug}/{article.slug}/"
        response = reader.goto(public)
        assert response.status == 200 and "/accounts/login/" not in reader.url
        expect(reader).to_have_title(re.compile("The Sun Lantern"))
        expect(reader.get_by_text(EDNA_ADDS)).to_be_visible()
        feed = reader.request.get(f"{asgi_server}/p/{workspace.slug}/feed/")
        assert feed.ok and "<title>The Sun Lantern</title>" in feed.text() and public in feed.text()
    finally:
        for context in contexts:
            context.close()
        stop(worker)
