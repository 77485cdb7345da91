"""The national totals (stats/ledger.py) give exactly the figures computed from the records, after any write."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from pilotage.geo.services import load_referential
from pilotage.opendata.demo.loader import load_demo
from pilotage.programme.models import ActionPlan, Contract, ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatusChange
from pilotage.stats import ledger
from pilotage.stats.figures import build_scope, end_of_day, programme_figures
from pilotage.stats.models import ChangedTerritory, FigureNode

D = datetime.date
DAYS = [D(2017, 12, 31), D(2018, 6, 30), D(2019, 1, 1), D(2019, 11, 19), D(2020, 12, 31), D(2022, 7, 14)]
DAYS += [D(2023, 1, 1), D(2024, 3, 31), D(2025, 12, 31), datetime.date.today()]


@pytest.fixture
def demo(db):
    load_referential(["54", "57"])
    load_demo(projects_per_territory=6, warn=lambda m: None, progress=lambda m: None)
    return list(Territory.objects.order_by("code"))


def phases():
    return [None, *ProgrammePhase.objects.order_by("code").values_list("code", flat=True)]


def agree() -> None:
    assert ledger.check(DAYS, phases()) == []
    assert not ChangedTerritory.objects.exists()


def test_the_totals_of_the_demo_are_the_figures_of_the_records(demo):
    assert FigureNode.objects.exists() and not ChangedTerritory.objects.exists()
    agree()
    national = programme_figures(build_scope(AnonymousUser()), D(2019, 11, 19))
    assert national["projects"] > 0 and national["territories"] == len(demo)


def test_every_kind_of_write_is_followed_by_the_totals(demo):
    first, second = demo[0], demo[1]
    project = Project.objects.filter(territory=first, reported_on__isnull=False).order_by("pk").first()
    phase2 = ProgrammePhase.objects.get(code="2023-2027")

    # status transitions, including one on the report day and a later one the same day as another
    ProjectStatusChange.objects.create(project=project, status="ready", at=end_of_day(D(2019, 6, 1)))
    ProjectStatusChange.objects.create(project=project, status="in_progress", at=end_of_day(D(2020, 2, 2)))
    agree()
    # funding lines: new, changed by queryset.update (no signal), deleted
    funder = Organisation.objects.order_by("pk").first()
    line = FundingLine.objects.create(project=project, funder=funder, requested=Decimal("1234.56"))
    FundingLine.objects.filter(pk=line.pk).update(granted=Decimal("1000.01"))
    agree()
    FundingLine.objects.filter(project=project).delete()
    agree()
    # the project: made private, moved to another territory and phase, report date moved, themes changed
    Project.objects.filter(pk=project.pk).update(public=False, reported_on=D(2018, 3, 3))
    agree()
    project.refresh_from_db()
    project.territory = second
    project.phase = phase2
    project.save()
    project.themes.set(Theme.objects.filter(phase=phase2)[:2])
    agree()
    # bulk writes (imports) and a raw SQL update
    Project.objects.bulk_create(
        [
            Project(id_projet=f"NEW-{i}", territory=first, phase=phase2, title=f"N{i}", reported_on=D(2024, 1, i))
            for i in range(1, 6)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projects_project SET status = 'completed' WHERE id_projet = 'NEW-1'")
    agree()
    # a theme renamed: its code is a figure key
    theme = Theme.objects.filter(projects__isnull=False).order_by("pk").first()
    Theme.objects.filter(pk=theme.pk).update(code=f"{theme.code}-bis")
    agree()
    # territory records: governance, phases, contracts, action plans, region
    Territory.objects.filter(pk=first.pk).update(governance_installed_on=D(2019, 11, 19))
    first.phases.remove(phase2)
    Contract.objects.update_or_create(
        territory=first, phase=phase2, kind=Contract.Kind.CONTRACT, defaults={"signed_on": D(2023, 5, 5)}
    )
    ActionPlan.objects.filter(territory=second).update(
        status=ActionPlan.Status.VALIDATED, decided_on=D(2020, 1, 15), expected_validation_on=D(2021, 6, 1)
    )
    agree()
    # a project deleted with everything hanging from it, then a territory without projects deleted
    project.delete()
    empty = Territory.objects.filter(projects__isnull=True).order_by("pk").first()
    if empty is not None:
        empty.delete()
    agree()


def test_a_rebuild_gives_the_same_totals(demo):
    before = sorted(FigureNode.objects.exclude(value=0).values_list("series", "key", "node", "value"))
    ledger.rebuild()
    assert sorted(FigureNode.objects.exclude(value=0).values_list("series", "key", "node", "value")) == before


def test_scoped_readers_and_filters_use_the_records(demo):
    """Only whole-programme figures for a reader of every project or of the public ones come from the totals."""
    from pilotage.accounts.services import create_or_update_user

    pilot, _, _ = create_or_update_user("pilote@example.fr", "regional_pilot", demo[0].region_id, password=None)
    assert build_scope(pilot).national is None
    assert build_scope(AnonymousUser(), region=demo[0].region_id).national is None
    assert build_scope(AnonymousUser(), phase="2018-2022").national == "public"


def test_dates_outside_the_trees_are_computed_from_the_records(demo):
    assert not ledger.covers(D(1969, 12, 31)) and ledger.covers(D(2100, 1, 1))
    scope = build_scope(AnonymousUser())
    assert programme_figures(scope, D(1969, 12, 31))["projects"] == 0
    assert programme_figures(scope, D(1969, 12, 31))["territories"] == len(demo)


@pytest.mark.django_db(transaction=True)
def test_writers_of_one_territory_do_not_wait_for_each_other():
    """Marking a territory as changed never holds a lock another writer needs (PostgreSQL: an append-only log)."""
    import threading

    from django.db import connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writers take turns on the database's single write lock")
    load_referential(["54"])
    load_demo(projects_per_territory=2, warn=lambda m: None, progress=lambda m: None)
    territory = Territory.objects.filter(projects__isnull=False).order_by("pk").first()
    first, second = Project.objects.filter(territory=territory).order_by("pk")[:2]
    holding, release = threading.Event(), threading.Event()

    def long_writer():
        try:
            with transaction.atomic():
                Project.objects.filter(pk=first.pk).update(reported_on=D(2019, 1, 2))
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=long_writer)
    thread.start()
    assert holding.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        Project.objects.filter(pk=second.pk).update(reported_on=D(2019, 3, 4))  # would time out if it waited
        assert programme_figures(build_scope(AnonymousUser()), D(2019, 3, 4))["projects"] >= 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
        release.set()
        thread.join()
    agree()
