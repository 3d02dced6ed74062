"""WebSockets that stream generations: join the group first, send the persisted state, then
forward only newer pieces. Sequence numbers guarantee no gap and no duplicate, also for a
client that connects mid-stream or reconnects.

/ws/generations/<id>/  JSON, one generation (API clients, the `generate` command)
/ws/articles/<id>/     HTML fragments for htmx's ws extension, every variant of an article
"""

import asyncio
import json
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404
from django.template.loader import render_to_string

from accounts.permissions import PermissionDenied, check_object, membership_for
from articles.events import generation_state
from articles.models import Article, Generation, article_group, generation_group

RESYNC_DELAY_S = 0.25
RESYNC_TRIES = 40  # 10 s: the worker persists every 0.5 s, so this only runs out if it died


@dataclass
class Sent:
    """What this client has: the pieces up to `seq`, i.e. `length` characters of text."""

    seq: int = 0
    length: int = 0
    pending: dict = field(default_factory=dict)  # seq -> piece event that arrived early


class GenerationStreamConsumer(AsyncWebsocketConsumer):
    """Shared relay; subclasses say which generations and how to render messages."""

    async def connect(self):
        self.sent: dict[int, Sent] = {}
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
        await self.accept()
        for group in self.extra_groups():
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        for gid in ids:  # join first, read the database second: nothing falls in between
            await self.join(gid)
        for state in await self.states(ids):
            await self.send_state(state)

    def extra_groups(self) -> list[str]:
        return []

    async def join(self, gid: int) -> None:
        group = generation_group(gid)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    @database_sync_to_async
    def states(self, ids):
        return [generation_state(g) for g in Generation.objects.filter(pk__in=ids).order_by("variant", "pk")]

    async def send_state(self, state: dict) -> None:
        """Bring the client up to `state` (a persisted or final state), then send the status."""
        sent = self.sent.setdefault(state["id"], Sent())
        if state["seq"] > sent.seq:
            await self.send_append(state["id"], state["seq"], state["text"][sent.length:], state, snapshot=sent.seq == 0)
            sent.seq, sent.length = state["seq"], len(state["text"])
        await self.send_status(state)
        await self.drain(state["id"])

    async def generation_piece(self, event):
        sent = self.sent.setdefault(event["id"], Sent())
        if event["seq"] <= sent.seq:
            return  # already sent (it was in the persisted text)
        sent.pending[event["seq"]] = event
        if event["seq"] == sent.seq + 1:
            await self.drain(event["id"])
        elif len(sent.pending) == 1:
            asyncio.ensure_future(self.resync(event["id"]))

    async def generation_state(self, event):
        await self.send_state(event)

    async def drain(self, gid: int) -> None:
        sent = self.sent[gid]
        for seq in sorted(s for s in sent.pending if s <= sent.seq):
            del sent.pending[seq]
        while sent.seq + 1 in sent.pending:
            event = sent.pending.pop(sent.seq + 1)
            await self.send_append(gid, event["seq"], event["text"], event)
            sent.seq, sent.length = event["seq"], sent.length + len(event["text"])

    async def resync(self, gid: int) -> None:
        """A gap: pieces sent before we joined and not yet persisted. Read the database until
        it has caught up with the first piece we hold (it persists every 0.5 s)."""
        for _ in range(RESYNC_TRIES):
            sent = self.sent[gid]
            if not sent.pending:
                return
            (state,) = await self.states([gid])
            if state["seq"] > sent.seq:
                await self.send_append(gid, state["seq"], state["text"][sent.length:], state)
                sent.seq, sent.length = state["seq"], len(state["text"])
                await self.drain(gid)
                if not sent.pending:
                    return
            await asyncio.sleep(RESYNC_DELAY_S)

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
        message = {k: v for k, v in state.items() if k not in ("type", "text")}
        await self.send(text_data=json.dumps({"type": "state", **message}))


class ArticleHtmlConsumer(GenerationStreamConsumer):
    """htmx ws extension: out-of-band fragments that append text and refresh each card."""

    async def authorized_generation_ids(self, user):
        self.article_id = int(self.scope["url_route"]["kwargs"]["article_id"])
        return await database_sync_to_async(_authorized_article_generations)(user, self.article_id)

    def extra_groups(self) -> list[str]:
        return [article_group(self.article_id)]

    async def article_generation(self, event):
        """A new generation (regenerate, continue, retry) joined the article: show and follow it."""
        gid = event["id"]
        await self.join(gid)
        html = await database_sync_to_async(_render_card)(gid, placement="new")
        await self.send(text_data=html)
        for state in await self.states([gid]):
            await self.send_state(state)

    async def send_append(self, gid, seq, text, event, snapshot=False):
        swap = "innerHTML" if snapshot else "beforeend"
        html = render_to_string("articles/_ws_append.html", {"id": gid, "seq": seq, "text": text, "swap": swap,
                                                              "tokens": event.get("tokens") or event.get("completion_tokens"),
                                                              "elapsed": event.get("elapsed")})
        await self.send(text_data=html)

    async def send_status(self, state):
        if state["status"] == "queued":
            return  # the card shows its queue position already
        if state["status"] == "running":
            # Only the pill: re-rendering the card mid-stream would replace streamed text with
            # the (older) persisted text.
            await self.send(text_data=render_to_string("articles/_ws_running.html", {"id": state["id"]}))
            return
        html = await database_sync_to_async(_render_card)(state["id"])
        await self.send(text_data=html)


def _authorized_generation(user, gid: int) -> list[int]:
    generation = Generation.objects.filter(pk=gid).first()
    if generation is None:
        raise Http404
    check_object(membership_for(user, generation.workspace_id), generation, "workspace.view")
    return [gid]


def _authorized_article_generations(user, article_id: int) -> list[int]:
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise Http404
    check_object(membership_for(user, article.workspace_id), article, "workspace.view")
    return list(article.generations.values_list("pk", flat=True))


def _render_card(gid: int, placement: str = "replace") -> str:
    from articles.selectors import generation_card_context

    generation = Generation.objects.select_related("article", "model_version").get(pk=gid)
    return render_to_string("articles/_generation_oob.html", {**generation_card_context(generation), "placement": placement})
