"""Drafting on real parts: ASGI server, qcluster worker process, Redis, the default model."""

import asyncio
import json
import os
import signal
import time
import urllib.request

import pytest
import websockets
from django.db import connection

from accounts.tokens import api_token_create
from articles.models import Generation
from tests.support import start_worker, stop

pytestmark = [pytest.mark.real_model, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path, default_model_dir):  # noqa: F811 - the real default model, converted once
    processes = []

    def start():
        process = start_worker(connection.settings_dict, "generation", tmp_path / f"worker{len(processes)}.log",
                               INKSTONE_DEFAULT_MODEL="default")
        processes.append(process)
        return process

    yield start
    for process in processes:
        stop(process)


def api(base, key, method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Token {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def wait_for(predicate, timeout=120, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError("condition not met in time")


def test_a_client_joining_mid_stream_receives_the_text_exactly_once(asgi_server, worker, writer, client):
    worker()
    _, key = api_token_create(user=writer, name="test")
    status, created = api(asgi_server, key, "POST", "/api/generations/", {
        "prompt": "Write a short story about a lighthouse keeper.", "params": {"max_new_tokens": 160}, "seed": 5})
    assert status == 201 and created["ws_url"] == f"/ws/generations/{created['id']}/"
    gid = created["id"]
    wait_for(lambda: Generation.objects.get(pk=gid).seq >= 3)  # persisted part exists: join mid-stream

    client.force_login(writer)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def listen():
        messages = []
        url = asgi_server.replace("http", "ws") + created["ws_url"]
        async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": asgi_server}) as ws:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
                messages.append(message)
                if message["type"] == "state" and message["status"] not in ("queued", "running"):
                    return messages

    messages = asyncio.run(listen())
    appends = [m for m in messages if m["type"] == "append"]
    assert appends[0]["seq"] >= 3  # the persisted part came first, as one message
    assert len(appends) > 2  # then live pieces
    seqs = [m["seq"] for m in appends]
    assert seqs == sorted(set(seqs))  # no duplicate, in order
    assert all(b == a + 1 for a, b in zip(seqs[1:], seqs[2:], strict=False))  # live part: no gap
    final = Generation.objects.get(pk=gid)
    assert "".join(m["text"] for m in appends) == final.text
    assert final.status == "completed" and final.seq == seqs[-1]
    _, detail = api(asgi_server, key, "GET", f"/api/generations/{gid}/")
    assert detail["text"] == final.text and detail["completion_tokens"] > 0 and detail["model_name"] == "default"


def test_killed_worker_leaves_an_interrupted_generation_that_retry_completes(worker, writer, client, settings):
    from articles import services

    settings.INKSTONE_GENERATION_STALE_SECONDS = 3
    process = worker()
    article = services.draft_create(workspace=writer.memberships.get().workspace, user=writer, request=services.DraftRequest(
        prompt="Write a long essay about the history of lanterns.", params={"max_new_tokens": 300}, seed=9))
    generation = article.generations.get()
    wait_for(lambda: Generation.objects.get(pk=generation.pk).seq >= 5)
    os.killpg(process.pid, signal.SIGKILL)  # the whole cluster: parent, sentinel and worker

    client.force_login(writer)
    time.sleep(settings.INKSTONE_GENERATION_STALE_SECONDS + 1)
    page = client.get(article.get_absolute_url()).content.decode()  # viewing the draft sweeps stale runs
    generation.refresh_from_db()
    assert generation.status == "interrupted"
    assert generation.seq >= 5 and generation.text  # the partial text is kept
    assert "the text so far is kept" in page and "Retry" in page

    client.post(f"/write/generations/{generation.pk}/retry/")
    retry = article.generations.exclude(pk=generation.pk).get()
    assert retry.kind == "retry" and retry.status == "queued"
    worker()
    wait_for(lambda: Generation.objects.get(pk=retry.pk).status not in Generation.ACTIVE, timeout=240, every=0.5)
    retry.refresh_from_db()
    assert retry.status == "completed" and retry.finish_reason in ("eos", "length") and retry.text
