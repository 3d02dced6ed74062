"""Worker clusters with a heartbeat in the database (the source of truth), read by /healthz."""

import logging
import os
import socket

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


def run_cluster_with_heartbeat(*, cluster: str, interval: float) -> None:
    """Start a django-q2 cluster and beat while its sentinel lives; returns when it stops.

    The beat runs in this (parent) process, so it stops when the cluster is killed or stops.
    """
    from django_q.cluster import Cluster

    started_at = timezone.now()
    beat(cluster=cluster, started_at=started_at)
    connection.close()  # the cluster forks next: never share a connection with children
    q = Cluster()
    q.start()
    try:
        while q.sentinel.is_alive():
            try:
                close_old_connections()
                beat(cluster=cluster, started_at=started_at)
            except Exception:  # a database blip must not kill the worker; the next beat retries
                logger.exception("heartbeat of the %s cluster failed", cluster)
            q.sentinel.join(interval)
    finally:
        q.stop()
        try:
            forget(cluster=cluster)
        except Exception:
            logger.exception("could not remove the heartbeat of the %s cluster", cluster)
