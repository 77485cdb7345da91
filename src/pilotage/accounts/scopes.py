"""Who may see and change what: one queryset constraint per model, used by pages, API, exports and imports.

A record outside a user's scope answers 404 (its existence is not leaked); a record they may see but not
change answers 403 to a write.
"""

from django.db.models import Q

from .models import Role

K = Role.Kind


def roles_of(user) -> list[Role]:
    """The user's roles, loaded once per request/user object."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_pilotage_roles", None)
    if cached is None:
        cached = list(Role.objects.filter(user=user).select_related("region", "territory", "project", "organisation"))
        user._pilotage_roles = cached
    return cached


def is_national(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or any(r.kind == K.NATIONAL for r in roles_of(user))


NO_PROJECT = Q(pk__in=[])


def _any(qs: list[Q]) -> Q:
    out = NO_PROJECT
    for q in qs:
        out |= q
    return out


def project_visibility(user) -> Q | None:
    """The constraint on projects a user may read; None means everything."""
    scope = project_scope(user)
    return None if scope is None else Q(public=True) | scope


def project_scope(user) -> Q | None:
    """The projects a user's roles give them to read, public or not (None: all); `project_visibility` adds the
    public ones. Reading a project as it was when it was not public needs it in this scope."""
    if is_national(user):
        return None
    allowed = []
    for role in roles_of(user):
        if role.kind in (K.REGIONAL_PILOT, K.STATE_SERVICES) and role.region_id:
            allowed.append(Q(territory__region_id=role.region_id))
        elif role.kind == K.TERRITORY_TEAM and role.territory_id:
            allowed.append(Q(territory_id=role.territory_id))
        elif role.kind == K.PROJECT_OWNER and role.project_id:
            allowed.append(Q(pk=role.project_id))
        elif role.kind == K.FUNDER and role.organisation_id:
            allowed.append(Q(pk__in=_funded_by(role.organisation_id)))
    return _any(allowed)


def project_edition(user) -> Q:
    """The constraint on projects a user may change (their fields, funding lines, indicators, milestones)."""
    allowed = []
    for role in roles_of(user):
        if role.kind == K.TERRITORY_TEAM and role.territory_id:
            allowed.append(Q(territory_id=role.territory_id))
        elif role.kind == K.PROJECT_OWNER and role.project_id:
            allowed.append(Q(pk=role.project_id))
    return _any(allowed)


def project_creation(user) -> Q:
    """Territories a user may create projects in (and move projects into): a territory team its own. The same people
    as `project_edition`, so that whoever creates a project may then change it."""
    allowed = [
        Q(pk=role.territory_id) for role in roles_of(user) if role.kind == K.TERRITORY_TEAM and role.territory_id
    ]
    return _any(allowed)


def funding_decision(user) -> Q:
    """The funding lines on which a user records decisions (granted amount, date, state): a funder its own lines,
    the State services the lines of their region's projects."""
    allowed = []
    for role in roles_of(user):
        if role.kind == K.FUNDER and role.organisation_id:
            allowed.append(Q(funder_id=role.organisation_id))
        elif role.kind == K.STATE_SERVICES and role.region_id:
            allowed.append(Q(project__territory__region_id=role.region_id))
    return _any(allowed)


def territory_edition(user) -> Q:
    """Territories a user may manage: a regional pilot its region's, a territory team its own."""
    if is_national(user):
        return Q()
    allowed = []
    for role in roles_of(user):
        if role.kind == K.REGIONAL_PILOT and role.region_id:
            allowed.append(Q(region_id=role.region_id))
        elif role.kind == K.TERRITORY_TEAM and role.territory_id:
            allowed.append(Q(pk=role.territory_id))
    return _any(allowed)


def _funded_by(organisation_id: int):
    from pilotage.projects.models import FundingLine

    return FundingLine.objects.filter(funder_id=organisation_id).values("project_id")


def is_territory_team(user, territory) -> bool:
    return any(r.kind == K.TERRITORY_TEAM and r.territory_id == territory.pk for r in roles_of(user))


def is_regional_pilot(user, region_id: str) -> bool:
    return any(r.kind == K.REGIONAL_PILOT and r.region_id == region_id for r in roles_of(user))


def is_state_services(user, region_id: str) -> bool:
    return any(r.kind == K.STATE_SERVICES and r.region_id == region_id for r in roles_of(user))


def users_with_role(kind: str, **scope):
    """The active users holding a role with this scope (for notifications)."""
    from .models import User

    return User.objects.filter(is_active=True, roles__kind=kind, **{f"roles__{k}": v for k, v in scope.items()})
