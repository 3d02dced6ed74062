"""The heart of the product in a real browser: a draft streams onto the page as it is written."""

import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from articles.models import Article
from articles.selectors import render_markdown
from tests.articles.conftest import default_model_dir, smollm2_tokenizer_dir  # noqa: F401
from tests.support import html_text, start_worker, stop

pytestmark = [pytest.mark.browser, pytest.mark.real_model]


def letters(text: str) -> str:
    """The letters of a text: the same whether its Markdown is still raw or already rendered."""
    return "".join(c for c in text if c.isalpha())


def test_writer_watches_a_draft_being_written(asgi_server, page, make_member, workspace, tmp_path, default_model_dir):  # noqa: F811
    make_member("writer", workspace, username="wendy")
    worker = start_worker(connection.settings_dict, "generation", tmp_path / "worker.log", INKSTONE_DEFAULT_MODEL="default")
    try:
        page.goto(asgi_server + "/accounts/login/")
        page.get_by_label("Username").fill("wendy")
        page.get_by_label("Password").fill("correct horse 42")
        page.get_by_role("button", name="Log in").click()
        page.locator("header nav").get_by_role("link", name="Write", exact=True).click()
        page.get_by_role("button", name="New draft").click()
        page.get_by_label("Free prompt").check()
        page.get_by_label("Prompt", exact=True).fill("Write a short product announcement for a solar lantern.")
        page.get_by_text("Advanced").click()
        page.get_by_label("Length limit (tokens)").fill("120")
        page.get_by_label("Seed").fill("4")
        page.get_by_role("button", name="Write it").click()

        article = Article.objects.get()
        generation = article.generations.get()
        text = page.get_by_test_id(f"text-{generation.pk}")
        status = page.get_by_test_id(f"status-{generation.pk}")
        seen = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            # Read status and text in one call: the final swap (rendered Markdown + "Done")
            # may land between two separate reads.
            current_status, current = page.evaluate(
                "id => [document.getElementById(`gen-${id}-status`).innerText,"
                " document.getElementById(`gen-${id}-text`).innerText]", generation.pk)
            if current_status == "Done":
                break
            if current and (not seen or current != seen[-1]):
                seen.append(current)
            time.sleep(0.05)
        expect(status).to_have_text("Done")
        growing = [letters(s) for s in seen if s]
        assert len(growing) >= 3, f"saw only {len(growing)} intermediate states"
        # it grows, never rewrites (it is rendered as Markdown as it streams: compare the words' letters)
        assert all(b.startswith(a) for a, b in zip(growing, growing[1:], strict=False))

        generation.refresh_from_db()
        assert generation.status == "completed"
        # the streamed text, then the rendered Markdown of the stored text
        assert " ".join(text.inner_text().split()) == html_text(render_markdown(generation.text))

        page.get_by_role("button", name="Use this one").click()
        expect(page.get_by_test_id("article-body")).to_be_visible()
        article.refresh_from_db()
        assert article.body == generation.text
    finally:
        stop(worker)
