"""What is late and when each kind of record was last updated, on the day before, of and after each boundary."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilotage.core.history import Action, Source, record_change
from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory
from pilotage.projects.models import Indicator, IndicatorValue, Project
from pilotage.stats import freshness
from pilotage.stats.figures import build_scope

D = datetime.date
TODAY = D(2026, 6, 15)
ONE_DAY = datetime.timedelta(days=1)


@pytest.fixture
def phases(db):
    return ProgrammePhase.objects.get(code="2018-2022"), ProgrammePhase.objects.get(code="2023-2027")


@pytest.fixture
def region(db):
    return Region.objects.create(code="44", name="Grand Est")


def territory(region, code: str, name: str, *phases) -> Territory:
    t = Territory.objects.create(code=code, name=name, region=region)
    t.phases.add(*phases)
    return t


def project(t: Territory, phase, id_projet: str, **fields) -> Project:
    return Project.objects.create(id_projet=id_projet, territory=t, phase=phase, title=id_projet, **fields)


def rows(on: D = TODAY, **filters) -> dict[str, freshness.TerritoryFreshness]:
    scope = build_scope(AnonymousUser(), **filters)
    return {row.territory.code: row for row in freshness.territory_freshness(scope, on)}


@pytest.mark.parametrize(("expected_on", "late"), [(TODAY - ONE_DAY, True), (TODAY, False), (TODAY + ONE_DAY, False)])
def test_a_plan_is_late_from_the_day_after_its_expected_validation(region, phases, expected_on, late):
    t = territory(region, "ti-4401", "Nord", phases[0])
    ActionPlan.objects.create(territory=t, phase=phases[0], status="submitted", expected_validation_on=expected_on)
    row = rows()["ti-4401"]
    assert row.late_plan is late
    assert row.late_plan_expected_on == (expected_on if late else None)
    assert row.late_total == int(late)


@pytest.mark.parametrize(("decided_on", "late"), [(TODAY - ONE_DAY, False), (TODAY, False), (TODAY + ONE_DAY, True)])
def test_a_validated_plan_is_not_late_once_the_regional_council_decided(region, phases, decided_on, late):
    t = territory(region, "ti-4401", "Nord", phases[0])
    expected = TODAY - datetime.timedelta(days=30)
    ActionPlan.objects.create(
        territory=t, phase=phases[0], status="validated", decided_on=decided_on, expected_validation_on=expected
    )
    assert rows()["ti-4401"].late_plan is late


def test_only_the_latest_version_of_a_plan_counts(region, phases):
    t = territory(region, "ti-4401", "Nord", *phases)
    old = TODAY - datetime.timedelta(days=100)
    ActionPlan.objects.create(territory=t, phase=phases[0], version=1, status="returned", expected_validation_on=old)
    ActionPlan.objects.create(
        territory=t, phase=phases[0], version=2, status="validated", decided_on=old, expected_validation_on=old
    )
    assert not rows()["ti-4401"].late_plan
    # A returned plan resubmitted as a new version, expected later: late only once that date has passed.
    ActionPlan.objects.create(territory=t, phase=phases[1], version=1, status="returned", expected_validation_on=old)
    ActionPlan.objects.create(territory=t, phase=phases[1], version=2, status="submitted", expected_validation_on=TODAY)
    assert not rows()["ti-4401"].late_plan
    assert rows(TODAY + ONE_DAY)["ti-4401"].late_plan_expected_on == TODAY
    assert not rows(TODAY + ONE_DAY, phase="2018-2022")["ti-4401"].late_plan  # the phase filter applies


@pytest.mark.parametrize(("end_on", "late"), [(TODAY - ONE_DAY, True), (TODAY, False), (TODAY + ONE_DAY, False)])
def test_a_project_is_late_from_the_day_after_its_end_date(region, phases, end_on, late):
    t = territory(region, "ti-4401", "Nord", phases[0])
    project(t, phases[0], "P1", status="in_progress", end_on=end_on)
    assert rows()["ti-4401"].late_projects == int(late)


def test_completed_abandoned_and_hidden_projects_are_never_late_for_a_visitor(region, phases):
    t = territory(region, "ti-4401", "Nord", phases[0])
    past = TODAY - datetime.timedelta(days=10)
    for status in ("idea", "maturing", "ready", "in_progress", "completed", "abandoned"):
        project(t, phases[0], f"P-{status}", status=status, end_on=past)
    project(t, phases[0], "P-hidden", status="in_progress", end_on=past, public=False)
    project(t, phases[0], "P-no-end", status="in_progress")
    scope = build_scope(AnonymousUser())
    assert sorted(p.id_projet for p in freshness.late_projects(scope, TODAY)) == [
        "P-idea",
        "P-in_progress",
        "P-maturing",
        "P-ready",
    ]
    assert rows()["ti-4401"].late_projects == 4


@pytest.mark.parametrize(
    ("measured_on", "unmeasured"), [(D(2025, 12, 31), True), (D(2026, 1, 1), False), (D(2026, 12, 31), False)]
)
def test_indicators_need_a_measure_dated_this_year(region, phases, measured_on, unmeasured):
    t = territory(region, "ti-4401", "Nord", phases[0])
    indicator = Indicator.objects.create(phase=phases[0], code="emplois", label="Emplois créés")
    p = project(t, phases[0], "P1", status="in_progress")
    IndicatorValue.objects.create(project=p, indicator=indicator, on=D(2027, 12, 31), target=Decimal(50))
    IndicatorValue.objects.create(project=p, indicator=indicator, on=measured_on, measured=Decimal(12))
    assert rows()["ti-4401"].unmeasured_projects == int(unmeasured)


def test_projects_without_targets_or_abandoned_are_not_asked_for_measures(region, phases):
    t = territory(region, "ti-4401", "Nord", phases[0])
    indicator = Indicator.objects.create(phase=phases[0], code="emplois", label="Emplois créés")
    no_target = project(t, phases[0], "P1")
    IndicatorValue.objects.create(project=no_target, indicator=indicator, on=D(2025, 6, 1), measured=Decimal(3))
    abandoned = project(t, phases[0], "P2", status="abandoned")
    IndicatorValue.objects.create(project=abandoned, indicator=indicator, on=D(2025, 6, 1), target=Decimal(3))
    targeted = project(t, phases[0], "P3")
    IndicatorValue.objects.create(project=targeted, indicator=indicator, on=D(2025, 6, 1), target=Decimal(3))
    scope = build_scope(AnonymousUser())
    assert [p.id_projet for p in freshness.unmeasured_projects(scope, TODAY)] == ["P3"]


def at(day: D, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour))


def test_last_updates_come_from_the_history_and_the_records_own_timestamps(region, phases):
    t = territory(region, "ti-4401", "Nord", phases[0])
    other = territory(region, "ti-4402", "Sud", phases[0])
    Territory.objects.filter(pk__in=[t.pk, other.pk]).update(updated_at=at(D(2026, 1, 2)))
    member = GovernanceMember.objects.create(territory=t, role="elected_lead", full_name="Jeanne Élue")
    contract = Contract.objects.create(territory=t, phase=phases[0], kind="protocol", signed_on=D(2019, 6, 1))
    plan = ActionPlan.objects.create(territory=t, phase=phases[0], status="draft")
    for record, day in ((member, D(2026, 3, 1)), (contract, D(2026, 2, 1)), (contract, D(2026, 4, 1))):
        entry = record_change(record, Action.UPDATE, None, {}, source=Source.WEB)
        entry.at = at(day)
        entry.save()
    entry = record_change(t, Action.UPDATE, None, {}, source=Source.IMPORT)
    entry.at = at(D(2026, 5, 1))
    entry.save()
    visible = project(t, phases[0], "P1")
    hidden = project(t, phases[0], "P2", public=False)
    Project.objects.filter(pk=visible.pk).update(updated_at=at(D(2026, 2, 20)))
    Project.objects.filter(pk=hidden.pk).update(updated_at=at(D(2026, 6, 1)))

    row = rows()["ti-4401"]
    assert row.updates == {
        "territory": at(D(2026, 5, 1)),
        "governance": at(D(2026, 3, 1)),
        "contracts": at(D(2026, 4, 1)),
        "action_plans": None,  # a plan with no recorded write
        "projects": at(D(2026, 2, 20)),  # the hidden project's later update is not the visitor's business
    }
    assert row.last_update == at(D(2026, 5, 1))
    assert [label for label, _moment in row.last_updates][0] == "Fiche du territoire"
    assert plan.pk
    other_row = rows()["ti-4402"]
    assert other_row.updates["territory"] == at(D(2026, 1, 2)) and other_row.updates.get("governance") is None


def test_sorting_follows_the_tri_parameter(region, phases):
    a = territory(region, "ti-4401", "Alpha", phases[0])
    b = territory(region, "ti-4402", "Bravo", phases[0])
    c = territory(region, "ti-4403", "Charlie", phases[0])
    past = TODAY - datetime.timedelta(days=3)
    for i in range(2):
        project(b, phases[0], f"B{i}", status="ready", end_on=past)
    project(c, phases[0], "C0", status="ready", end_on=past)
    ActionPlan.objects.create(territory=a, phase=phases[0], status="draft", expected_validation_on=past)
    ActionPlan.objects.create(territory=c, phase=phases[0], status="draft", expected_validation_on=past - ONE_DAY)
    found = list(rows().values())

    def order(tri):
        return [r.territory.name for r in freshness.sort_rows(found, tri)]

    assert order("nom") == ["Alpha", "Bravo", "Charlie"]
    assert order("-nom") == ["Charlie", "Bravo", "Alpha"]
    assert order("retard") == ["Bravo", "Charlie", "Alpha"]  # 2 late projects, then 1 + a plan (tie: by name)
    assert order("-retard") == ["Alpha", "Bravo", "Charlie"]
    assert order("plan") == ["Charlie", "Alpha", "Bravo"]  # the longest overdue first, never-late last
    assert order("projets") == ["Bravo", "Charlie", "Alpha"]
    assert order("inconnu") == order("retard")
    assert freshness.parse_sort("-maj") == ("maj", True)


def test_the_number_of_queries_does_not_grow_with_the_territories(region, phases):
    indicator = Indicator.objects.create(phase=phases[0], code="emplois", label="Emplois créés")

    def add(start: int, count: int) -> None:
        for i in range(start, start + count):
            t = territory(region, f"ti-44{i:02d}", f"T{i}", phases[0])
            GovernanceMember.objects.create(territory=t, role="elected_lead", full_name=f"Élu {i}")
            contract = Contract.objects.create(territory=t, phase=phases[0], kind="protocol", signed_on=D(2019, 1, 1))
            record_change(contract, Action.CREATE, None, {}, source=Source.IMPORT)
            ActionPlan.objects.create(
                territory=t, phase=phases[0], status="draft", expected_validation_on=D(2020, 1, 1)
            )
            p = project(t, phases[0], f"P{i}", status="ready", end_on=D(2020, 1, 1))
            IndicatorValue.objects.create(project=p, indicator=indicator, on=D(2020, 1, 1), target=Decimal(1))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            found = rows(region="44")
        assert all(r.late_total == 3 for r in found.values())
        return len(ctx.captured_queries)

    add(1, 5)
    count()  # warms the content-type cache
    small = count()
    add(10, 25)
    assert count() == small <= 10
