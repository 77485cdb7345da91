"""Running totals by date of the national figures, so that they are read in a few milliseconds at any scale.

figures.py defines every figure; this module keeps, for the whole programme, the same figures as sums of dated
changes in Fenwick trees over days (one tree per figure key and series): the figures as of a date are the sums of at
most 16 nodes per key, whatever the number of projects and funding lines.

Exactness: each territory's contribution (every dated change its records make to the figures) is computed from its
records by the same rules as figures.py and stored; database triggers (migration 0002) mark a territory as changed in
the same transaction as any write to its records (territory, phases, contracts, action plans, projects, themes,
status changes, funding lines), by any path (services, imports, admin, restore, raw SQL). Before the totals are read,
the changed territories' contributions are recomputed and only the difference is added to the trees. When that cannot
be done at once (another refresh is running, SQLite's write lock is taken, or too many territories changed), the
figures are computed from the records instead: the totals are never read while a change they do not hold is committed.
Recomputing a territory twice is harmless (the difference is then zero); its mark is deleted only by a refresh that
read it before recomputing.
"""

from __future__ import annotations

import datetime
import heapq
import json
import zlib
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from pilotage.programme.models import ActionPlan, Contract, ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatus, ProjectStatusChange

from .models import ChangedTerritory, FigureNode, TerritoryContribution

EPOCH = datetime.date(1970, 1, 1)
SIZE = 1 << 16  # days: up to 2149-06-06
LAST_DAY = EPOCH + datetime.timedelta(days=SIZE - 1)
CHUNK = 1000
# The territory figures, in the order figures.py publishes them.
TERRITORY_KEYS = {
    "territories": "t",
    "governance_installed": "gov",
    "protocols_signed": "proto",
    "contracts_signed": "contract",
    "action_plans_validated": "plan",
    "action_plans_validated_by_year_end": "plan_ye",
}
OUTSIDE_PHASES = "~"  # projects whose phase is not one of their territory's phases


def covers(day: datetime.date) -> bool:
    return EPOCH <= day <= LAST_DAY


def day_index(day: datetime.date) -> int:
    """1 for every day up to the epoch, then one more per day."""
    return max(1, (day - EPOCH).days + 1)


def territory_series(phase_id: int | None) -> str:
    return "T" if phase_id is None else f"T{phase_id}"


def project_series(phase: str, public: bool) -> list[str]:
    """Every project counts in "<phase>:a"; the non-public ones also in "<phase>:x" (public = a − x)."""
    return [f"{phase}:a"] if public else [f"{phase}:a", f"{phase}:x"]


# --- contributions -------------------------------------------------------------------------------------------------


Contribution = dict[tuple[str, int, str], int]


def _cents(value: Decimal | None) -> int:
    return int((value or Decimal(0)) * 100)


def _min(current: datetime.date | None, day: datetime.date) -> datetime.date:
    return day if current is None or day < current else current


def contributions(territory_ids: list[int]) -> dict[int, Contribution]:
    """Each territory's dated changes to the figures, from its records (8 queries for the whole list)."""
    out: dict[int, Contribution] = {tid: defaultdict(int) for tid in territory_ids}
    territories = dict(Territory.objects.filter(pk__in=territory_ids).values_list("pk", "governance_installed_on"))
    phases: dict[int, set[int]] = defaultdict(set)
    for tid, pid in Territory.phases.through.objects.filter(territory_id__in=territory_ids).values_list(
        "territory_id", "programmephase_id"
    ):
        phases[tid].add(pid)
    _add_territory_figures(out, territories, phases, territory_ids)
    _add_project_figures(out, phases, territory_ids)
    return out


