# ruff: noqa: F811 (fixtures imported from manage_fixtures)
"""Funders and State services record funding decisions on their lines, with a reason; nobody else can."""

from decimal import Decimal

import pytest

from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.programme.tests.manage_fixtures import as_user, media, people, programme, text  # noqa: F401
from pilotage.projects import services
from pilotage.projects.models import FundingLine

pytestmark = pytest.mark.django_db
BASE = "/espace/financements/"


@pytest.fixture
def lines(people):
    project = services.create_project(
        people["team"],
        {"territory": "ti-4401", "phase": "2018-2022", "title": "Parc d'activités", "themes": ["innover"]},
    )
    bpi = services.add_funding_line(
        people["team"], project, {"funder": "Bpifrance", "instrument": "Prêt", "requested": Decimal("100000")}
    )
    region = services.add_funding_line(
        people["team"], project, {"funder": "Région Grand Est", "requested": Decimal("50000")}
    )
    people["bpi"] = create_or_update_user("bpi@example.fr", "funder", "Bpifrance")[0]
    return {"bpi": bpi, "region": region}


def decide(client, line, **overrides):
    line.project.refresh_from_db()
    data = {"granted": "80 000", "decided_on": "2020-02-15", "status": "granted", "reason": "Comité du 15/02",
            "version": line.project.version, **overrides}  # fmt: skip
    return client.post(f"{BASE}{line.pk}/", data)


def test_a_funder_lists_and_decides_its_own_lines_only(client, people, lines):
    client.force_login(people["bpi"])
    listing = text(client.get(BASE))
    assert "Bpifrance — Prêt" in listing and "Région Grand Est" not in listing
    assert client.get(f"{BASE}{lines['region'].pk}/").status_code == 404
    assert decide(client, lines["bpi"]).status_code == 302
    line = FundingLine.objects.get(pk=lines["bpi"].pk)
    assert (line.granted, str(line.decided_on), line.status) == (Decimal("80000"), "2020-02-15", "granted")
    assert history_of(line).last().reason == "Comité du 15/02"
    assert "Aucune ligne n'attend votre décision" in text(client.get(BASE))


def test_state_services_decide_on_their_region_s_lines(as_user, lines):
    client = as_user("state")
    assert "Région Grand Est" in text(client.get(BASE))
    assert decide(client, lines["region"], granted="50 000").status_code == 302
    assert FundingLine.objects.get(pk=lines["region"].pk).granted == Decimal("50000")


def test_a_decision_needs_a_reason_and_changes_nothing_without(client, people, lines):
    client.force_login(people["bpi"])
    response = decide(client, lines["bpi"], reason="")
    assert response.status_code == 422
    assert FundingLine.objects.get(pk=lines["bpi"].pk).granted is None


def test_a_decision_over_a_newer_version_is_a_conflict(client, people, lines):
    client.force_login(people["bpi"])
    project = lines["bpi"].project
    project.refresh_from_db()
    stale = project.version
    services.update_project(people["team"], project, {"title": "Nouveau titre"}, expected_version=stale)
    response = decide(client, lines["bpi"], version=stale)
    assert response.status_code == 409 and "Nouveau titre" in text(response)
    assert FundingLine.objects.get(pk=lines["bpi"].pk).granted is None


@pytest.mark.parametrize(("who", "status"), [(None, 302), ("team", 404), ("pilot", 404), ("other_pilot", 404)])
def test_others_cannot_decide(as_user, lines, who, status):
    client = as_user(who)
    assert decide(client, lines["bpi"]).status_code == status
    assert FundingLine.objects.get(pk=lines["bpi"].pk).granted is None
