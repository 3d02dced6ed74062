"""The browser goes away mid-stream: the draft is still written to the end and stored."""

import pytest

from articles import services
from articles.models import Generation
from tests.faults.conftest import wait_for

pytestmark = pytest.mark.browser


def test_a_browser_closed_mid_stream_leaves_the_draft_to_finish_and_be_stored(site, writer, tiny_model, session_cookie, browser):
    running = site("web", "generation", "training", INKSTONE_DEFAULT_MODEL=tiny_model)
    article = services.draft_create(workspace=writer.memberships.get().workspace, user=writer, request=services.DraftRequest(
        prompt="Tell me about the sea.", params={"max_new_tokens": 400, "min_new_tokens": 400}, seed=7))
    generation = article.generations.get()
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": running.url}])
    page = context.new_page()
    page.goto(running.url + article.get_absolute_url())
    text = page.get_by_test_id(f"text-{generation.pk}")
    wait_for(lambda: len(text.inner_text()) > 10, 60, message=running.log)
    context.close()  # the tab goes away mid-stream
    assert Generation.objects.get(pk=generation.pk).status in Generation.ACTIVE  # ...really mid-stream

    wait_for(lambda: Generation.objects.get(pk=generation.pk).status not in Generation.ACTIVE, 120, every=0.5,
             message=running.log)
    generation.refresh_from_db()
    assert generation.status == "completed" and generation.completion_tokens == 400, generation.error
    assert generation.text and generation.finish_reason == "length"
