"""Worker clusters with a heartbeat in the database (the source of truth), read by /healthz."""

import contextlib
import logging
import os
import signal
import socket
import threading
from pathlib import Path

from django.db import close_old_connections, connection
from django.utils import timezone

from core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def beat(*, cluster: str, started_at) -> None:
    WorkerHeartbeat.objects.update_or_create(
        cluster=cluster,
        hostname=socket.gethostname(),
        pid=os.getpid(),
        defaults={"started_at": started_at, "last_seen": timezone.now()},
    )


def forget(*, cluster: str) -> None:
    WorkerHeartbeat.objects.filter(
        cluster=cluster, hostname=socket.gethostname(), pid=os.getpid()
    ).delete()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), deepest last."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(child) for child in task.read_text().split()]
            except OSError:
                continue
            found.extend(children)
            todo.extend(children)
    return found


def run_cluster_with_heartbeat(*, cluster: str, interval: float, grace: float = 10.0) -> None:
    """Start a django-q2 cluster and beat while its sentinel lives; returns when it stops.

    The beat runs in this (parent) process, so it stops when the cluster is killed or stops.
    SIGTERM/SIGINT ask for a graceful stop (running tasks may finish) for `grace` seconds;
    then the cluster's processes are killed, and their tasks run again later (at-least-once).
    django-q2's own handler stops the cluster inside the signal handler, which can deadlock
    when only this process is signalled; ours only sets a flag.
    """
    from django_q.cluster import Cluster

    started_at = timezone.now()
    beat(cluster=cluster, started_at=started_at)
    connection.close()  # the cluster forks next: never share a connection with children
    q = Cluster()
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    q.start()
    try:
        while q.sentinel.is_alive() and not stop_requested.wait(interval):
            try:
                close_old_connections()
                beat(cluster=cluster, started_at=started_at)
            except Exception:  # a database blip must not kill the worker; the next beat retries
                logger.exception("heartbeat of the %s cluster failed", cluster)
    finally:
        stopper = threading.Thread(target=q.stop, daemon=True)
        stopper.start()
        stopper.join(grace)
        for pid in descendants(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            forget(cluster=cluster)
        except Exception:
            logger.exception("could not remove the heartbeat of the %s cluster", cluster)
