"""WebSocket origin check: only pages of this very site may open a socket.

Browsers send cookies with a WebSocket handshake from any page, so a page on another origin
could otherwise stream a signed-in user's drafts. Channels' AllowedHostsOriginValidator compares
host names only (http://127.0.0.1:9999 passes for a site on :8000); this compares the whole
origin (scheme, host and port) with the one the socket was opened on, like Django's CSRF check
does for forms. Origins in CSRF_TRUSTED_ORIGINS (e.g. a proxy's public name) are accepted too.
"""

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a serialised origin like `https://example.com:8443`, else None."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if (
        parts.scheme not in DEFAULT_PORTS
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def _header(scope, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", []) if key == name]
    if len(values) != 1:
        return None  # missing, or sent twice: nothing to trust
    try:
        return values[0].decode("ascii")
    except UnicodeDecodeError:
        return None


def _is_secure(scope) -> bool:
    if scope.get("scheme") in ("wss", "https"):  # uvicorn --proxy-headers maps X-Forwarded-Proto here
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, expected = proxy_header
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        return _header(scope, header) == expected
    return False


def _allowed_hosts() -> list[str]:
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def _is_trusted(origin: str, parsed: tuple[str, str, int]) -> bool:
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in trusted:  # https://*.example.com, as in Django's CSRF check
            parts = urlsplit(trusted)
            if parts.scheme == parsed[0] and is_same_domain(
                urlsplit(origin).netloc, parts.netloc.lstrip("*")
            ):
                return True
        elif parse_origin(trusted) == parsed:
            return True
    return False


def refusal(scope) -> str | None:
    """Why this handshake must be refused, or None when its Origin is this site's."""
    host = _header(scope, b"host")
    if host is None:
        return "no Host header"
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return f"Host {host!r} is not in ALLOWED_HOSTS"
    origin = _header(scope, b"origin")
    if origin is None:
        return "no Origin header"
    parsed = parse_origin(origin)
    if parsed is None:
        return f"Origin {origin!r} is not a valid origin"
    own = parse_origin(f"{'https' if _is_secure(scope) else 'http'}://{host}")
    if parsed == own or _is_trusted(origin, parsed):
        return None
    return f"Origin {origin!r} is not this site ({host}) nor in DJANGO_CSRF_TRUSTED_ORIGINS"


class SameOriginValidator:
    """ASGI middleware: WebSocket handshakes from another origin are refused (HTTP 403)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator guards WebSocket connections only")
        reason = refusal(scope)
        if reason is None:
            return await self.application(scope, receive, send)
        logger.warning("Refused WebSocket %s: %s", scope.get("path", "?"), reason)
        return await WebsocketDenier()(scope, receive, send)