def _add_territory_figures(out, territories, phases, territory_ids) -> None:
    first: dict[tuple[int, int | None, str], datetime.date] = {}

    def note(tid: int, phase_id: int, key: str, day: datetime.date) -> None:
        for variant in (None, phase_id):
            if variant is None or variant in phases[tid]:
                first[tid, variant, key] = _min(first.get((tid, variant, key)), day)

    kinds = {Contract.Kind.PROTOCOL: "proto", Contract.Kind.CONTRACT: "contract"}
    for tid, pid, kind, signed_on in Contract.objects.filter(
        territory_id__in=territory_ids, signed_on__isnull=False
    ).values_list("territory_id", "phase_id", "kind", "signed_on"):
        if kind in kinds:
            note(tid, pid, kinds[kind], signed_on)
    for tid, pid, status, decided_on, expected_on in ActionPlan.objects.filter(
        territory_id__in=territory_ids
    ).values_list("territory_id", "phase_id", "status", "decided_on", "expected_validation_on"):
        if status == ActionPlan.Status.VALIDATED and decided_on is not None:
            note(tid, pid, "plan", decided_on)
            note(tid, pid, "plan_ye", decided_on)
        if expected_on is not None:
            # Expected by 31 December of the as_of year: counted from 1 January of the expected year.
            note(tid, pid, "plan_ye", datetime.date(expected_on.year, 1, 1))
    for tid, governance_on in territories.items():
        for variant in (None, *phases[tid]):
            series = territory_series(variant)
            out[tid][series, 1, "t"] += 1
            if governance_on is not None:
                out[tid][series, day_index(governance_on), "gov"] += 1
            for key in ("proto", "contract", "plan", "plan_ye"):
                day = first.get((tid, variant, key))
                if day is not None:
                    out[tid][series, day_index(day), key] += 1


def _add_project_figures(out, phases, territory_ids) -> None:
    projects = {
        pk: (tid, str(pid) if pid in phases[tid] else OUTSIDE_PHASES, public, reported_on, status)
        for pk, tid, pid, public, reported_on, status in Project.objects.filter(
            territory_id__in=territory_ids, reported_on__isnull=False
        ).values_list("pk", "territory_id", "phase_id", "public", "reported_on", "status")
    }
    of_these = {"project__territory_id__in": territory_ids, "project__reported_on__isnull": False}
    changes: dict[int, list[tuple[str, datetime.date]]] = defaultdict(list)
    for pk, status, at in (
        ProjectStatusChange.objects.filter(**of_these)
        .order_by("project_id", "at", "id")
        .values_list("project_id", "status", "at")
    ):
        changes[pk].append((status, timezone.localdate(at)))
    themes: dict[int, set[str]] = defaultdict(set)
    for pk, code in Project.themes.through.objects.filter(**of_these).values_list("project_id", "theme__code"):
        themes[pk].add(code)
    lines: dict[int, list[tuple[int, Decimal | None, Decimal | None]]] = defaultdict(list)
    for pk, funder, requested, granted in FundingLine.objects.filter(**of_these).values_list(
        "project_id", "funder_id", "requested", "granted"
    ):
        lines[pk].append((funder, requested, granted))

    for pk, (tid, phase, public, reported_on, status) in projects.items():
        reported = day_index(reported_on)
        entries: list[tuple[int, str, int]] = [(reported, "p", 1)]
        entries += [(reported, f"th:{code}", 1) for code in themes[pk]]
        entries += _status_entries(reported_on, status, changes[pk])
        for funder, requested, granted in lines[pk]:
            entries += [(reported, f"fr:{funder}", _cents(requested)), (reported, f"fg:{funder}", _cents(granted))]
            entries.append((reported, f"fn:{funder}", 1))
        contribution = out[tid]
        for series in project_series(phase, public):
            for index, key, value in entries:
                contribution[series, index, key] += value


def _status_entries(reported_on, current, changes) -> list[tuple[int, str, int]]:
    """The project's status as of each day from its report on: the last transition on or before that day, else its
    first recorded status, else its current one (figures.with_status_as_of)."""
    before = [status for status, day in changes if day <= reported_on]
    status = before[-1] if before else changes[0][0] if changes else current
    entries = [(day_index(reported_on), f"st:{status}", 1)]
    by_day: dict[datetime.date, str] = {}
    for new, day in changes:
        if day > reported_on:
            by_day[day] = new  # the last transition of the day wins
    for day in sorted(by_day):
        if by_day[day] != status:
            index = day_index(day)
            entries += [(index, f"st:{status}", -1), (index, f"st:{by_day[day]}", 1)]
            status = by_day[day]
    return entries


def _encode(contribution: Contribution) -> bytes:
    rows = [[series, index, key, value] for (series, index, key), value in contribution.items() if value]
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode())


def _decode(data: bytes | memoryview) -> Contribution:
    return {(series, index, key): value for series, index, key, value in json.loads(zlib.decompress(bytes(data)))}


# --- the trees -----------------------------------------------------------------------------------------------------


def _nodes_down(index: int) -> list[int]:
    nodes = []
    while index > 0:
        nodes.append(index)
        index -= index & -index
    return nodes


