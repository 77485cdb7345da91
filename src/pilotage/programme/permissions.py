"""Who may manage a territory's governance, contracts and meetings, and a Region's meetings; who may read meetings.

Built on `accounts.scopes`: a territory is managed by its territory team, its region's regional pilot and the
national coordination (`territory_edition`); a Region's meetings by its regional pilot and the national
coordination. Territories are public records, so a user who may not manage one gets 403, never 404.

Meetings are not all public. A meeting is read by those who manage it, by the State services and the territory
teams of its region, by the national coordination, and by everybody once it is past and flagged public.
Contracts and their documents are public documents of the programme: everybody reads them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from pilotage.accounts.models import Role
from pilotage.accounts.scopes import is_national, is_regional_pilot, roles_of, territory_edition

from .models import Meeting, Territory

K = Role.Kind


def can_manage_territory(user, territory: Territory) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_national(user):
        return True
    return Territory.objects.filter(territory_edition(user), pk=territory.pk).exists()


def can_manage_region(user, region_code: str) -> bool:
    return is_national(user) or is_regional_pilot(user, region_code)


def require_territory(user, territory: Territory) -> None:
    if not can_manage_territory(user, territory):
        raise PermissionDenied("Vous ne pouvez pas modifier ce territoire.")


def require_region(user, region_code: str) -> None:
    if not can_manage_region(user, region_code):
        raise PermissionDenied("Vous ne pouvez pas modifier les réunions de cette région.")


def publicly_visible() -> Q:
    """Meetings everybody sees: past and flagged public."""
    return Q(public=True, held_on__lte=timezone.localdate())


def meetings_visible_to(user) -> QuerySet[Meeting]:
    if is_national(user):
        return Meeting.objects.all()
    allowed = publicly_visible()
    for role in roles_of(user):
        if role.kind in (K.REGIONAL_PILOT, K.STATE_SERVICES) and role.region_id:
            allowed |= Q(territory__region_id=role.region_id) | Q(region_id=role.region_id)
        elif role.kind == K.TERRITORY_TEAM and role.territory_id:
            allowed |= Q(territory_id=role.territory_id) | Q(region_id=role.territory.region_id)
    return Meeting.objects.filter(allowed)


def require_meeting(user, meeting: Meeting) -> None:
    """Changing a meeting is managing its territory or its Region."""
    if meeting.territory_id:
        require_territory(user, meeting.territory)
    else:
        require_region(user, meeting.region_id)
