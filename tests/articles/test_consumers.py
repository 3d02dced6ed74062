"""The relay: join, send the persisted state, forward newer pieces; no gap, no duplicate."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from articles import services
from articles.consumers import GenerationJsonConsumer
from articles.models import Generation
from config.asgi import application


@pytest.fixture
def generation(workspace, writer):
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", text="Hello", seq=2)
    return generation


def communicator_for(user, generation_id, path=None):
    app = GenerationJsonConsumer.as_asgi()
    communicator = WebsocketCommunicator(app, path or f"/ws/generations/{generation_id}/")
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"kwargs": {"generation_id": generation_id}}
    return communicator


async def receive_all(communicator, timeout=1.0):
    messages = []
    while not await communicator.receive_nothing(timeout=timeout):
        messages.append(json.loads(await communicator.receive_from()))
    return messages


def piece(gid, seq, text):
    return {"type": "generation.piece", "id": gid, "seq": seq, "text": text, "tokens": seq, "elapsed": 0.1}


@pytest.mark.django_db(transaction=True)
def test_late_joiner_gets_the_text_once_even_across_a_gap(writer, generation):
    async def scenario():
        communicator = communicator_for(writer, generation.pk)
        connected, _ = await communicator.connect()
        assert connected
        layer = get_channel_layer()
        group = generation.group_name()
        first = await receive_all(communicator, 0.3)
        await layer.group_send(group, piece(generation.pk, 2, "llo"))  # already in the persisted text
        await layer.group_send(group, piece(generation.pk, 3, " wor"))
        await layer.group_send(group, piece(generation.pk, 5, "!"))  # piece 4 was sent before we joined
        await sync_to_async(Generation.objects.filter(pk=generation.pk).update)(text="Hello world", seq=4)
        rest = await receive_all(communicator, 1.0)
        await communicator.disconnect()
        return first + rest

    messages = async_to_sync(scenario)()
    appends = [m for m in messages if m["type"] == "append"]
    assert "".join(m["text"] for m in appends) == "Hello world!"
    assert [m["seq"] for m in appends] == [2, 3, 4, 5]
    assert messages[1]["type"] == "state" and messages[1]["status"] == "running"


@pytest.mark.django_db(transaction=True)
def test_final_state_completes_the_text(writer, generation):
    async def scenario():
        communicator = communicator_for(writer, generation.pk)
        await communicator.connect()
        await receive_all(communicator, 0.3)
        await sync_to_async(Generation.objects.filter(pk=generation.pk).update)(text="Hello there.", seq=6, status="completed")
        final = await sync_to_async(lambda: Generation.objects.get(pk=generation.pk))()
        from articles.events import state_event

        await get_channel_layer().group_send(generation.group_name(), state_event(final))
        messages = await receive_all(communicator, 0.5)
        await communicator.disconnect()
        return messages

    messages = async_to_sync(scenario)()
    assert messages[0] == {"type": "append", "id": generation.pk, "seq": 6, "text": " there.", "tokens": None, "elapsed": None}
    assert messages[1]["status"] == "completed"


@pytest.mark.django_db(transaction=True)
def test_other_workspace_and_anonymous_are_refused(make_member, other_workspace, generation):
    from django.contrib.auth.models import AnonymousUser

    stranger = make_member("admin", other_workspace)

    async def attempt(user):
        communicator = communicator_for(user, generation.pk)
        connected, code = await communicator.connect()
        return connected, code

    assert async_to_sync(attempt)(stranger) == (False, 4403)
    assert async_to_sync(attempt)(AnonymousUser()) == (False, 4401)


@pytest.mark.django_db(transaction=True)
def test_websocket_from_a_foreign_origin_is_refused(writer, generation):
    async def attempt():
        communicator = WebsocketCommunicator(application, f"/ws/generations/{generation.pk}/",
                                             headers=[(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")])
        connected, _ = await communicator.connect()
        return connected

    assert async_to_sync(attempt)() is False


@pytest.mark.django_db(transaction=True)
def test_two_tabs_on_the_same_generation_both_see_the_stream(writer, generation):
    async def scenario():
        tabs = [communicator_for(writer, generation.pk) for _ in range(2)]
        for tab in tabs:
            await tab.connect()
        await get_channel_layer().group_send(generation.group_name(), piece(generation.pk, 3, " there"))
        received = [await receive_all(tab, 0.5) for tab in tabs]
        for tab in tabs:
            await tab.disconnect()
        return received

    for messages in async_to_sync(scenario)():
        assert "".join(m["text"] for m in messages if m["type"] == "append") == "Hello there"


def html_communicator_for(user, article_id):
    from articles.consumers import ArticleHtmlConsumer

    communicator = WebsocketCommunicator(ArticleHtmlConsumer.as_asgi(), f"/ws/articles/{article_id}/")
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"kwargs": {"article_id": article_id}}
    return communicator


async def receive_html(communicator, timeout):
    messages = []
    while not await communicator.receive_nothing(timeout=timeout):
        messages.append(await communicator.receive_from())
    return messages


def text_swaps(messages, gid):
    """(swap, text) of each update of the card's text, in order."""
    import re

    pattern = re.compile(rf'<div id="gen-{gid}-text" hx-swap-oob="(\w+)">(.*?)</div>', re.S)
    return [m.groups() for message in messages for m in pattern.finditer(message)]


