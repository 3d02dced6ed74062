import datetime
import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def wait_for_redis(url: str, timeout: float = 15.0) -> None:
    """The cluster keeps its statistics in the Redis cache; wait for it at start-up."""
    import redis

    from core.redis_server import quick_client

    deadline = time.monotonic() + timeout
    while True:
        try:
            quick_client(url).ping()
            return
        except redis.RedisError as exc:
            if time.monotonic() > deadline:
                raise CommandError(f"Redis at {url} did not answer within {timeout:.0f} s: {exc}") from None
            time.sleep(0.2)


def restarts_from_env(environ=os.environ) -> tuple[int, datetime.datetime | None]:
    """How many times and when `make run`'s supervisor restarted this process (see core.runner)."""
    count, at = environ.get("INKSTONE_RESTARTS", "0"), environ.get("INKSTONE_RESTARTED_AT")
    try:
        restarts = int(count)
        restarted_at = datetime.datetime.fromisoformat(at) if at else None
    except ValueError:
        raise CommandError(
            f"INKSTONE_RESTARTS={count!r} / INKSTONE_RESTARTED_AT={at!r}: expected a number and an ISO "
            "date-time (the process runner sets them)"
        ) from None
    return restarts, restarted_at


class Command(BaseCommand):
    help = (
        "Run one django-q2 worker cluster with a heartbeat for /healthz. Choose the cluster with "
        "Q_CLUSTER_NAME (generation or training)."
    )

    def handle(self, *args, **options):
        from core.heartbeat import run_cluster_with_heartbeat

        cluster = os.environ.get("Q_CLUSTER_NAME") or settings.Q_CLUSTER["name"]
        if cluster not in settings.WORKER_CLUSTERS:
            known = ", ".join(settings.WORKER_CLUSTERS)
            raise CommandError(f"Q_CLUSTER_NAME={cluster!r} is not a known cluster; use one of {known}")
        restarts, restarted_at = restarts_from_env()
        wait_for_redis(settings.REDIS_URL)
        self.stdout.write(f"Starting the {cluster} worker cluster" + (f" (restart #{restarts})" if restarts else ""))
        run_cluster_with_heartbeat(cluster=cluster, interval=settings.WORKER_HEARTBEAT_SECONDS,
                                   restarts=restarts, restarted_at=restarted_at)
