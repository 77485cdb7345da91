"""Programme figures as of a date: the one place where each published figure is defined (PRODUCT.md).

Every figure is counted over the territories in the filter (or their projects); dates are inclusive.
Business dates decide (governance, signature, Regional Council decision, reporting); a project's status is
taken as it stood at `as_of` (its last recorded transition on or before that day, or its first recorded
status when the record was entered later). Each aggregate is one database query, whatever the data size.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from pilotage.programme.models import ActionPlan, Contract, Territory, Theme
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatus, ProjectStatusChange


@dataclass(frozen=True)
class Scope:
    """What the figures are computed over: a set of territories, the visible projects, a phase."""

    territories: QuerySet[Territory]
    projects: QuerySet[Project]
    phase: str | None = None
    # Every territory, seen by a reader of every project ("all") or of the public ones ("public"): the figures are
    # then read from the running totals of ledger.py.
    national: str | None = None


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of `day` in the site's time zone, so that a date bound is inclusive."""
    start_next = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start_next) - datetime.timedelta(microseconds=1)


def today() -> datetime.date:
    return timezone.localdate()


def _euros(value: Decimal | None) -> float:
    return float(round(value or Decimal(0), 2))


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


TERRITORY_FIGURES = (
    "territories",
    "governance_installed",
    "protocols_signed",
    "contracts_signed",
    "action_plans_validated",
    "action_plans_validated_by_year_end",
)
PROJECT_FIGURES = ("projects", "projects_by_theme", "projects_by_status", "funding_by_funder")


def territory_conditions(scope: Scope, as_of: datetime.date) -> dict[str, Q]:
    """Each territory figure as the condition a territory meets to be counted (its list uses the same one)."""
    contracts = Contract.objects.filter(territory=OuterRef("pk"), signed_on__lte=as_of)
    plans = ActionPlan.objects.filter(territory=OuterRef("pk"))
    if scope.phase:
        contracts = contracts.filter(phase__code=scope.phase)
        plans = plans.filter(phase__code=scope.phase)
    validated = Q(Exists(plans.filter(status=ActionPlan.Status.VALIDATED, decided_on__lte=as_of)))
    expected = Q(Exists(plans.filter(expected_validation_on__lte=datetime.date(as_of.year, 12, 31))))
    return {
        "territories": Q(),
        "governance_installed": Q(governance_installed_on__lte=as_of),
        "protocols_signed": Q(Exists(contracts.filter(kind=Contract.Kind.PROTOCOL))),
        "contracts_signed": Q(Exists(contracts.filter(kind=Contract.Kind.CONTRACT))),
        "action_plans_validated": validated,
        # Validated at as_of, or not yet but expected by 31 December of the as_of year.
        "action_plans_validated_by_year_end": validated | expected,
    }


def territory_figures(scope: Scope, as_of: datetime.date) -> dict:
    conditions = territory_conditions(scope, as_of)
    counts = scope.territories.aggregate(
        **{name: Count("pk", filter=condition or None, distinct=True) for name, condition in conditions.items()}
    )
    counts["governance_installed_pct"] = _pct(counts["governance_installed"], counts["territories"])
    return {name: counts[name] for name in (*TERRITORY_FIGURES[:2], "governance_installed_pct", *TERRITORY_FIGURES[2:])}


def counted_territories(scope: Scope, as_of: datetime.date, figure: str) -> QuerySet[Territory]:
    """The territories a territory figure counts."""
    return scope.territories.filter(territory_conditions(scope, as_of)[figure]).distinct()


def reported_projects(scope: Scope, as_of: datetime.date) -> QuerySet[Project]:
    """The projects a figure counts: visible, in the territories of the scope, reported on or before as_of."""
    projects = scope.projects.filter(territory__in=scope.territories.values("pk"), reported_on__lte=as_of)
    if scope.phase:
        projects = projects.filter(phase__code=scope.phase)
    return projects


def with_status_as_of(projects: QuerySet[Project], as_of: datetime.date) -> QuerySet[Project]:
    """Annotate `status_as_of`: the last transition on or before as_of, else the first recorded one."""
    changes = ProjectStatusChange.objects.filter(project=OuterRef("pk"))
    last_before = changes.filter(at__lte=end_of_day(as_of)).order_by("-at", "-id").values("status")[:1]
    first = changes.order_by("at", "id").values("status")[:1]
    return projects.annotate(status_as_of=Coalesce(Subquery(last_before), Subquery(first), F("status")))


