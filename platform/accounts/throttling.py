"""Brute-force protection: sign-in lockout (django-axes) and API-token failure throttling.

Sign-ins through `/accounts/login/` and `/admin/login/` are counted by django-axes per account
and per client address (settings `AXES_*`, from `INKSTONE_LOGIN_*`); this module shapes its
lockout answer. Failed API-token authentication is counted here per client address in the
Django cache (Redis), in fixed windows of `INKSTONE_API_AUTH_FAILURE_WINDOW` seconds.
"""

import math
import time

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.shortcuts import render

API_AUTH_CACHE_PREFIX = "api-auth-failures"


def client_address(request) -> str | None:
    """The caller's address. Behind a proxy, uvicorn's --proxy-headers puts the forwarded
    address in REMOTE_ADDR; nothing else here reads X-Forwarded-For (it is client-supplied).
    None when there is none (a request built in code, e.g. by the test client's force_login)."""
    return request.META.get("REMOTE_ADDR") or None


# --- Sign-in lockout (django-axes) -----------------------------------------------------------


def lockout_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Too many failed sign-ins for this account or address; "
        f"try again in {minutes} {unit}, or ask an admin to unlock it."
    )


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the sign-in page with the lockout message, as HTTP 429.

    The same page for /accounts/login/ and /admin/login/ (axes' async path does not pass the
    page it replaces). Each failed attempt while locked out restarts the cool-off
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so the whole cool-off is what is left.
    """
    seconds = int(get_cool_off(request).total_seconds())
    form = AuthenticationForm(request, data={"username": request.POST.get("username", "")})
    form.add_error(None, lockout_message(max(1, math.ceil(seconds / 60))))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    response = render(
        request, "registration/login.html", {"form": form, "next": next_url}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


# --- API token failures ------------------------------------------------------------------------


def _window(now: float) -> tuple[str, float]:
    """The current window's id and the seconds until it ends."""
    length = settings.INKSTONE_API_AUTH_FAILURE_WINDOW
    index = int(now // length)
    return str(index), (index + 1) * length - now


def _key(address: str, window: str) -> str:
    # The generation lets api_auth_failures_reset() forget every address at once.
    generation = cache.get_or_set(f"{API_AUTH_CACHE_PREFIX}:generation", 1, timeout=None)
    return f"{API_AUTH_CACHE_PREFIX}:{generation}:{address}:{window}"


def api_auth_retry_after(request) -> int | None:
    """Seconds until this address may try an API token again, or None when it may now."""
    window, remaining = _window(time.time())
    failures = cache.get(_key(client_address(request) or "unknown", window), 0)
    if failures < settings.INKSTONE_API_AUTH_FAILURE_LIMIT:
        return None
    return max(1, math.ceil(remaining))


def api_auth_failure_record(request) -> None:
    window, remaining = _window(time.time())
    key = _key(client_address(request) or "unknown", window)
    timeout = math.ceil(remaining) + 1
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)


def api_auth_failures_reset() -> None:
    """Forget every address's API-token failures (tests; an admin after a false alarm)."""
    key = f"{API_AUTH_CACHE_PREFIX}:generation"
    cache.add(key, 1, timeout=None)
    cache.incr(key)
