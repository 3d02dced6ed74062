"""kill -9 of the embedded Redis while a draft streams to a browser."""

import json
import os
import signal
import tempfile
import time

import pytest

from articles import services
from articles.models import Generation
from articles.selectors import render_markdown
from tests.faults.conftest import wait_for
from tests.support import html_text

pytestmark = pytest.mark.browser


def page_state(page, gid: int) -> tuple[str, str]:
    return page.evaluate("id => [document.getElementById(`gen-${id}-status`).innerText,"
                         " document.getElementById(`gen-${id}-text`).innerText]", gid)


def test_redis_killed_mid_stream_comes_back_and_the_page_ends_with_the_full_text(
    site, writer, tiny_model, session_cookie, page
):
    # an embedded Redis of its own, also where the suite uses REDIS_URL's (a short socket path:
    # unix socket paths allow ~107 bytes)
    data_dir = tempfile.mkdtemp(prefix="ink-")
    running = site("redis", "web", "generation", "training", INKSTONE_DATA_DIR=data_dir, INKSTONE_DEFAULT_MODEL=tiny_model,
                   REDIS_URL=None)
    workspace = writer.memberships.get().workspace
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Tell me about the sea.", params={"max_new_tokens": 300, "min_new_tokens": 300}, seed=5))
    generation = article.generations.get()
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": running.url}])
    page.goto(running.url + article.get_absolute_url())
    wait_for(lambda: len(page_state(page, generation.pk)[1]) > 20, 60, message=running.log)

    killed_at = time.monotonic()
    os.kill(running.pid("redis.1"), signal.SIGKILL)
    wait_for(lambda: running.healthz()[0] != 200, 10)
    running.wait_healthy(15)
    back_at = time.monotonic()
    assert "redis.1 exited (SIGKILL); restarting in 1 s, restart #1" in running.log()

    wait_for(lambda: Generation.objects.get(pk=generation.pk).status not in Generation.ACTIVE, 120, every=0.5,
             message=running.log)
    generation.refresh_from_db()
    assert generation.status == "completed", (generation.error, running.log()[-3000:])
    assert generation.completion_tokens == 300
    expected = html_text(render_markdown(generation.prefix + generation.text))

    def page_done():
        status, text = page_state(page, generation.pk)
        return status == "Done" and " ".join(text.split()) == expected

    wait_for(page_done, 30, message=lambda: f"page shows {page_state(page, generation.pk)!r}\n{running.log()[-3000:]}")
    print(json.dumps({"fault": "redis SIGKILL", "healthz_200_again_s": round(back_at - killed_at, 2),
                      "page_done_s": round(time.monotonic() - killed_at, 2)}))