def _node_deltas(points: dict[int, int]) -> dict[int, int]:
    """The changes to a tree's nodes that add `points` (day index -> change): each node passes its sum to its
    parent, smallest first (the linear Fenwick build, over the touched nodes only)."""
    nodes = {index: change for index, change in points.items() if change}
    waiting = list(nodes)
    heapq.heapify(waiting)
    while waiting:
        index = heapq.heappop(waiting)
        parent = index + (index & -index)
        if parent <= SIZE:
            if parent not in nodes:
                nodes[parent] = 0
                heapq.heappush(waiting, parent)
            nodes[parent] += nodes[index]
    return nodes


UPSERT = (
    'INSERT INTO stats_figurenode (series, "key", node, value) VALUES (%s, %s, %s, %s) '
    'ON CONFLICT (series, node, "key") DO UPDATE SET value = stats_figurenode.value + excluded.value'
)

Points = dict[tuple[str, str], dict[int, int]]


def _add_to_trees(points: Points) -> int:
    # Sorted: concurrent writers of the same nodes always take them in the same order.
    rows = sorted(
        (series, key, node, value)
        for (series, key), changes in points.items()
        for node, value in _node_deltas(changes).items()
        if value
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(UPSERT, rows[start : start + 5000])
    return len(rows)


def _refresh_chunk(territory_ids: list[int], points: Points) -> None:
    old = {
        tid: _decode(data)
        for tid, data in TerritoryContribution.objects.filter(pk__in=territory_ids).values_list("pk", "data")
    }
    new = contributions(territory_ids)
    for tid in territory_ids:
        before, after = old.get(tid, {}), new[tid]
        for entry in before.keys() | after.keys():
            change = after.get(entry, 0) - before.get(entry, 0)
            if change:
                series, index, key = entry
                points[series, key][index] += change
    TerritoryContribution.objects.filter(pk__in=territory_ids).delete()
    kept = [tid for tid in territory_ids if any(new[tid].values())]
    TerritoryContribution.objects.bulk_create(
        [TerritoryContribution(territory_id=tid, data=_encode(new[tid])) for tid in kept]
    )


def refresh(*, wait: bool = True, progress=None) -> bool:
    """Bring the totals up to date with the changed territories; True when no change is left to apply.

    With wait=False, gives up at once (returns False) when another transaction holds what the refresh needs.
    """
    try:
        with transaction.atomic():
            if not _take_lock(wait):
                return False
            # Only the changes committed now: a write in flight adds its rows when it commits (the next refresh).
            marks = list(ChangedTerritory.objects.values_list("pk", "territory_id"))
            changed = sorted({territory for _pk, territory in marks})
            points: Points = defaultdict(lambda: defaultdict(int))
            for start in range(0, len(changed), CHUNK):
                _refresh_chunk(changed[start : start + CHUNK], points)
                if progress:
                    progress(min(start + CHUNK, len(changed)), len(changed))
            _add_to_trees(points)
            read = [pk for pk, _territory in marks]
            for start in range(0, len(read), 5000):
                ChangedTerritory.objects.filter(pk__in=read[start : start + 5000]).delete()
    except OperationalError:
        if wait:
            raise
        return False  # SQLite: another writer holds the database
    return not ChangedTerritory.objects.exists()


def _take_lock(wait: bool) -> bool:
    """Only one refresh at a time (for the current transaction); without waiting, False when another one runs."""
    if connection.vendor != "postgresql":
        return True  # SQLite: atomic() began an IMMEDIATE transaction, which already holds the only write lock
    with connection.cursor() as cursor:
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        cursor.execute(f"SELECT {function}(7311)")
        return wait or bool(cursor.fetchone()[0])


def rebuild(progress=None) -> None:
    """Recompute the totals from scratch (after a bulk load, or to check them)."""
    with transaction.atomic():
        FigureNode.objects.all().delete()
        TerritoryContribution.objects.all().delete()
        ChangedTerritory.objects.all().delete()
        ChangedTerritory.objects.bulk_create(
            [ChangedTerritory(territory_id=pk) for pk in Territory.objects.values_list("pk", flat=True)],
            batch_size=5000,
        )
        refresh(progress=progress)


# --- reading -------------------------------------------------------------------------------------------------------


# A reader brings the totals up to date itself for a few changed territories (an edit, a small import); after a
# migration or an import touching more territories, `pilotage refresh_figures` does it (load_demo does it itself), and
# until then the figures are computed from the records.
READER_REFRESH_LIMIT = 500


def _ready() -> bool:
    """True when the totals hold every committed change (refreshing them if needed, without waiting)."""
    changed = ChangedTerritory.objects.values("territory_id").distinct()[: READER_REFRESH_LIMIT + 1].count()
    if not changed:
        return True
    if changed > READER_REFRESH_LIMIT:
        return False
    if connection.vendor == "sqlite":
        with _short_busy_timeout():
            return refresh(wait=False)
    return refresh(wait=False)


class _short_busy_timeout:
    """A reader does not wait 20 s behind an import to refresh the totals: it computes the figures instead."""

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            self.previous = cursor.fetchone()[0]
            cursor.execute("PRAGMA busy_timeout = 200")

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(self.previous)}")


