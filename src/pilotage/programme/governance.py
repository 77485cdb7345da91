"""Write use cases of a territory's governance: its members (add, edit, end a mandate) and its installation date.

Each function takes the acting user and validated data, checks the permission (`permissions.require_territory`)
and the business rules (ValidationError in French, keyed by field), writes in one transaction on the freshly
locked row, checks the version the form was opened on (`editing.check_version`) and records the history.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from pilotage.core.history import Action, Source, record_change

from .editing import check_version, record_state
from .models import GovernanceMember, Territory
from .permissions import require_territory
from .services import territory_state

Role = GovernanceMember.Role
MEMBER_FIELDS = ("role", "full_name", "position", "organisation", "email", "phone", "starts_on", "ends_on")
MEMBER_HISTORY = ("territory", *MEMBER_FIELDS)
# The binôme élu-industriel: one person in each of these roles at a time.
BINOME_ROLES = (Role.ELECTED_LEAD, Role.INDUSTRIAL_LEAD)
INSTALLATION_FIELDS = ("governance_installed_on",)


def fr_date(value: datetime.date) -> str:
    return date_format(value, "j F Y")


def check_mandate(territory: Territory, data: dict[str, Any], member: GovernanceMember | None = None) -> None:
    """A mandate ends after it starts; a binôme role is held by one person at a time."""
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("La fin du mandat ne peut pas précéder son début.")})
    today = timezone.localdate()
    if data.get("role") not in BINOME_ROLES or (ends_on and ends_on < today):
        return
    others = territory.governance_members.filter(role=data["role"]).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    if member is not None:
        others = others.exclude(pk=member.pk)
    holder = others.first()
    if holder is not None:
        raise ValidationError(
            {
                "role": _(
                    "%(name)s est déjà %(role)s en fonction : mettez d'abord fin à son mandat "
                    "(le binôme compte un élu et un industriel)."
                )
                % {"name": holder.full_name, "role": holder.get_role_display()}
            }
        )


def add_member(
    user, territory: Territory, data: dict[str, Any], *, source: str = Source.WEB, reason: str = ""
) -> GovernanceMember:
    require_territory(user, territory)
    with transaction.atomic():
        Territory.objects.select_for_update().get(pk=territory.pk)  # one writer at a time per governance
        check_mandate(territory, data)
        member = GovernanceMember(territory=territory, **{k: data.get(k) or _blank(k) for k in MEMBER_FIELDS})
        member.full_clean()
        member.save()
        record_change(
            member, Action.CREATE, None, record_state(member, MEMBER_HISTORY), user=user, source=source, reason=reason
        )
    return member


def edit_member(
    user,
    member: GovernanceMember,
    data: dict[str, Any],
    *,
    base: dict | None,
    source: str = Source.WEB,
    reason: str = "",
) -> GovernanceMember:
    """Change a member's details; `base` is the state the form was opened on (EditConflict if it changed)."""
    require_territory(user, member.territory)
    with transaction.atomic():
        Territory.objects.select_for_update().get(pk=member.territory_id)
        locked = GovernanceMember.objects.select_for_update().select_related("territory").get(pk=member.pk)
        check_version(locked, MEMBER_FIELDS, base, data)
        check_mandate(locked.territory, data, locked)
        before = record_state(locked, MEMBER_HISTORY)
        for name in MEMBER_FIELDS:
            setattr(locked, name, data.get(name) or _blank(name))
        locked.full_clean()
        after = record_state(locked, MEMBER_HISTORY)
        if after != before:
            locked.save()
            record_change(locked, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return locked


def end_mandate(
    user,
    member: GovernanceMember,
    *,
    ends_on: datetime.date,
    base: dict | None,
    reason: str = "",
    source: str = Source.WEB,
) -> GovernanceMember:
    """End a member's mandate on a date (not before it started); the member stays in the governance's history."""
    require_territory(user, member.territory)
    with transaction.atomic():
        locked = GovernanceMember.objects.select_for_update().get(pk=member.pk)
        check_version(locked, MEMBER_FIELDS, base, {"ends_on": ends_on})
        if locked.ends_on and locked.ends_on < timezone.localdate():
            raise ValidationError(
                {"ends_on": _("Ce mandat a déjà pris fin le %(date)s.") % {"date": fr_date(locked.ends_on)}}
            )
        if locked.starts_on and ends_on < locked.starts_on:
            raise ValidationError(
                {
                    "ends_on": _("La fin du mandat ne peut pas précéder son début (%(date)s).")
                    % {"date": fr_date(locked.starts_on)}
                }
            )
        before = record_state(locked, MEMBER_HISTORY)
        locked.ends_on = ends_on
        locked.save(update_fields=["ends_on"])
        record_change(
            locked,
            Action.UPDATE,
            before,
            record_state(locked, MEMBER_HISTORY),
            user=user,
            source=source,
            reason=reason or _("Fin du mandat"),
        )
    return locked


def set_governance_installed_on(
    user,
    territory: Territory,
    installed_on: datetime.date | None,
    *,
    base: dict | None,
    reason: str = "",
    source: str = Source.WEB,
) -> Territory:
    """Record the date the governance was installed (a past fact: never in the future), or clear it."""
    require_territory(user, territory)
    if installed_on and installed_on > timezone.localdate():
        raise ValidationError({"governance_installed_on": _("La date d'installation ne peut pas être dans le futur.")})
    with transaction.atomic():
        locked = Territory.objects.select_for_update().get(pk=territory.pk)
        check_version(locked, INSTALLATION_FIELDS, base, {"governance_installed_on": installed_on})
        if locked.governance_installed_on == installed_on:
            return locked
        phases = set(locked.phases.values_list("code", flat=True))
        epcis = set(locked.epcis.values_list("pk", flat=True))
        before = territory_state(locked, phases, epcis)
        locked.governance_installed_on = installed_on
        locked.save(update_fields=["governance_installed_on", "updated_at"])
        after = territory_state(locked, phases, epcis)
        record_change(locked, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return locked


def _blank(name: str) -> Any:
    """The empty value of a field: "" for text, None for a date."""
    return None if name in ("starts_on", "ends_on") else ""
