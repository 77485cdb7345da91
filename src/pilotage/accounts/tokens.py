"""API tokens: created, looked up by hash, revoked. Sent as `Authorization: Bearer <token>`."""

import hashlib
import secrets

from django.utils import timezone

from .models import ApiToken, User

PREFIX = "pil_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(user: User, name: str = "") -> str:
    """Create a token and return its clear value (never stored)."""
    key = PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=key[:12], key_hash=_hash(key))
    return key


def user_for_token(key: str) -> User | None:
    """The active user owning this non-revoked token, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key.strip()), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(user: User, token_id: int) -> bool:
    return bool(
        ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )
