"""Each programme figure on the day before, on and after each boundary date (dates are inclusive)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, Contract, ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatusChange
from pilotage.stats.figures import build_scope, end_of_day, programme_figures

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)


def around(day: D) -> list[tuple[D, bool]]:
    """(date, counted?) on the day before, on and after a boundary."""
    return [(day - ONE_DAY, False), (day, True), (day + ONE_DAY, True)]


@pytest.fixture
def programme(db):
    grand_est = Region.objects.create(code="44", name="Grand Est")
    bretagne = Region.objects.create(code="53", name="Bretagne")
    phase1 = ProgrammePhase.objects.get(code="2018-2022")
    t1 = Territory.objects.create(
        code="ti-4401", name="Nord Lorraine", region=grand_est, governance_installed_on=D(2019, 3, 15)
    )
    t2 = Territory.objects.create(code="ti-4402", name="Vosges", region=grand_est)
    t3 = Territory.objects.create(
        code="ti-5301", name="Lannion", region=bretagne, governance_installed_on=D(2019, 1, 10)
    )
    for t in (t1, t2, t3):
        t.phases.add(phase1)
    Contract.objects.create(territory=t1, phase=phase1, kind="protocol", signed_on=D(2019, 6, 1))
    Contract.objects.create(territory=t1, phase=phase1, kind="contract", signed_on=D(2019, 11, 19))
    Contract.objects.create(territory=t3, phase=phase1, kind="protocol", signed_on=D(2019, 11, 19))
    ActionPlan.objects.create(
        territory=t1, phase=phase1, status="validated", decided_on=D(2019, 9, 30), expected_validation_on=D(2019, 9, 1)
    )
    ActionPlan.objects.create(territory=t2, phase=phase1, status="submitted", expected_validation_on=D(2019, 12, 31))
    ActionPlan.objects.create(territory=t3, phase=phase1, status="draft", expected_validation_on=D(2020, 1, 1))

    company = Organisation.objects.create(name="Fonderie de l'Est", siren="732829320", kind="company")
    bpi = Organisation.objects.create(name="Bpifrance", kind="funder")
    region_funder = Organisation.objects.create(name="Région Grand Est", kind="funder")
    innover = Theme.objects.get(phase=phase1, code="innover")
    attirer = Theme.objects.get(phase=phase1, code="attirer")

    p1 = Project.objects.create(
        id_projet="P1",
        territory=t1,
        phase=phase1,
        title="Parc'Innov",
        owner=company,
        reported_on=D(2019, 5, 2),
        status="in_progress",
    )
    p1.themes.set([innover, attirer])
    p2 = Project.objects.create(
        id_projet="P2", territory=t3, phase=phase1, title="Campus", reported_on=D(2019, 7, 1), status="idea"
    )
    p2.themes.set([attirer])
    hidden = Project.objects.create(
        id_projet="P3", territory=t1, phase=phase1, title="Brouillon", public=False, reported_on=D(2019, 1, 1)
    )
    hidden.themes.set([innover])
    # P1: idea on 2019-05-02, in progress from 2019-10-15 (a transition recorded that day).
    ProjectStatusChange.objects.create(project=p1, status="idea", at=end_of_day(D(2019, 5, 2)))
    ProjectStatusChange.objects.create(
        project=p1, status="in_progress", at=timezone.make_aware(datetime.datetime(2019, 10, 15, 9, 0))
    )
    FundingLine.objects.create(project=p1, funder=bpi, requested=Decimal("100000"), granted=Decimal("80000.50"))
    FundingLine.objects.create(project=p1, funder=region_funder, requested=Decimal("50000"))
    FundingLine.objects.create(project=p2, funder=bpi, requested=Decimal("20000"), granted=Decimal("20000"))
    FundingLine.objects.create(project=hidden, funder=bpi, requested=Decimal("999999"))
    return {"phase": phase1}


def figures(as_of, **filters):
    return programme_figures(build_scope(AnonymousUser(), **filters), as_of)


@pytest.mark.parametrize(("day", "counted"), around(D(2019, 3, 15)))
def test_governance_counts_from_its_installation_date(programme, day, counted):
    f = figures(day)
    assert f["territories"] == 3
    assert f["governance_installed"] == 1 + counted  # Lannion installed earlier, Nord Lorraine on the boundary
    assert f["governance_installed_pct"] == round(100 * (1 + counted) / 3, 1)


@pytest.mark.parametrize(("day", "counted"), around(D(2019, 11, 19)))
def test_contracts_and_protocols_count_from_their_signature(programme, day, counted):
    f = figures(day)
    assert f["protocols_signed"] == 1 + counted
    assert f["contracts_signed"] == int(counted)


@pytest.mark.parametrize(("day", "counted"), around(D(2019, 9, 30)))
def test_action_plan_counts_from_the_regional_council_decision(programme, day, counted):
    f = figures(day)
    assert f["action_plans_validated"] == int(counted)
    # Before its decision Nord Lorraine's plan is expected (2019-09-01 ≤ year end); Vosges expects 2019-12-31.
    assert f["action_plans_validated_by_year_end"] == 2


@pytest.mark.parametrize(("day", "counted"), around(D(2019, 7, 1)))
def test_projects_count_from_their_reporting_date(programme, day, counted):
    f = figures(day)
    assert f["projects"] == 1 + counted
    assert f["projects_by_theme"]["attirer"] == 1 + counted
    assert f["projects_by_theme"]["innover"] == 1  # the non-public project is never counted for visitors


@pytest.mark.parametrize(("day", "counted"), around(D(2019, 10, 15)))
def test_status_is_the_one_recorded_at_the_date(programme, day, counted):
    by_status = figures(day)["projects_by_status"]
    assert by_status["in_progress"] == int(counted)
    assert by_status["idea"] == 2 - counted


def test_status_of_a_record_entered_later_is_its_first_recorded_one(programme):
    # P2 has no transition at all: its current status is used; P1's first transition is later than 2019-05-02 noon.
    f = figures(D(2019, 5, 2))
    assert f["projects_by_status"]["idea"] == 1


def test_funding_sums_the_visible_reported_projects(programme):
    f = figures(D(2020, 1, 1))
    assert f["funding_requested"] == 170000.0
    assert f["funding_granted"] == 100000.5
    assert f["funding_by_funder"]["Bpifrance"] == {"requested": 120000.0, "granted": 100000.5}
    assert f["funding_by_funder"]["Région Grand Est"] == {"requested": 50000.0, "granted": 0.0}
    before_p2 = figures(D(2019, 6, 30))
    assert before_p2["funding_requested"] == 150000.0


def test_filters_restrict_every_figure(programme):
    f = figures(D(2020, 1, 1), region="53")
    assert (f["territories"], f["governance_installed"], f["protocols_signed"], f["projects"]) == (1, 1, 1, 1)
    f = figures(D(2020, 1, 1), territory="ti-4401")
    assert (f["territories"], f["contracts_signed"], f["action_plans_validated"], f["projects"]) == (1, 1, 1, 1)
    f = figures(D(2020, 1, 1), phase="2023-2027")
    assert (
        f["territories"] == 0
        and f["projects"] == 0
        and set(f["projects_by_theme"]) == {"competences", "transition_ecologique", "innovation", "foncier"}
    )


def test_unknown_filters_are_refused(programme):
    for bad in ({"region": "99"}, {"territory": "ti-9999"}, {"phase": "1990-1991"}):
        with pytest.raises(LookupError):
            build_scope(AnonymousUser(), **bad)


def test_the_api_gives_the_same_figures(programme, client):
    answer = client.get("/api/v1/stats", {"as_of": "2019-11-19", "region": "44"})
    assert answer.status_code == 200
    assert answer.json() == {**figures(D(2019, 11, 19), region="44")}
    assert client.get("/api/v1/stats", {"as_of": "2019-02-31"}).status_code == 400
    assert client.get("/api/v1/stats", {"territory": "ti-9999"}).json()["error"]["code"] == "not_found"


def test_the_query_count_does_not_grow_with_the_data(programme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries() -> int:
        figures(D(2020, 1, 1))  # the first read after writes brings the national totals up to date (ledger.py)
        with CaptureQueriesContext(connection) as ctx:
            figures(D(2020, 1, 1))
        return len(ctx.captured_queries)

    small = count_queries()
    territory = Territory.objects.get(code="ti-4402")
    funder = Organisation.objects.get(name="Bpifrance")
    for i in range(30):
        p = Project.objects.create(
            id_projet=f"X{i}", territory=territory, phase=programme["phase"], title=f"P{i}", reported_on=D(2019, 2, 1)
        )
        FundingLine.objects.create(project=p, funder=funder, requested=Decimal(1))
        ProjectStatusChange.objects.create(project=p, status="idea", at=end_of_day(D(2019, 2, 1)))
    assert count_queries() == small <= 10
    assert figures(D(2020, 1, 1))["projects"] == 32


@pytest.mark.parametrize("day", [D(2019, 3, 14), D(2019, 9, 30), D(2019, 11, 19), D(2020, 1, 1)])
def test_every_figure_equals_the_number_of_records_it_lists(programme, day):
    from pilotage.stats.figures import TERRITORY_FIGURES, counted_projects, counted_territories

    scope = build_scope(AnonymousUser())
    f = programme_figures(scope, day)
    for figure in TERRITORY_FIGURES:
        assert counted_territories(scope, day, figure).count() == f[figure], figure
    assert counted_projects(scope, day, "projects").count() == f["projects"]
    for figure in ("projects_by_theme", "projects_by_status"):
        for key, n in f[figure].items():
            assert counted_projects(scope, day, figure, key).count() == n, (figure, key)
    for funder in f["funding_by_funder"]:
        listed = counted_projects(scope, day, "funding_by_funder", funder)
        assert listed.exists() and all(p.funding_lines.filter(funder__name=funder).exists() for p in listed)
