"""kill -9 of the generation worker mid-draft under `make run`'s runner."""

import asyncio
import json
import os
import signal
import threading
import time

import websockets

from articles import services
from articles.models import Generation
from tests.faults.conftest import wait_for


def listen(url: str, cookie: str, until, messages: list, timeout: float = 90) -> threading.Thread:
    """Collect (time, message) from a WebSocket in a thread until `until(message)` is true."""

    async def run():
        headers = {"Cookie": f"sessionid={cookie}", "Origin": url.replace("ws://", "http://").split("/ws/")[0]}
        async with websockets.connect(url, additional_headers=headers) as ws:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
                messages.append((time.monotonic(), message))
                if until(message):
                    return

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    return thread


def test_a_killed_worker_is_restarted_its_draft_interrupted_on_the_socket_and_retry_continues_it(
    site, writer, tiny_model, session_cookie, client, settings
):
    running = site("web", "generation", "training", INKSTONE_DEFAULT_MODEL=tiny_model,
                   INKSTONE_GENERATION_STALE_SECONDS="3")
    workspace = writer.memberships.get().workspace
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(
        prompt="Tell me about the sea.", params={"max_new_tokens": 150, "min_new_tokens": 150}, seed=3))
    generation = article.generations.get()
    messages: list = []
    listener = listen(running.url.replace("http", "ws") + f"/ws/generations/{generation.pk}/", session_cookie,
                      lambda m: m["type"] == "state" and m["status"] == "interrupted", messages)
    wait_for(lambda: Generation.objects.get(pk=generation.pk).seq >= 5, 60, message=running.log)

    killed_at = time.monotonic()
    os.kill(running.pid("generation.1"), signal.SIGKILL)
    report = running.wait_healthy(60, lambda r: r["workers"]["generation"]["restarts"] == 1)
    healthy_at = time.monotonic()
    assert report["workers"]["generation"]["last_restart"]
    assert "generation.1 exited (SIGKILL); restarting in 1 s, restart #1" in running.log()

    listener.join(60)
    assert not listener.is_alive(), messages[-3:]
    state_at, state = messages[-1]
    generation.refresh_from_db()
    assert generation.status == "interrupted" and generation.text and "the text so far is kept" in generation.error
    assert state["text"] == generation.text and state["seq"] == generation.seq  # the stored text is the truth

    client.post(f"/write/generations/{generation.pk}/retry/")
    retry = article.generations.exclude(pk=generation.pk).get()
    assert retry.prefix == retry.prefill == generation.text
    written = generation.completion_tokens
    assert 0 < written < 150 and retry.params["max_new_tokens"] == 150 - written
    wait_for(lambda: Generation.objects.get(pk=retry.pk).status not in Generation.ACTIVE, 120, every=0.5,
             message=running.log)
    retry.refresh_from_db()
    assert retry.status == "completed" and retry.text, retry.error
    assert retry.completion_tokens == 150 - written  # together the two runs wrote what was asked for

    from transformers import AutoTokenizer

    from generation.streaming import build_prompt_ids

    seen = build_prompt_ids(AutoTokenizer.from_pretrained(tiny_model), messages=[{"role": "user", "content": retry.prompt}],
                            prefill=generation.text)
    assert retry.prompt_tokens == len(seen)  # the conversation, then its own unfinished answer
    print(json.dumps({"fault": "worker SIGKILL", "healthz_200_again_s": round(healthy_at - killed_at, 2),
                      "interrupted_on_socket_s": round(state_at - killed_at, 2),
                      "stale_threshold_s": 3}))
