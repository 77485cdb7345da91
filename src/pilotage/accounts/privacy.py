"""Personal data of an account (RGPD): what the platform holds about a person, its export and its erasure.

The one place that knows where a user, their e-mail address or their phone number is stored (docs/privacy.md is the
processing record that describes it):

- the account (`User`: address, names, dates), its roles (`Role`) and API tokens (`ApiToken`, only a hash is kept);
- the history they wrote (`core.ChangeLog.user` and `user_label`, which holds the address at the time of writing) and
  the project status changes they made (`projects.ProjectStatusChange.by_label`, same);
- the history of the account itself (`ChangeLog` entries on the `User` record: invitation, roles, deactivation);
- the governance members whose contact address is theirs (`programme.GovernanceMember.email` and `phone`);
- free-text fields that mention their address (meeting participants and minutes, contract signatories);
- their open sessions, the login throttling counters kept under their address (`LoginThrottle`, minutes) and the
  admin site's action log (`django.contrib.admin.LogEntry`).

Erasure is an anonymisation, not a deletion: the account keeps its id so that the history stays exact (who did what
and when), but its address and names become a pseudonym ("Utilisateur supprimé n°ID") everywhere they were
copied, it can no longer log in, its tokens are revoked and its sessions ended. The names and roles of governance
members are public records of the programme and stay; their contact details are erased.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from django.utils import timezone

from pilotage.core.history import Action, Source, history_of, record_change
from pilotage.core.models import ChangeLog

from .models import ApiToken, Role, User

PSEUDONYM = "Utilisateur supprimé n°{id}"
# A syntactically valid address on the reserved `.invalid` domain (RFC 2606): the field stays a valid e-mail field
# (forms, admin) and no mail can ever reach anyone.
PSEUDONYM_EMAIL = "utilisateur-supprime-{id}@anonyme.invalid"
ERASURE_REASON = "Compte anonymisé à la demande de la personne (droit à l'effacement, RGPD)."
CONTACT_FIELDS = ("email", "phone")
EXPORT_FORMAT_VERSION = 1
DATABASE_SESSIONS = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def pseudonym(user: User) -> str:
    return PSEUDONYM.format(id=user.pk)


def is_forgotten(user: User) -> bool:
    return user.email == PSEUDONYM_EMAIL.format(id=user.pk)


def _mention_fields() -> dict[type, tuple[str, ...]]:
    """Free-text fields where people write addresses by hand: searched (export) and reported (erasure)."""
    from pilotage.programme.models import Contract, Meeting

    return {Meeting: ("participants", "minutes", "decisions"), Contract: ("signatories",)}


def _mentions(email: str) -> list[tuple[Any, list[str]]]:
    """The records whose free text mentions the address, with the fields that do."""
    found = []
    for model, names in _mention_fields().items():
        query = Q()
        for name in names:
            query |= Q(**{f"{name}__icontains": email})
        for record in model.objects.filter(query).order_by("pk"):
            found.append((record, [name for name in names if email.lower() in (getattr(record, name) or "").lower()]))
    return found


def _governance_members(email: str):
    from pilotage.programme.models import GovernanceMember

    return GovernanceMember.objects.filter(email__iexact=email).select_related("territory")


def _authored(user: User, email: str):
    """History entries written by the user: linked to the account, or labelled with its address (an entry whose
    account link was lost keeps the label)."""
    return ChangeLog.objects.filter(Q(user=user) | Q(user__isnull=True, user_label__iexact=email))


def _status_changes(email: str):
    from pilotage.projects.models import ProjectStatusChange

    return ProjectStatusChange.objects.filter(by_label__iexact=email)


def _throttle_rows(email: str):
    """The login throttling counters kept under the address (failed logins, password reset requests), if any."""
    from . import models

    throttle = getattr(models, "LoginThrottle", None)
    if throttle is None:
        return None
    return throttle.objects.filter(key=email.strip().lower(), scope__in=("account", "reset_address"))


def _user_sessions(user: User) -> list[Session]:
    """The open database sessions of the user (the session store holds no index by user: each is decoded)."""
    if settings.SESSION_ENGINE not in DATABASE_SESSIONS:
        return []
    found = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            found.append(session)
    return found


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date | datetime.datetime) else value


def _record_label(entry: ChangeLog) -> str:
    model = entry.content_type.model_class() if entry.content_type_id else None
    return str(model._meta.verbose_name) if model else ""


def _role_scope(role: Role) -> dict | None:
    if role.region_id:
        return {"type": "region", "code": role.region_id, "name": role.region.name}
    if role.territory_id:
        return {"type": "territory", "code": role.territory.code, "name": role.territory.name}
    if role.project_id:
        return {"type": "project", "code": role.project.id_projet, "name": role.project.title}
    if role.organisation_id:
        return {"type": "funder", "code": None, "name": role.organisation.name}
    return None


def find_user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def export_user_data(user: User) -> dict[str, Any]:
    """Everything the platform holds about the user, as JSON-ready data (the "Mes données" download)."""
    email = user.email
    roles = Role.objects.filter(user=user).select_related("region", "territory", "project", "organisation")
    authored = _authored(user, email).select_related("content_type").order_by("at", "id")
    about = history_of(user).order_by("at", "id")
    return {
        "format": EXPORT_FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "description": (
            "Données personnelles détenues par la plateforme Pilotage (Territoires d'industrie) sur ce compte. "
            "Registre des traitements : docs/privacy.md."
        ),
        "account": {
            "id": user.pk,
            "email": email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "has_password": user.has_usable_password(),
        },
        "roles": [{"kind": r.kind, "label": r.get_kind_display(), "scope": _role_scope(r)} for r in roles],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in ApiToken.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "open_sessions": len(_user_sessions(user)),
        "login_throttling": [
            {
                "scope": t.scope,
                "failures": t.failures,
                "since": _iso(t.window_start),
                "locked_until": _iso(t.locked_until),
            }
            for t in (_throttle_rows(email) or [])
        ],
        # The writes the user made: when, what, why. The records' contents are the programme's, not the user's
        # (and may hold other people's details): only the names of the fields changed are given.
        "history_authored": [
            {
                "at": _iso(e.at),
                "source": e.source,
                "action": e.action,
                "record": _record_label(e),
                "object": e.object_repr,
                "object_id": e.object_pk,
                "reason": e.reason,
                "fields_changed": sorted(
                    name
                    for name in set(e.before or {}) | set(e.after or {})
                    if (e.before or {}).get(name) != (e.after or {}).get(name)
                ),
            }
            for e in authored.iterator()
        ],
        "project_status_changes": [
            {"project": c.project.id_projet, "status": c.status, "at": _iso(c.at), "reason": c.reason}
            for c in _status_changes(email).select_related("project").order_by("at", "id")
        ],
        # The account's own history (invitation, roles given or removed, deactivation); its authors are other
        # people, named by the origin of the change only.
        "account_history": [
            {
                "at": _iso(e.at),
                "source": e.source,
                "action": e.action,
                "reason": e.reason,
                "before": e.before,
                "after": e.after,
            }
            for e in about
        ],
        "governance_memberships": [
            {
                "territory": m.territory.code,
                "territory_name": m.territory.name,
                "role": m.role,
                "role_label": m.get_role_display(),
                "full_name": m.full_name,
                "position": m.position,
                "organisation": m.organisation,
                "email": m.email,
                "phone": m.phone,
                "starts_on": _iso(m.starts_on),
                "ends_on": _iso(m.ends_on),
            }
            for m in _governance_members(email).order_by("territory__code", "role", "pk")
        ],
        "mentions": [
            {"record": str(record._meta.verbose_name), "object": str(record), "fields": names}
            for record, names in _mentions(email)
        ],
        "admin_actions": [
            {
                "at": _iso(e.action_time),
                "object": e.object_repr,
                "action_flag": e.action_flag,
                "message": e.get_change_message(),
            }
            for e in LogEntry.objects.filter(user=user).order_by("action_time", "pk")
        ],
    }


@dataclass
class ErasureReport:
    user_id: int
    pseudonym: str
    already_done: bool = False
    history_entries: int = 0
    status_changes: int = 0
    governance_contacts: int = 0
    tokens_revoked: int = 0
    roles_removed: int = 0
    sessions_ended: int = 0
    mentions_left: list[str] = field(default_factory=list)


def _scrub_snapshot(state: dict | None, replacements: dict[str, str]) -> dict | None:
    """The snapshot with each field whose value is an erased one set to its replacement."""
    if not state:
        return state
    return {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in state.items()}


def _erase_governance_contacts(email: str, report: ErasureReport) -> None:
    """Blank the contact details of the governance members with this address, in the records and in their history
    (the names and roles stay: they are public)."""
    from pilotage.programme.models import GovernanceMember

    kind = ContentType.objects.get_for_model(GovernanceMember)
    for member in _governance_members(email).select_for_update():
        erased = {value: "" for value in (member.email, member.phone) if value}
        for entry in ChangeLog.objects.filter(content_type=kind, object_pk=str(member.pk)):
            before = _scrub_contacts(entry.before, erased)
            after = _scrub_contacts(entry.after, erased)
            if (before, after) != (entry.before, entry.after):
                ChangeLog.objects.filter(pk=entry.pk).update(before=before, after=after)
        GovernanceMember.objects.filter(pk=member.pk).update(email="", phone="")
        report.governance_contacts += 1


def _scrub_contacts(state: dict | None, erased: dict[str, str]) -> dict | None:
    if not state:
        return state
    return {k: erased.get(v, v) if k in CONTACT_FIELDS and isinstance(v, str) else v for k, v in state.items()}


def forget_user(user: User, *, source: str = Source.COMMAND, by_self: bool = False) -> ErasureReport:
    """Anonymise the account (see the module's docstring); idempotent. Returns what was done.

    `by_self`: the person asked from their account page (the erasure is recorded as theirs, under the pseudonym);
    otherwise the operator ran `pilotage forget_user` for a request received by mail.
    """
    report = ErasureReport(user.pk, pseudonym(user))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if is_forgotten(locked):
            report.already_done = True
            return report
        old_email, label = locked.email, pseudonym(locked)
        new_email = PSEUDONYM_EMAIL.format(id=locked.pk)
        before = {**_account_state(locked), "email": new_email}

        report.history_entries = _authored(locked, old_email).update(user=locked, user_label=label)
        report.status_changes = _status_changes(old_email).update(by_label=label)
        _erase_governance_contacts(old_email, report)
        now = timezone.now()
        report.tokens_revoked = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=now)
        report.roles_removed, _ = Role.objects.filter(user=locked).delete()
        throttle = _throttle_rows(old_email)
        if throttle is not None:
            throttle.delete()
        sessions = _user_sessions(locked)
        Session.objects.filter(pk__in=[s.pk for s in sessions]).delete()
        report.sessions_ended = len(sessions)

        locked.email = new_email
        locked.first_name, locked.last_name = "Utilisateur supprimé", f"n°{locked.pk}"
        locked.is_active = locked.is_staff = locked.is_superuser = False
        locked.last_login = None
        locked.set_unusable_password()  # also voids sessions kept elsewhere (their password hash no longer matches)
        locked.save()
        record_change(
            locked,
            Action.UPDATE,
            before,
            _account_state(locked),
            user=locked if by_self else None,
            user_label=label if by_self else "pilotage forget_user",
            source=source,
            reason=ERASURE_REASON,
        )
        # The account's own history named it by its address: the pseudonym replaces it there too.
        replacements = {old_email: new_email}
        for entry in history_of(locked):
            ChangeLog.objects.filter(pk=entry.pk).update(
                before=_scrub_snapshot(entry.before, replacements),
                after=_scrub_snapshot(entry.after, replacements),
                object_repr=label,
            )
        user_type = ContentType.objects.get_for_model(User)
        LogEntry.objects.filter(content_type=user_type, object_id=str(locked.pk)).update(object_repr=label)
        # Other records named after the account (an API token is "pil_… (address)") in either log.
        for log in (ChangeLog, LogEntry):
            log.objects.filter(object_repr__contains=old_email).update(
                object_repr=Replace(F("object_repr"), Value(old_email), Value(label))
            )
        report.mentions_left = [f"{record._meta.verbose_name} : {record}" for record, _names in _mentions(old_email)]
    return report


def _account_state(user: User) -> dict[str, Any]:
    """The history snapshot of an account, as the national user pages record it."""
    from pilotage.programme.national import user_state

    return user_state(user)


@dataclass
class Holdings:
    """What the "Mes données" page shows: counts of what the platform holds about the user."""

    roles: int
    tokens: int
    active_tokens: int
    history_entries: int
    status_changes: int
    governance_memberships: list[str]
    mentions: int


def holdings(user: User) -> Holdings:
    tokens = ApiToken.objects.filter(user=user)
    memberships = [f"{m.get_role_display()} — {m.territory.name}" for m in _governance_members(user.email)]
    return Holdings(
        roles=Role.objects.filter(user=user).count(),
        tokens=tokens.count(),
        active_tokens=tokens.filter(revoked_at__isnull=True).count(),
        history_entries=_authored(user, user.email).count(),
        status_changes=_status_changes(user.email).count(),
        governance_memberships=memberships,
        mentions=len(_mentions(user.email)),
    )
