"""Login throttling: failed attempts counted per account and per network, in the database so that every app server
sees the same counters.

Past a rule's limit within the window (`PILOTAGE_THROTTLE_WINDOW_SECONDS`), the key is refused for the lock delay
(`PILOTAGE_THROTTLE_LOCK_SECONDS`), then starts afresh. An account key is the address as typed, normalised, whether
or not an account has it: an unknown address is locked the same way, so the answer never tells who has an account.
Every function takes `now` so that tests move time instead of sleeping.
"""

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginThrottle

Scope = LoginThrottle.Scope
logger = logging.getLogger("pilotage.security")

LIMIT_SETTINGS = {
    Scope.ACCOUNT: "PILOTAGE_LOGIN_FAILURES_PER_ACCOUNT",
    Scope.LOGIN_IP: "PILOTAGE_LOGIN_FAILURES_PER_IP",
    Scope.RESET_IP: "PILOTAGE_PASSWORD_RESETS_PER_IP",
    Scope.RESET_ADDRESS: "PILOTAGE_PASSWORD_RESETS_PER_ADDRESS",
    Scope.API_IP: "PILOTAGE_API_TOKEN_FAILURES_PER_IP",
}


@dataclass(frozen=True)
class Rule:
    limit: int  # attempts allowed within the window; the one reaching it locks the key. 0: no limit
    window: timedelta
    lock: timedelta


def rule(scope: str) -> Rule:
    return Rule(
        limit=getattr(settings, LIMIT_SETTINGS[scope]),
        window=timedelta(seconds=settings.PILOTAGE_THROTTLE_WINDOW_SECONDS),
        lock=timedelta(seconds=settings.PILOTAGE_THROTTLE_LOCK_SECONDS),
    )


def lock_minutes() -> int:
    """The lock delay as the messages tell it, rounded up."""
    return -(-settings.PILOTAGE_THROTTLE_LOCK_SECONDS // 60)


def normalise_email(value: str | None) -> str:
    """As addresses are stored (`create_or_update_user`) and typed into the login form."""
    return (value or "").strip().lower()[:254]


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or the entry the nearest of `PILOTAGE_PROXY_COUNT` trusted proxies wrote in
    X-Forwarded-For (entries further left are whatever the client sent)."""
    if request is None:
        return ""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PILOTAGE_PROXY_COUNT
    if proxies:
        forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [entry for entry in forwarded if entry]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return normalise_ip(address)


def normalise_ip(address: str) -> str:
    """The key of an address: an IPv6 client counts as its /64 network, which one subscriber usually holds whole."""
    address = address.strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:254]
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def is_locked(*keys: tuple[str, str], now: datetime | None = None) -> bool:
    """Whether any of these (scope, key) pairs is locked; one query."""
    keys = tuple((scope, key) for scope, key in keys if key)
    if not keys:
        return False
    which = Q()
    for scope, key in keys:
        which |= Q(scope=scope, key=key)
    return LoginThrottle.objects.filter(which, locked_until__gt=now or timezone.now()).exists()


def record(scope: str, key: str, *, now: datetime | None = None) -> bool:
    """Count one attempt; True when it reaches the limit, which locks the key from `now` for the lock delay."""
    current = rule(scope)
    if not current.limit or not key:
        return False
    now = now or timezone.now()
    with transaction.atomic():
        LoginThrottle.objects.get_or_create(scope=scope, key=key, defaults={"window_start": now})
        row = LoginThrottle.objects.select_for_update().get(scope=scope, key=key)  # servers count one at a time
        if row.window_start <= now - current.window:
            row.failures, row.window_start = 0, now
        row.failures += 1
        locked = row.failures >= current.limit
        if locked:  # the next window opens when the lock ends
            row.failures, row.window_start, row.locked_until = 0, now + current.lock, now + current.lock
        row.save()
    if locked:
        logger.warning(
            "Blocage : %s « %s » après %d tentatives en %d min, jusqu'au %s",
            row.get_scope_display(),
            key,
            current.limit,
            current.window.total_seconds() // 60,
            timezone.localtime(row.locked_until).isoformat(timespec="seconds"),
        )
    forget_stale(now)
    return locked


def forget(scope: str, key: str) -> int:
    """Clear a key's counter and lock; the number of rows removed."""
    return LoginThrottle.objects.filter(scope=scope, key=key).delete()[0]


def forget_stale(now: datetime | None = None) -> None:
    """Rows whose window is over count nothing and lock nothing (a lock ends where its window starts): deleted, so
    that the table keeps no address longer than needed."""
    window = timedelta(seconds=settings.PILOTAGE_THROTTLE_WINDOW_SECONDS)
    LoginThrottle.objects.filter(window_start__lt=(now or timezone.now()) - window).delete()


def current_locks(now: datetime | None = None):
    return LoginThrottle.objects.filter(locked_until__gt=now or timezone.now()).order_by("scope", "locked_until")


# --- the use cases ---------------------------------------------------------------------------------------------


def login_refused(request: HttpRequest | None, email: str, *, now: datetime | None = None) -> bool:
    """The address or the network is locked: the login is refused before the password is even checked."""
    return is_locked((Scope.ACCOUNT, normalise_email(email)), (Scope.LOGIN_IP, client_ip(request)), now=now)


def login_failed(request: HttpRequest | None, email: str, *, now: datetime | None = None) -> bool:
    """Count a failed login for the address and the network; True when one of them is locked from now on."""
    account = record(Scope.ACCOUNT, normalise_email(email), now=now)
    return record(Scope.LOGIN_IP, client_ip(request), now=now) or account


def login_succeeded(email: str) -> None:
    forget(Scope.ACCOUNT, normalise_email(email))


def reset_refused(request: HttpRequest, *, now: datetime | None = None) -> bool:
    """Count a request of the "forgotten password" form; True when this network has made too many."""
    ip = client_ip(request)
    if is_locked((Scope.RESET_IP, ip), now=now):
        return True
    record(Scope.RESET_IP, ip, now=now)
    return False


def reset_mail_allowed(email: str, *, now: datetime | None = None) -> bool:
    """Whether this address may receive one more reset mail (counted whether it has an account or not; the page says
    the same either way)."""
    key = normalise_email(email)
    if is_locked((Scope.RESET_ADDRESS, key), now=now):
        return False
    record(Scope.RESET_ADDRESS, key, now=now)
    return True


def api_refused(request: HttpRequest, *, now: datetime | None = None) -> bool:
    return is_locked((Scope.API_IP, client_ip(request)), now=now)


def api_token_failed(request: HttpRequest, *, now: datetime | None = None) -> bool:
    return record(Scope.API_IP, client_ip(request), now=now)