@pytest.mark.django_db(transaction=True)
def test_a_page_that_reconnects_before_anything_is_persisted_gets_its_text_replaced_not_doubled(writer, generation):
    Generation.objects.filter(pk=generation.pk).update(text="", seq=0)

    async def scenario():
        page = html_communicator_for(writer, generation.article_id)
        await page.connect()
        await receive_html(page, 0.3)
        # pieces 1-2 reached the page over its previous socket; the new one sees 3 first
        await get_channel_layer().group_send(generation.group_name(), piece(generation.pk, 3, " there"))
        await sync_to_async(Generation.objects.filter(pk=generation.pk).update)(text="Hello there", seq=3)
        await get_channel_layer().group_send(generation.group_name(), piece(generation.pk, 4, "!"))
        messages = await receive_html(page, 1.0)
        await page.disconnect()
        return messages

    swaps = text_swaps(async_to_sync(scenario)(), generation.pk)
    # each update replaces the card's text with the whole text so far, rendered
    assert {swap for swap, _ in swaps} == {"innerHTML"}
    assert swaps[-1] == ("innerHTML", "<p>Hello there!</p>")


@pytest.mark.django_db(transaction=True)
def test_a_continued_generation_keeps_its_earlier_text_on_the_page(writer, generation):
    Generation.objects.filter(pk=generation.pk).update(prefix="Once upon a time.", text=" The end", seq=2)

    async def scenario():
        page = html_communicator_for(writer, generation.article_id)
        await page.connect()
        messages = await receive_html(page, 0.3)
        await page.disconnect()
        return messages

    assert text_swaps(async_to_sync(scenario)(), generation.pk) == [("innerHTML", "<p>Once upon a time. The end</p>")]


@pytest.mark.django_db(transaction=True)
def test_a_socket_whose_groups_redis_lost_is_closed_so_that_the_client_reconnects(writer, generation, monkeypatch):
    """A Redis restart loses every group membership without an error for a consumer that was not
    reading at that moment; FLUSHDB loses them the same way, deterministically."""
    from django.conf import settings

    from core.layer_watch import LayerWatch
    from core.redis_server import quick_client

    monkeypatch.setattr(LayerWatch, "interval", 0.1)

    async def scenario():
        communicator = communicator_for(writer, generation.pk)
        connected, _ = await communicator.connect()
        assert connected
        await receive_all(communicator, 0.3)
        await sync_to_async(quick_client(settings.REDIS_URL).flushdb)()
        closed = await communicator.receive_output(timeout=3)
        await communicator.wait()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4012}


@pytest.mark.django_db(transaction=True)
def test_a_socket_is_refused_while_the_channel_layer_is_down(writer, generation, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        connected, code = async_to_sync(communicator_for(writer, generation.pk).connect)()
    finally:
        channel_layers.backends.clear()
    assert (connected, code) == (False, 4012)


@pytest.mark.django_db(transaction=True)
def test_the_draft_page_shows_a_swept_generation_interrupted_with_its_stored_text_and_retry(writer, generation):
    from datetime import timedelta

    from django.utils import timezone

    from tests.support import html_text

    async def scenario():
        page = html_communicator_for(writer, generation.article_id)
        await page.connect()
        await receive_html(page, 0.3)
        await get_channel_layer().group_send(generation.group_name(), piece(generation.pk, 3, " there, and"))  # never stored
        await sync_to_async(Generation.objects.filter(pk=generation.pk).update)(
            heartbeat_at=timezone.now() - timedelta(seconds=60), completion_tokens=2)
        assert await sync_to_async(services.generations_sweep_stale)() == 1
        messages = await receive_html(page, 1.0)
        await page.disconnect()
        return messages

    card = async_to_sync(scenario)()[-1]
    assert f'id="gen-{generation.pk}"' in card and 'hx-swap-oob="true"' in card
    assert 'data-status="interrupted"' in card and ">Interrupted<" in card
    assert "the text so far is kept" in card and ">Retry</button>" in card
    assert html_text(card.split(f'id="gen-{generation.pk}-text"')[1].split("</div>")[0].split(">", 1)[1]) == "Hello"
    assert "2 tokens ·" not in card  # no tokens/s for a run that did not finish


@pytest.mark.django_db(transaction=True)
def test_a_streaming_card_shows_rendered_markdown_at_a_bounded_rate_and_ends_with_the_whole_text(writer, generation):
    from articles.consumers import RENDER_EVERY_S
    from core.markdown import render_markdown

    Generation.objects.filter(pk=generation.pk).update(text="", seq=0)
    words = ["# Water", "\n\n<<Reminders>>", " and", " **more**"] + [f" word{n}" for n in range(40)]

    async def scenario():
        page = html_communicator_for(writer, generation.article_id)
        await page.connect()
        await receive_html(page, 0.3)
        started = asyncio.get_running_loop().time()
        for seq, word in enumerate(words, 1):
            await get_channel_layer().group_send(generation.group_name(), piece(generation.pk, seq, word))
        messages = await receive_html(page, 1.0)
        await page.disconnect()
        return messages, asyncio.get_running_loop().time() - started

    messages, elapsed = async_to_sync(scenario)()
    swaps = text_swaps(messages, generation.pk)
    assert swaps[-1] == ("innerHTML", render_markdown("".join(words)))  # the whole text, as it will be when done
    assert "&lt;&lt;Reminders&gt;&gt;" in swaps[-1][1]
    assert len(swaps) <= elapsed / RENDER_EVERY_S + 1  # not one render per piece
