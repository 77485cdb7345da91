"""What the dashboards show around the headline figures: month-by-month progress and the counts behind the maps.

The figures themselves come from `figures.py`, the one place where each is defined; the series here count the same
records (same conditions, same scope) at each month's end, in one grouped query per series whatever the number of
months or records, and their tests check them against `programme_figures` at those dates.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Count, Min

from pilotage.programme.models import ActionPlan

from .figures import Scope, reported_projects

# The programme was launched on 22 November 2018; a dashboard without a phase filter starts there.
PROGRAMME_LAUNCH = datetime.date(2018, 11, 22)

# The region codes of dsfr-chart's <map-chart level="reg"> (its own letter codes; overseas by department number).
DSFR_CHART_REGIONS = {
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
    "11": "IDF",
    "24": "CVL",
    "27": "BFC",
    "28": "NOR",
    "32": "HDF",
    "44": "GES",
    "52": "PDL",
    "53": "BRE",
    "75": "NAQ",
    "76": "OCC",
    "84": "ARA",
    "93": "PAC",
    "94": "20R",
}


@dataclass(frozen=True)
class ProgressPoint:
    on: datetime.date  # the month's last day, or the dashboard's date for its own month
    governance_installed: int
    action_plans_validated: int
    projects: int


def month_ends(start: datetime.date, as_of: datetime.date) -> list[datetime.date]:
    """The last day of each month from `start`'s month to `as_of`'s, the last one being `as_of` itself."""
    if start > as_of:
        return []
    points = []
    year, month = start.year, start.month
    while (year, month) <= (as_of.year, as_of.month):
        end = datetime.date(year, month, calendar.monthrange(year, month)[1])
        points.append(min(end, as_of))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return points


def _cumulative(dates: list[datetime.date], points: list[datetime.date]) -> list[int]:
    """How many of `dates` fall on or before each point."""
    dates = sorted(dates)
    return [bisect.bisect_right(dates, point) for point in points]


def progress(scope: Scope, as_of: datetime.date, start: datetime.date) -> list[ProgressPoint]:
    """Governance installed, action plans validated and projects reported at each month's end (3 queries).

    Same definitions as the figures of the same names: a territory counts from its governance date, from its first
    Regional Council validation (in the phase when filtered), a project from its reporting date.
    """
    points = month_ends(start, as_of)
    if not points:
        return []
    installed = scope.territories.filter(governance_installed_on__lte=as_of).values_list(
        "pk", "governance_installed_on"
    )
    plans = ActionPlan.objects.filter(
        territory__in=scope.territories.values("pk"), status=ActionPlan.Status.VALIDATED, decided_on__lte=as_of
    )
    if scope.phase:
        plans = plans.filter(phase__code=scope.phase)
    first_validations = plans.order_by().values_list("territory").annotate(first=Min("decided_on"))
    # Counted by day in SQL and put into months here: a month function would run on every project row (on SQLite
    # a Python function per row), while the days are a few thousand whatever the number of projects.
    by_day = reported_projects(scope, as_of).order_by().values_list("reported_on").annotate(n=Count("pk"))
    by_month: dict[datetime.date, int] = {}
    for day, n in by_day:
        month = day.replace(day=1)
        by_month[month] = by_month.get(month, 0) + n
    months, counts = [], []
    for month, n in sorted(by_month.items()):
        months.append(month)
        counts.append(n)
    running = [sum(counts[: i + 1]) for i in range(len(counts))]
    governance = _cumulative([day for _pk, day in set(installed)], points)
    validated = _cumulative([day for _pk, day in first_validations], points)
    projects = []
    for point in points:
        i = bisect.bisect_right(months, point)  # the months starting on or before this point
        projects.append(running[i - 1] if i else 0)
    return [ProgressPoint(*row) for row in zip(points, governance, validated, projects, strict=True)]


def projects_by_region(scope: Scope, as_of: datetime.date) -> dict[str, int]:
    """The `projects` figure split by the region of the projects' territories (1 query)."""
    rows = reported_projects(scope, as_of).order_by().values_list("territory__region_id").annotate(n=Count("pk"))
    return dict(rows)


def territories_by_region(scope: Scope) -> dict[str, int]:
    """The `territories` figure split by region (1 query)."""
    return dict(scope.territories.order_by().values_list("region_id").annotate(n=Count("pk", distinct=True)))


def projects_by_department(scope: Scope, as_of: datetime.date) -> dict[str | None, int]:
    """The `projects` figure split by the department of the projects' commune; None for those without one."""
    rows = reported_projects(scope, as_of).order_by().values_list("commune__department_id").annotate(n=Count("pk"))
    return dict(rows)
