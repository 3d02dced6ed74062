"""WebSockets that stream generations: join the group first, send the persisted state, then
forward only newer pieces. Sequence numbers guarantee no gap and no duplicate, also for a
client that connects mid-stream or reconnects.

/ws/generations/<id>/  JSON, one generation (API clients, the `generate` command)
/ws/articles/<id>/     HTML fragments for htmx's ws extension, every variant of an article

When the channel layer fails (Redis went away) or lost its groups (Redis restarted), the socket
is closed with RECONNECT_CODE: the client reconnects (static/articles/ws-reconnect.js on the
draft page), joins its groups again and is brought up to date from the database.
"""

import asyncio
import contextlib
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404
from django.template.loader import render_to_string

from accounts.permissions import PermissionDenied, check, membership_for
from articles.events import generation_state
from articles.models import SUGGESTION, Article, Generation, article_group, generation_group
from articles.relay import Relay
from core.layer_watch import ReconnectOnLayerLoss, layer_errors, layer_watch
from core.markdown import render_markdown

logger = logging.getLogger(__name__)

RESYNC_DELAY_S = 0.25
RESYNC_TRIES = 40  # 10 s: the worker persists every 0.5 s, so this only runs out if it died
RENDER_EVERY_S = 0.15  # a streaming card's Markdown is rendered again at most this often


