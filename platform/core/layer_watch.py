"""Tell WebSocket consumers when the channel layer's Redis lost what it knew (restart, flush).

channels_redis keeps group memberships in Redis, and the embedded Redis keeps nothing on disk.
After it restarts, channels_redis reconnects by itself, but a consumer that did not happen to be
reading when Redis went away is still connected and in no group: it hears nothing more. A
consumer that was reading gets the connection error instead.

One task per event loop (one per ASGI server process) reads an epoch key every
`LayerWatch.interval` seconds, setting it when missing. When the key changed or Redis does not
answer, every registered consumer is told (it closes its socket; the browser reconnects, joins
its groups again and re-syncs from the database, which is the source of truth).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)

EPOCH_KEY = "inkstone:channel-layer-epoch"


def layer_errors() -> tuple[type[BaseException], ...]:
    """What a channel layer raises when its Redis is gone (connection refused, reset, timeout)."""
    import redis

    return (redis.RedisError, OSError)


class LayerWatch:
    interval = 1.0

    def __init__(self, url: str):
        self.url = url
        self.listeners: dict[int, Callable[[], None]] = {}
        self.epoch: str | None = None
        self.task: asyncio.Task | None = None

    def register(self, key: int, on_lost: Callable[[], None]) -> None:
        self.listeners[key] = on_lost
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="channel-layer-watch")

    def unregister(self, key: int) -> None:
        self.listeners.pop(key, None)

    async def _read_epoch(self, client) -> str:
        fresh = uuid.uuid4().hex
        await client.set(EPOCH_KEY, fresh, nx=True)
        value = await client.get(EPOCH_KEY)
        return value.decode() if isinstance(value, bytes) else str(value)

    async def _run(self) -> None:
        from core.redis_server import quick_client

        client = quick_client(self.url, timeout=2, asynchronous=True)  # an error now, not after 7 s of retries
        try:
            while self.listeners:
                try:
                    epoch = await self._read_epoch(client)
                except layer_errors() as exc:
                    self._lost(f"Redis does not answer ({exc})")
                    self.epoch = None
                else:
                    if self.epoch is not None and epoch != self.epoch:
                        self._lost("Redis restarted (its state is gone)")
                    self.epoch = epoch
                await asyncio.sleep(self.interval)
        finally:
            self.epoch = None  # a later task starts afresh: its consumers joined the Redis of now
            await client.aclose()

    def _lost(self, why: str) -> None:
        listeners, self.listeners = list(self.listeners.values()), {}
        if listeners:
            logger.warning("channel layer: %s; closing %d socket(s) so they reconnect", why, len(listeners))
        for on_lost in listeners:
            on_lost()


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch] = weakref.WeakKeyDictionary()


def layer_watch() -> LayerWatch:
    """The watch of the running event loop."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = LayerWatch(settings.REDIS_URL)
    return watch


RECONNECT_CODE = 4012  # "reconnect": the channel layer failed or lost its state


class ReconnectOnLayerLoss:
    """Mixin for a channels AsyncWebsocketConsumer whose state lives in the database: when the
    channel layer fails (an error while serving) or loses its groups (told by `layer_watch`), the
    socket is closed once with RECONNECT_CODE; the client reconnects, joins its groups again and
    is brought up to date. Call `watch_layer()` once the socket is accepted."""

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except layer_errors() as exc:
            logger.warning("channel layer failed (%s): closing the socket so the client reconnects", exc)
            await self.close_for_reconnect()
        finally:
            layer_watch().unregister(id(self))

    async def close_for_reconnect(self) -> None:
        """Once: before the handshake this refuses it, after it the client reconnects."""
        if not getattr(self, "reconnect_asked", False):
            self.reconnect_asked = True
            await self.close(code=RECONNECT_CODE)

    def watch_layer(self) -> None:
        layer_watch().register(id(self), self.layer_lost)

    def layer_lost(self) -> None:
        """Redis restarted: our groups are gone. Reconnecting joins them again and re-syncs."""
        self._reconnecting = asyncio.ensure_future(self.close_for_reconnect())  # kept: a task needs a reference
