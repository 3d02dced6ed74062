"""Health of the parts Inkstone needs: database, channel layer, worker clusters."""

import asyncio
import uuid
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.models import WorkerHeartbeat


def database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; report it, do not crash healthz
        return {"ok": False, "vendor": connection.vendor, "error": str(exc).splitlines()[0]}
    return {"ok": True, "vendor": connection.vendor}


async def channel_layer_health(timeout: float = 2.0) -> dict:
    """A real send/receive round trip through the channel layer."""
    layer = get_channel_layer()
    channel = f"healthz.{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    try:
        async with asyncio.timeout(timeout):
            await layer.send(channel, {"type": "healthz.ping", "token": token})
            message = await layer.receive(channel)
    except Exception as exc:
        return {"ok": False, "backend": type(layer).__name__, "error": str(exc) or type(exc).__name__}
    return {"ok": message.get("token") == token, "backend": type(layer).__name__}


def workers_health(now=None) -> dict:
    """Per cluster: ok when some process of it has beaten within WORKER_STALE_AFTER_SECONDS.

    `restarts`/`last_restart`: how many times `make run` restarted the live processes, and when
    last. A process that died is removed by its supervisor at once, so a cluster being restarted
    is down until the new process beats.
    """
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS)
    report = {}
    for cluster in settings.WORKER_CLUSTERS:
        beats = list(WorkerHeartbeat.objects.filter(cluster=cluster).order_by("-last_seen"))
        alive = [b for b in beats if now - b.last_seen <= stale_after]
        last = beats[0].last_seen if beats else None
        restarted = [b.restarted_at for b in alive if b.restarted_at]
        report[cluster] = {
            "ok": bool(alive),
            "processes": len(alive),
            "last_heartbeat": last.isoformat() if last else None,
            "seconds_since": round((now - last).total_seconds(), 1) if last else None,
            "restarts": sum(b.restarts for b in alive),
            "last_restart": max(restarted).isoformat() if restarted else None,
        }
    return report


async def system_health() -> tuple[bool, dict]:
    database = await sync_to_async(database_health)()
    layer = await channel_layer_health()
    workers = await sync_to_async(workers_health)() if database["ok"] else {
        cluster: {"ok": False, "error": "database down"} for cluster in settings.WORKER_CLUSTERS
    }
    healthy = database["ok"] and layer["ok"] and all(w["ok"] for w in workers.values())
    return healthy, {
        "status": "ok" if healthy else "down",
        "database": database,
        "channel_layer": layer,
        "workers": workers,
    }
