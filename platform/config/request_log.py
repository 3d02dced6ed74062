"""Refused requests (HTTP 4xx) are logged as one line; real errors (5xx) keep their traceback.

Django logs every 4xx through `django.request` / `django.security.*`, and a refusal raised as
an exception (PermissionDenied, Http404, SuspiciousOperation) with its whole traceback, although
nothing went wrong. `RefusalFilter` sits on the log handler and rewrites those records to

    Refused GET /accounts/workspace/members/ 403 user=wendy reason=Your role (Writer) does not allow this.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.deprecation import MiddlewareMixin


def _one_line(value) -> str:
    """No newline or control character from a path or a message reaches the log."""
    return str(value).encode("unicode_escape").decode("ascii")


def _user(request) -> str:
    user = getattr(request, "user", None)
    try:
        if user is None or not user.is_authenticated:
            return "-"
        return user.get_username()
    except Exception:  # noqa: BLE001 - a log line must not fail on the user lookup
        return "?"


def _reason(record, request) -> str:
    reason = getattr(request, "refusal_reason", None)
    if reason:
        return str(reason)
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        return str(exc) or exc.__class__.__name__
    # "Forbidden: /path" or "Forbidden (CSRF token missing.): /path": drop the path
    message = record.getMessage()
    return message.rsplit(": ", 1)[0] if ": " in message else message


class RefusalFilter(logging.Filter):
    """Rewrites 4xx request records to one WARNING line: method, path, status, user, reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        if not isinstance(status, int) or not 400 <= status < 500 or request is None:
            return True
        reason = _reason(record, request)
        record.msg = "Refused %s %s %s user=%s reason=%s"
        record.args = (
            _one_line(request.method),
            _one_line(request.path),
            status,
            _one_line(_user(request)),
            _one_line(reason),
        )
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RefusalReasonMiddleware(MiddlewareMixin):
    """Keeps a refusal's reason for its log line: the message of a view's Http404 (which Django
    logs without it) and an API refusal's `detail` (DRF answers without an exception)."""

    def process_exception(self, request, exception):
        if isinstance(exception, (Http404, PermissionDenied)) and str(exception):
            request.refusal_reason = str(exception)

    def process_response(self, request, response):
        data = getattr(response, "data", None)
        if 400 <= response.status_code < 500 and isinstance(data, dict) and data.get("detail"):
            request.refusal_reason = data["detail"]
        return response
