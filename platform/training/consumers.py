"""WebSockets that watch one training run: join the run's group first, then send the stored state
with its sequence number, then only what is newer. The database is the truth; events only say
that something newer is there.

/ws/trainings/<id>/html/  HTML for htmx's ws extension: the run page's live panel, re-rendered
                          from the database (at most RENDERS_PER_S a second; the last state always)
/ws/trainings/<id>/       JSON for API clients: {"type": "snapshot", ...} then the events

When the channel layer fails or loses its groups (Redis restarted) the socket is closed with
RECONNECT_CODE, as the draft page's is: the client reconnects and is brought up to date.
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
from core.layer_watch import ReconnectOnLayerLoss, layer_errors, layer_watch
from training.events import run_state, step_dict
from training.models import TrainingRun, training_group

logger = logging.getLogger(__name__)

RENDERS_PER_S = 4
CATCH_UP_TRIES = 8  # an event may arrive before its row is readable: read again, briefly


class TrainingWatchConsumer(ReconnectOnLayerLoss, AsyncWebsocketConsumer):
    """Permission, group, layer failures; subclasses send the state and the events."""

    async def connect(self):
        self.group = None
        self.tasks: set[asyncio.Task] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        try:
            self.membership = await database_sync_to_async(_authorized)(user, self.run_id)
        except (Http404, PermissionDenied):
            await self.close(code=4403)
            return
        # Join first, read the database second: nothing falls in between.
        self.group = training_group(self.run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.watch_layer()
        await self.send_snapshot()

    async def disconnect(self, code):
        layer_watch().unregister(id(self))
        for task in list(getattr(self, "tasks", ())):
            task.cancel()
        if getattr(self, "group", None):
            with contextlib.suppress(*layer_errors()):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def training_state(self, event):
        await self.on_event(event)

    async def training_step(self, event):
        await self.on_event(event)

    async def training_log(self, event):
        await self.on_event(event)

    async def send_snapshot(self):
        raise NotImplementedError

    async def on_event(self, event):
        raise NotImplementedError


class TrainingHtmlConsumer(TrainingWatchConsumer):
    """The run page's panel (progress, chart, log, buttons), rendered for the connected member."""

    async def connect(self):
        self.sent_seq = -1  # seq of the panel last sent
        self.wanted_seq = -1  # newest seq an event announced
        self.renderer: asyncio.Task | None = None
        self.last_render = 0.0
        await super().connect()

    async def send_snapshot(self):
        await self.render()

    async def render(self) -> None:
        html, seq = await database_sync_to_async(_render_panel)(self.run_id, self.membership)
        self.last_render = asyncio.get_running_loop().time()
        if html is not None and seq > self.sent_seq:
            self.sent_seq = seq
            await self.send(text_data=html)

    async def on_event(self, event):
        if event.get("seq", 0) <= max(self.sent_seq, self.wanted_seq):
            return  # already shown (or a render for it is on its way)
        self.wanted_seq = event["seq"]
        if self.renderer is None or self.renderer.done():
            self.renderer = asyncio.ensure_future(self.render_soon())
            self.tasks.add(self.renderer)
            self.renderer.add_done_callback(self.tasks.discard)

    async def render_soon(self) -> None:
        """Throttled: one render for every burst of events, until the panel shows the newest."""
        loop = asyncio.get_running_loop()
        tries = 0
        while self.sent_seq < self.wanted_seq and tries < CATCH_UP_TRIES:
            wait = self.last_render + 1 / RENDERS_PER_S - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            before = self.sent_seq
            await self.render()
            tries = 0 if self.sent_seq > before else tries + 1


class TrainingJsonConsumer(TrainingWatchConsumer):
    """{"type": "snapshot", "run": {...}, "steps": [...], "log": "...", "seq"} first, then
    {"type": "state" | "step" | "log", "seq", ...} newer than it. A jump in the sequence (events
    this socket did not get) is answered with a fresh snapshot."""

    async def connect(self):
        self.seq = -1  # newest event (or snapshot) sent
        self.state_seq = -1  # newest run state sent
        await super().connect()

    async def send_snapshot(self):
        snapshot = await database_sync_to_async(_snapshot)(self.run_id)
        if snapshot is None:
            await self.close(code=4404)
            return
        self.seq = self.state_seq = snapshot["seq"]
        await self.send(text_data=json.dumps(snapshot))

    async def on_event(self, event):
        seq, kind = event.get("seq", 0), event["type"].removeprefix("training.")
        if kind == "state":
            # A state may share its seq with the log line it came with: send it unless a state
            # at least as new was sent.
            if seq <= self.state_seq:
                return
        elif seq <= self.seq:
            return
        if seq > self.seq + 1:
            await self.send_snapshot()  # events were missed (or never sent): the stored truth
            return
        message = {k: v for k, v in event.items() if k != "type"}
        await self.send(text_data=json.dumps({"type": kind, **message}))
        self.seq = max(self.seq, seq)
        if kind in ("state", "step"):
            self.state_seq = max(self.state_seq, seq)


def _authorized(user, run_id: int):
    run = TrainingRun.objects.filter(pk=run_id).only("pk", "workspace_id", "created_by_id").first()
    if run is None:
        raise Http404
    membership = membership_for(user, run.workspace_id)
    check(membership, "training.view", run)
    return membership


def _render_panel(run_id: int, membership) -> tuple[str | None, int]:
    from training.selectors import panel_context

    run = TrainingRun.objects.select_related("model_version").filter(pk=run_id).first()
    if run is None:
        return None, -1
    return render_to_string("training/_panel.html", panel_context(run, membership)), run.seq


def _snapshot(run_id: int) -> dict | None:
    run = TrainingRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    steps = [step_dict(s) for s in run.steps.order_by("step")]
    return {"type": "snapshot", "seq": run.seq, "run": run_state(run), "steps": steps, "log": run.log}
