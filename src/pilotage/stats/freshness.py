"""How fresh each territory's records are, and what is late: for the regional and territorial dashboards.

**Last update** of a kind of record, for a territory: the latest moment a write to a record of that kind belonging
to the territory was recorded, that is the latest of
- the `core.ChangeLog` entries of those records (every write made through the services, imports and workflows), and
- the records' own `updated_at` where the model has one (the territory itself, its projects).
A kind with no recorded write (records bulk-loaded without history, or no record at all) has no last update (None).
Only records the viewer may see count: a visitor's "projects" are the public ones.

**Late**, always judged on `today` (the freshness of the data now, whatever date a dashboard shows):
- a plan is late when it is the latest version of the territory's action plan for its phase, its expected
  validation date is strictly before today, and it is not validated (validated means status "validated" with a
  Regional Council decision on or before today);
- a project is late when its end date is strictly before today and its status is neither completed nor abandoned;
- a project's indicators are not measured this year when the project (not abandoned) has at least one indicator
  value with a target, and no measured value dated in today's calendar year.

Every list costs a fixed number of queries whatever the number of territories: one per kind of record and one per
rule, each grouped by territory (see `territory_freshness`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from pilotage.core.models import ChangeLog
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, Territory
from pilotage.projects.models import IndicatorValue, Project, ProjectStatus

from .figures import Scope, today

# The kinds of record whose last update is shown, in the order shown.
KINDS: dict[str, str] = {
    "territory": _("Fiche du territoire"),
    "governance": _("Gouvernance"),
    "contracts": _("Protocoles et contrats"),
    "action_plans": _("Plan d'actions"),
    "projects": _("Projets"),
}
# Kinds whose records belong to a territory through a `territory` foreign key and carry no `updated_at`.
CHILD_MODELS = {"governance": GovernanceMember, "contracts": Contract, "action_plans": ActionPlan}
CLOSED_STATUSES = (ProjectStatus.COMPLETED, ProjectStatus.ABANDONED)


@dataclass
class TerritoryFreshness:
    territory: Territory
    updates: dict[str, datetime.datetime | None] = field(default_factory=dict)
    late_plan_expected_on: datetime.date | None = None  # the earliest expected date of a late plan
    late_projects: int = 0
    unmeasured_projects: int = 0

    @property
    def last_update(self) -> datetime.datetime | None:
        known = [moment for moment in self.updates.values() if moment]
        return max(known) if known else None

    @property
    def last_updates(self) -> list[tuple[str, datetime.datetime | None]]:
        return [(label, self.updates.get(kind)) for kind, label in KINDS.items()]

    @property
    def late_plan(self) -> bool:
        return self.late_plan_expected_on is not None

    @property
    def late_total(self) -> int:
        return int(self.late_plan) + self.late_projects + self.unmeasured_projects


def _last_logged(content_type: ContentType) -> Subquery:
    """The moment of the last history entry of the outer record (ChangeLog keys records by their key as text)."""
    entries = ChangeLog.objects.filter(content_type=content_type, object_pk=Cast(OuterRef("pk"), CharField()))
    return Subquery(entries.order_by("-at").values("at")[:1])


def _later(a: datetime.datetime | None, b: datetime.datetime | None) -> datetime.datetime | None:
    return max(a, b) if a and b else (a or b)


def scope_projects(scope: Scope) -> QuerySet[Project]:
    """The viewer's projects in the scope's territories (and phase): what the project rules look at."""
    projects = scope.projects.filter(territory__in=scope.territories.values("pk"))
    return projects.filter(phase__code=scope.phase) if scope.phase else projects


def late_plans(scope: Scope, on: datetime.date | None = None) -> QuerySet[ActionPlan]:
    on = on or today()
    plans = ActionPlan.objects.filter(territory__in=scope.territories.values("pk"))
    if scope.phase:
        plans = plans.filter(phase__code=scope.phase)
    newer = ActionPlan.objects.filter(
        territory=OuterRef("territory"), phase=OuterRef("phase"), version__gt=OuterRef("version")
    )
    validated = Q(status=ActionPlan.Status.VALIDATED, decided_on__lte=on)
    return plans.filter(~Exists(newer), expected_validation_on__lt=on).exclude(validated)


def late_projects(scope: Scope, on: datetime.date | None = None) -> QuerySet[Project]:
    on = on or today()
    return scope_projects(scope).filter(end_on__lt=on).exclude(status__in=CLOSED_STATUSES)


def unmeasured_projects(scope: Scope, on: datetime.date | None = None) -> QuerySet[Project]:
    on = on or today()
    values = IndicatorValue.objects.filter(project=OuterRef("pk"))
    targeted = Exists(values.filter(target__isnull=False))
    measured = Exists(values.filter(measured__isnull=False, on__year=on.year))
    return scope_projects(scope).exclude(status=ProjectStatus.ABANDONED).filter(targeted).exclude(measured)


def _count_by_territory(projects: QuerySet[Project]) -> dict[int, int]:
    return dict(projects.order_by().values_list("territory_id").annotate(n=Count("pk")))


def territory_freshness(scope: Scope, on: datetime.date | None = None) -> list[TerritoryFreshness]:
    """One row per territory of the scope, by name (8 queries, plus content types on a cold cache)."""
    on = on or today()
    content_types = ContentType.objects.get_for_models(Territory, *CHILD_MODELS.values(), for_concrete_models=False)
    territories = scope.territories.select_related("region").annotate(logged=_last_logged(content_types[Territory]))
    rows = {
        t.pk: TerritoryFreshness(t, {"territory": _later(t.updated_at, t.logged)})
        for t in territories.order_by("name", "code").distinct()
    }
    ids = scope.territories.values("pk")
    for kind, model in CHILD_MODELS.items():
        records = model.objects.filter(territory__in=ids)
        if scope.phase and kind != "governance":
            records = records.filter(phase__code=scope.phase)
        for territory_id, logged in records.annotate(logged=_last_logged(content_types[model])).values_list(
            "territory_id", "logged"
        ):
            row = rows[territory_id]
            row.updates[kind] = _later(row.updates.get(kind), logged)
    for territory_id, updated in (
        scope_projects(scope).order_by().values_list("territory_id").annotate(last=Max("updated_at"))
    ):
        rows[territory_id].updates["projects"] = updated
    for territory_id, expected in (
        late_plans(scope, on).order_by().values_list("territory_id").annotate(first=Min("expected_validation_on"))
    ):
        rows[territory_id].late_plan_expected_on = expected
    for territory_id, n in _count_by_territory(late_projects(scope, on)).items():
        rows[territory_id].late_projects = n
    for territory_id, n in _count_by_territory(unmeasured_projects(scope, on)).items():
        rows[territory_id].unmeasured_projects = n
    return list(rows.values())


# `?tri=` values of the regional list: each sorts in its natural direction, "-" in front reverses it.
_OLDEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)
SORTS: dict[str, tuple[str, Callable[[TerritoryFreshness], object], bool]] = {
    "nom": (_("Territoire"), lambda r: (r.territory.name.casefold(), r.territory.code), False),
    "maj": (_("Mise à jour"), lambda r: r.last_update or _OLDEST, False),
    "retard": (_("Retards"), lambda r: r.late_total, True),
    "plan": (_("Plan en retard"), lambda r: r.late_plan_expected_on or datetime.date.max, False),
    "projets": (_("Projets en retard"), lambda r: r.late_projects, True),
    "indicateurs": (_("Indicateurs non mesurés"), lambda r: r.unmeasured_projects, True),
}
DEFAULT_SORT = "retard"


def parse_sort(value: str | None) -> tuple[str, bool]:
    """(sort key, reversed?) from a `?tri=` value; an unknown value falls back to the default order."""
    value = (value or "").strip()
    key = value.removeprefix("-")
    if key not in SORTS:
        return DEFAULT_SORT, False
    return key, value.startswith("-")


def sort_rows(rows: list[TerritoryFreshness], value: str | None) -> list[TerritoryFreshness]:
    key, flipped = parse_sort(value)
    _label, sort_key, descending = SORTS[key]
    by_name = sorted(rows, key=SORTS["nom"][1])  # a stable sort: ties stay in name order, either way
    return sorted(by_name, key=sort_key, reverse=descending != flipped)
