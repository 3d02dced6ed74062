"""Personal API tokens: `Authorization: Token <key>` (or `Bearer <key>`)."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.throttling import api_auth_failure_record, api_auth_retry_after
from core.api import too_many

KEY_PREFIX = "ink_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it and its key, which is never stored nor shown again."""
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "API token"  # no NUL or control characters
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:12], key_hash=hash_key(key))
    return token, key


@transaction.atomic
def api_token_revoke(*, user, token_id: int) -> None:
    ApiToken.objects.filter(user=user, pk=token_id).delete()


def user_for_key(key: str):
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Token or Bearer keys. An address with too many wrong keys in a window is answered 429
    (with Retry-After) for the rest of it, whatever key it sends."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header: expected 'Token <key>'.")
        retry_after = api_auth_retry_after(request)
        if retry_after is not None:
            raise too_many(f"Too many failed API token attempts from this address; try again in {retry_after} s.", retry_after)
        user = user_for_key(header[1])
        if user is None:
            api_auth_failure_record(request)
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        return user, None

    def authenticate_header(self, request):
        return "Token"
