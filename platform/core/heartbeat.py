"""Worker clusters with a heartbeat in the database (the source of truth), read by /healthz.

The cluster's parent process beats every few seconds and, in a thread beside it, runs the
periodic jobs other apps register in settings.WORKER_PERIODIC_JOBS (dotted paths of functions
without arguments; e.g. marking generations whose worker died as interrupted), so `core`
imports none of those apps.
"""

import contextlib
import logging
import os
import signal
import socket
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string

from core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def beat(*, cluster: str, started_at, restarts: int = 0, restarted_at=None) -> None:
    WorkerHeartbeat.objects.update_or_create(
        cluster=cluster,
        hostname=socket.gethostname(),
        pid=os.getpid(),
        defaults={"started_at": started_at, "last_seen": timezone.now(), "restarts": restarts,
                  "restarted_at": restarted_at},
    )


def forget(*, cluster: str) -> None:
    WorkerHeartbeat.objects.filter(
        cluster=cluster, hostname=socket.gethostname(), pid=os.getpid()
    ).delete()


def forget_process(*, pid: int) -> int:
    """A process of this host died (seen by its supervisor): its cluster is down until it beats again."""
    deleted, _ = WorkerHeartbeat.objects.filter(hostname=socket.gethostname(), pid=pid).delete()
    return deleted


class PeriodicJobs:
    """Runs settings.WORKER_PERIODIC_JOBS every `interval` seconds in a daemon thread.

    A failing job is logged and tried again next round; it never stops the worker or the beat.
    """

    def __init__(self, interval: float):
        self.interval = interval
        self.jobs = [import_string(path) for path in getattr(settings, "WORKER_PERIODIC_JOBS", ())]
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="periodic-jobs", daemon=True)

    def start(self) -> "PeriodicJobs":
        if self.jobs:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(1)  # a job stuck on a dead service must not hold up the stop

    def _run(self) -> None:
        try:
            while not self._done.wait(self.interval):
                for job in self.jobs:
                    try:
                        close_old_connections()
                        job()
                    except Exception:
                        logger.exception("periodic job %s failed", getattr(job, "__name__", job))
        finally:
            connection.close()


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


def run_cluster_with_heartbeat(*, cluster: str, interval: float, grace: float = 10.0, restarts: int = 0,
                               restarted_at=None) -> None:
    """Start a django-q2 cluster and beat while its sentinel lives; returns when it stops.

    `restarts`/`restarted_at`: how often and when the supervisor restarted this cluster (kept in
    the heartbeat for /healthz). The periodic jobs start after the fork of the cluster.

    The beat runs in this (parent) process, so it stops when the cluster is killed or stops.
    SIGTERM/SIGINT ask for a graceful stop (running tasks may finish) for `grace` seconds;
    then the cluster's processes are killed, and their tasks run again later (at-least-once).
    django-q2's own handler stops the cluster inside the signal handler, which can deadlock
    when only this process is signalled; ours only sets a flag.
    """
    from django_q.cluster import Cluster

    started_at = timezone.now()
    identity = {"cluster": cluster, "started_at": started_at, "restarts": restarts, "restarted_at": restarted_at}
    beat(**identity)
    connection.close()  # the cluster forks next: never share a connection with children
    q = Cluster()
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    q.start()
    jobs = PeriodicJobs(interval).start()
    try:
        while q.sentinel.is_alive() and not stop_requested.wait(interval):
            try:
                close_old_connections()
                beat(**identity)
            except Exception:  # a database blip must not kill the worker; the next beat retries
                logger.exception("heartbeat of the %s cluster failed", cluster)
    finally:
        jobs.stop()
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