class GenerationStreamConsumer(ReconnectOnLayerLoss, AsyncWebsocketConsumer):
    """Shared relay; subclasses say which generations and how to render messages."""

    async def connect(self):
        self.relays: dict[int, Relay] = {}
        self.resyncing: set[int] = set()
        self.snapshotted: set[int] = set()  # generations whose text this client has been given whole
        self.tasks: set[asyncio.Task] = set()
        self.groups_joined: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            ids = await self.authorized_generation_ids(user)
        except (Http404, PermissionDenied):
            await self.close(code=4403)
            return
        # Join first, read the database second: nothing falls in between. Joining before the
        # handshake means a channel layer that is down refuses it (the client backs off).
        for group in self.extra_groups():
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        for gid in ids:
            await self.join(gid)
        await self.accept()
        self.watch_layer()
        for state in await self.states(ids):
            await self.send_state(state)

    def extra_groups(self) -> list[str]:
        return []

    async def join(self, gid: int) -> None:
        group = generation_group(gid)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code):
        layer_watch().unregister(id(self))
        with contextlib.suppress(*layer_errors()):  # a Redis that went away took the groups with it
            for group in getattr(self, "groups_joined", []):
                await self.channel_layer.group_discard(group, self.channel_name)

    @database_sync_to_async
    def states(self, ids):
        return [generation_state(g) for g in Generation.objects.filter(pk__in=ids).order_by("variant", "pk")]

    def relay(self, gid: int) -> Relay:
        return self.relays.setdefault(gid, Relay())

    async def send_state(self, state: dict) -> None:
        """Bring the client up to `state` (a persisted or final state), then send the status."""
        text = self.relay(state["id"]).catch_up(state)
        if text is not None:
            await self.append(state["id"], state["seq"], text, state)
        await self.send_status(state)
        await self.send_ready(state["id"])

    async def generation_piece(self, event):
        relay = self.relay(event["id"])
        for piece in relay.receive(event):
            await self.append(event["id"], piece["seq"], piece["text"], piece)
        if relay.has_gap and event["id"] not in self.resyncing:
            self.resyncing.add(event["id"])
            task = asyncio.ensure_future(self.resync(event["id"]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def generation_state(self, event):
        await self.send_state(event)

    async def send_ready(self, gid: int) -> None:
        for piece in self.relay(gid).ready():
            await self.append(gid, piece["seq"], piece["text"], piece)

    async def append(self, gid, seq, text, event) -> None:
        """The first text a connection sends for a generation replaces what the page shows
        (which may be older, or, after a reconnect, already hold live pieces); later text appends."""
        snapshot = gid not in self.snapshotted
        self.snapshotted.add(gid)
        await self.send_append(gid, seq, text, event, snapshot=snapshot)

    async def resync(self, gid: int) -> None:
        """A gap: pieces sent before we joined and not yet persisted. Read the database until
        it has caught up with the first piece we hold (it persists every 0.5 s)."""
        try:
            relay = self.relay(gid)
            for _ in range(RESYNC_TRIES):
                if not relay.has_gap:
                    return
                states = await self.states([gid])
                if not states:
                    return  # deleted meanwhile
                text = relay.catch_up(states[0])
                if text is not None:
                    await self.append(gid, states[0]["seq"], text, states[0])
                await self.send_ready(gid)
                if not relay.has_gap:
                    return
                await asyncio.sleep(RESYNC_DELAY_S)
        finally:
            self.resyncing.discard(gid)

    # --- rendering, per protocol -----------------------------------------------------------
    async def authorized_generation_ids(self, user) -> list[int]:
        raise NotImplementedError

    async def send_append(self, gid, seq, text, event, snapshot=False):
        raise NotImplementedError

    async def send_status(self, state):
        raise NotImplementedError


class GenerationJsonConsumer(GenerationStreamConsumer):
    """JSON messages: {"type": "append", "id", "seq", "text"} and {"type": "state", ...}."""

    async def authorized_generation_ids(self, user):
        gid = int(self.scope["url_route"]["kwargs"]["generation_id"])
        return await database_sync_to_async(_authorized_generation)(user, gid)

    async def send_append(self, gid, seq, text, event, snapshot=False):
        await self.send(text_data=json.dumps({"type": "append", "id": gid, "seq": seq, "text": text,
                                              "tokens": event.get("tokens"), "elapsed": event.get("elapsed")}))

    async def send_status(self, state):
        """A final state carries the stored text: it is authoritative (a worker that died may have
        sent pieces it never stored; those are not part of the generation)."""
        message = {k: v for k, v in state.items() if k not in ("type", "text", "prefix")}
        if state["status"] not in Generation.ACTIVE:
            message["text"] = state["text"]
        await self.send(text_data=json.dumps({"type": "state", **message}))


class ArticleHtmlConsumer(GenerationStreamConsumer):
    """htmx ws extension: out-of-band fragments that show each card's text and refresh the cards.

    The text is shown as sanitised Markdown while it streams (as it will be when finished): the
    whole text so far is rendered again at most every RENDER_EVERY_S per generation (rendering
    costs milliseconds; a token arrives every few), so the card grows without jumping at the end.
    """

    async def authorized_generation_ids(self, user):
        self.article_id = int(self.scope["url_route"]["kwargs"]["article_id"])
        ids, self.membership = await database_sync_to_async(_authorized_article_generations)(user, self.article_id)
        return ids

    async def connect(self):
        self.prefixes: dict[int, str] = {}  # a continued generation's earlier text, per generation
        self.texts: dict[int, str] = {}  # what the card shows, per generation (prefix + pieces)
        self.latest: dict[int, tuple[int, dict]] = {}  # (seq, event) of the last piece, per generation
        self.renders: dict[int, asyncio.Task] = {}  # a render waiting for its turn, per generation
        self.rendered_at: dict[int, float] = {}
        self.shown_seq: dict[int, int] = {}
        self.finished: set[int] = set()  # shown as a whole card: no more text renders
        await super().connect()

    def extra_groups(self) -> list[str]:
        return [article_group(self.article_id)]

    async def article_generation(self, event):
        """A new run (regenerate, continue, retry) joined the article: its variant is shown
        again, the new run first and the earlier ones under "Earlier runs"; then followed."""
        gid = event["id"]
        html = await database_sync_to_async(_render_variant)(gid, self.membership)
        if html is None:
            return  # a suggestion for a passage: not one of the article's variants
        await self.join(gid)
        await self.send(text_data=html)
        for state in await self.states([gid]):
            await self.send_state(state)

    async def send_state(self, state: dict) -> None:
        self.prefixes[state["id"]] = state.get("prefix", "")
        await super().send_state(state)

    async def send_append(self, gid, seq, text, event, snapshot=False):
        if snapshot:  # the card shows a continued generation's earlier text first
            self.texts[gid] = self.prefixes.get(gid, "") + text
        else:
            self.texts[gid] = self.texts.get(gid, "") + text
        self.latest[gid] = (seq, event)
        if gid not in self.renders and gid not in self.finished:
            task = asyncio.ensure_future(self.render_text(gid))
            self.renders[gid] = task
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def render_text(self, gid: int) -> None:
        """Show the text so far, rendered, once RENDER_EVERY_S has passed since the last time."""
        loop = asyncio.get_running_loop()
        wait = self.rendered_at.get(gid, -RENDER_EVERY_S) + RENDER_EVERY_S - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self.renders.pop(gid, None)  # pieces from now on wait for the next render
        self.rendered_at[gid] = loop.time()
        text, (seq, event) = self.texts[gid], self.latest[gid]
        html = await asyncio.to_thread(render_markdown, text)
        if gid in self.finished or seq < self.shown_seq.get(gid, 0):
            return  # the whole card was sent meanwhile, or a newer render was
        self.shown_seq[gid] = seq
        await self.send(text_data=render_to_string("articles/_ws_append.html", {
            "id": gid, "seq": seq, "html": html,
            "tokens": event.get("tokens") or event.get("completion_tokens"), "elapsed": event.get("elapsed")}))

    async def send_status(self, state):
        if state["status"] == "queued":
            return  # the card shows its queue position already
        if state["status"] == "running":
            # Only the pill: re-rendering the card mid-stream would replace streamed text with
            # the (older) persisted text.
            await self.send(text_data=render_to_string("articles/_ws_running.html", {"id": state["id"]}))
            return
        self.finished.add(state["id"])
        waiting = self.renders.pop(state["id"], None)
        if waiting is not None:
            waiting.cancel()
        html = await database_sync_to_async(_render_card)(state["id"], self.membership)
        await self.send(text_data=html)


def _authorized_generation(user, gid: int) -> list[int]:
    generation = Generation.objects.filter(pk=gid).first()
    if generation is None:
        raise Http404
    check(membership_for(user, generation.workspace_id), "drafts.view", generation)
    return [gid]


def _authorized_article_generations(user, article_id: int) -> list[int]:
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise Http404
    membership = membership_for(user, article.workspace_id)
    check(membership, "drafts.view", article)
    variants = article.generations.exclude(kind=SUGGESTION)  # rewrite suggestions stream in the editor
    return list(variants.values_list("pk", flat=True)), membership


def _render_card(gid: int, membership) -> str:
    """A card as the connected member sees it (only the buttons their role allows)."""
    from articles.selectors import generation_card_context

    generation = Generation.objects.select_related("article", "model_version").get(pk=gid)
    context = generation_card_context(generation, membership=membership)
    return render_to_string("articles/_generation_oob.html", context)


def _render_variant(gid: int, membership) -> str | None:
    """The whole variant of a new run (it first, the earlier runs below), out of band."""
    from articles.selectors import variant_cards

    generation = Generation.objects.select_related("article").get(pk=gid)
    if generation.kind == "suggestion":
        return None
    groups = variant_cards(generation.article, membership, variant=generation.variant)
    return render_to_string("articles/_variant.html", {"group": groups[0], "group_oob": True})