def _euros(cents: int) -> float:
    return float(round(Decimal(cents) / 100, 2))


def national_figures(phase: str | None, public_only: bool, as_of: datetime.date) -> dict | None:
    """The programme figures of figures.py over every territory, as of a date, from the totals (None when the
    totals cannot answer right now: the caller computes the figures from the records)."""
    if not covers(as_of):
        return None
    phases = dict(ProgrammePhase.objects.values_list("code", "pk"))
    if phase is not None and phase not in phases:
        return None
    if not _ready():
        return None
    phase_id = phases[phase] if phase else None
    project_phases = [str(phase_id)] if phase_id else [*(str(pk) for pk in phases.values()), OUTSIDE_PHASES]
    series = [territory_series(phase_id)] + [f"{p}:{v}" for p in project_phases for v in ("a", "x")]
    nodes = _nodes_down(day_index(as_of))
    totals: dict[str, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT series, "key", SUM(value) FROM stats_figurenode WHERE node IN ({}) AND series IN ({}) '
            'GROUP BY series, "key"'.format(", ".join(["%s"] * len(nodes)), ", ".join(["%s"] * len(series))),
            [*nodes, *series],
        )
        for name, key, total in cursor.fetchall():
            value = int(total)  # PostgreSQL sums bigints as numeric
            if name.startswith("T") or name.endswith(":a"):
                totals[key] += value
            elif public_only:
                totals[key] -= value
    return _figures(totals, phase)


def _figures(totals: dict[str, int], phase: str | None) -> dict:
    out = {name: totals.get(key, 0) for name, key in TERRITORY_KEYS.items()}
    whole = out["territories"]
    out["governance_installed_pct"] = round(100.0 * out["governance_installed"] / whole, 1) if whole else 0.0
    ordered = ("territories", "governance_installed", "governance_installed_pct")
    out = {name: out[name] for name in ordered} | {n: v for n, v in out.items() if n not in ordered}
    themes = Theme.objects.filter(phase__code=phase) if phase else Theme.objects.all()
    by_theme = {code: 0 for code in themes.values_list("code", flat=True)}
    by_theme |= {key[3:]: value for key, value in totals.items() if key.startswith("th:") and value}
    by_status = {code: 0 for code in ProjectStatus.values}
    by_status |= {key[3:]: value for key, value in totals.items() if key.startswith("st:") and value}
    funders = [int(key[3:]) for key, value in totals.items() if key.startswith("fn:") and value]
    sums: dict[str, tuple[int, int]] = {}
    for pk, name in Organisation.objects.filter(pk__in=funders).order_by("name").values_list("pk", "name"):
        requested, granted = sums.get(name, (0, 0))
        sums[name] = (requested + totals.get(f"fr:{pk}", 0), granted + totals.get(f"fg:{pk}", 0))
    return out | {
        "projects": totals.get("p", 0),
        "projects_by_theme": by_theme,
        "projects_by_status": by_status,
        "funding_requested": _euros(sum(r for r, _g in sums.values())),
        "funding_granted": _euros(sum(g for _r, g in sums.values())),
        "funding_by_funder": {name: {"requested": _euros(r), "granted": _euros(g)} for name, (r, g) in sums.items()},
    }


def check(days: Iterable[datetime.date], phases: Iterable[str | None] = (None,)) -> list[str]:
    """Differences between the totals and the figures computed from the records (empty when they agree)."""
    from .figures import Scope, project_figures, territory_figures

    problems = []
    for phase in phases:
        for public_only in (False, True):
            territories = Territory.objects.all()
            if phase:
                territories = territories.filter(phases__code=phase)
            projects = Project.objects.filter(public=True) if public_only else Project.objects.all()
            scope = Scope(territories=territories, projects=projects, phase=phase)
            for day in days:
                expected = {**territory_figures(scope, day), **project_figures(scope, day)}
                got = national_figures(phase, public_only, day)
                if got != expected:
                    diff = {k: (got and got.get(k), v) for k, v in expected.items() if not got or got.get(k) != v}
                    problems.append(f"{day} phase={phase} public={public_only}: {diff}")
    return problems