def project_figures(scope: Scope, as_of: datetime.date) -> dict:
    projects = reported_projects(scope, as_of)
    ids = projects.values("pk")
    themes = Theme.objects.filter(phase__code=scope.phase) if scope.phase else Theme.objects.all()
    by_theme = {code: 0 for code in themes.values_list("code", flat=True)}
    by_theme |= dict(
        Project.themes.through.objects.filter(project__in=ids)
        .values_list("theme__code")
        .annotate(n=Count("project", distinct=True))
        .order_by()
    )
    by_status = {code: 0 for code in ProjectStatus.values}
    for code, n in (
        with_status_as_of(Project.objects.filter(pk__in=ids), as_of)
        .values_list("status_as_of")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_status[code] = n
    sums = funding_by_funder(ids)
    # Every line has a funder: the totals are the sums of the funders' sums (one pass over the lines, not two).
    return {
        "projects": sum(by_status.values()),
        "projects_by_theme": by_theme,
        "projects_by_status": by_status,
        "funding_requested": _euros(sum((r for r, _g in sums.values()), Decimal(0))),
        "funding_granted": _euros(sum((g for _r, g in sums.values()), Decimal(0))),
        "funding_by_funder": {name: {"requested": _euros(r), "granted": _euros(g)} for name, (r, g) in sums.items()},
    }


def funding_by_funder(project_ids: QuerySet) -> dict[str, tuple[Decimal, Decimal]]:
    """(requested, granted) of the projects' lines by funder name, in the database's order of names (2 queries).

    Summed by funder key in SQL, then by name here: the same sums as grouping by name in SQL, without looking up
    the funder of each of the million lines of the largest programmes.
    """
    by_key = {
        key: (requested or Decimal(0), granted or Decimal(0))
        for key, requested, granted in FundingLine.objects.filter(project__in=project_ids)
        .values_list("funder")
        .annotate(r=Sum("requested"), g=Sum("granted"))
        .order_by()
    }
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for key, name in Organisation.objects.filter(pk__in=list(by_key)).order_by("name").values_list("pk", "name"):
        requested, granted = sums.get(name, (Decimal(0), Decimal(0)))
        sums[name] = (requested + by_key[key][0], granted + by_key[key][1])
    return sums


def counted_projects(scope: Scope, as_of: datetime.date, figure: str, key: str | None = None) -> QuerySet[Project]:
    """The projects a project figure counts; `key` is the theme code, status code or funder name."""
    projects = reported_projects(scope, as_of)
    if figure == "projects_by_theme":
        return projects.filter(themes__code=key)
    if figure == "projects_by_status":
        return with_status_as_of(projects, as_of).filter(status_as_of=key)
    if figure == "funding_by_funder":
        return projects.filter(pk__in=FundingLine.objects.filter(funder__name=key).values("project"))
    return projects


def programme_figures(scope: Scope, as_of: datetime.date | None = None) -> dict:
    as_of = as_of or today()
    if scope.national and settings.PILOTAGE_FIGURES_TOTALS:
        from .ledger import national_figures

        figures = national_figures(scope.phase, scope.national == "public", as_of)
        if figures is not None:
            return {"as_of": as_of.isoformat(), **figures}
    return {"as_of": as_of.isoformat(), **territory_figures(scope, as_of), **project_figures(scope, as_of)}


def build_scope(user, *, region: str | None = None, territory: str | None = None, phase: str | None = None) -> Scope:
    """The scope of a figures request. Unknown region, territory or phase codes raise LookupError."""
    from pilotage.accounts.scopes import NO_PROJECT, project_scope
    from pilotage.geo.models import Region
    from pilotage.programme.models import ProgrammePhase
    from pilotage.programme.queries import territories_visible_to
    from pilotage.projects.queries import projects_visible_to

    territories = territories_visible_to(user)
    if region:
        if not Region.objects.filter(pk=region).exists():
            raise LookupError(f"Région inconnue : {region}")
        territories = territories.filter(region_id=region)
    if territory:
        territories = territories.filter(code=territory)
        if not territories.exists():
            raise LookupError(f"Territoire inconnu : {territory}")
    if phase:
        if not ProgrammePhase.objects.filter(code=phase).exists():
            raise LookupError(f"Phase inconnue : {phase}")
        territories = territories.filter(phases__code=phase)
    national = None
    if not region and not territory:
        reach = project_scope(user)
        national = "all" if reach is None else "public" if reach == NO_PROJECT else None
    return Scope(territories=territories, projects=projects_visible_to(user), phase=phase or None, national=national)
