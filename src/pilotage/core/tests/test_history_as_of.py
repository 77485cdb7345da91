"""Reading a record as of a past moment from its history: `state_as_of`, and a project through
`GET /api/v1/projects/{id_projet}?as_of=…` after a series of edits made at controlled times."""

import contextlib
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import Action, Source, record_change, state_as_of
from pilotage.core.models import ChangeLog
from pilotage.geo.models import Region
from pilotage.programme.models import Territory
from pilotage.projects import services, workflow
from pilotage.projects.models import Project
from pilotage.projects.tests.builders import build_sample

PARIS = ZoneInfo("Europe/Paris")
API = "/api/v1/projects"


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=PARIS)


@contextlib.contextmanager
def written_at(text: str):
    """Date the history entries written in the block at `text` (Paris time), as if they had been written then."""
    last = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    yield
    ChangeLog.objects.filter(id__gt=last).update(at=moment(text))


@pytest.mark.django_db
def test_state_as_of_gives_the_last_state_at_or_before_the_moment():
    territory = Territory.objects.create(code="ti-4405", name="Fensch", region=Region.objects.create(code="44"))
    with written_at("2024-01-10T09:00"):
        record_change(territory, Action.CREATE, None, {"name": "Fensch"}, source=Source.WEB)
    with written_at("2024-02-01T10:00"):
        record_change(territory, Action.UPDATE, {"name": "Fensch"}, {"name": "Val de Fensch"}, source=Source.WEB)
    with written_at("2024-03-01T00:00"):
        record_change(territory, Action.DELETE, {"name": "Val de Fensch"}, None, source=Source.WEB)

    assert state_as_of(territory, moment("2024-01-10T08:59")) is None  # not created yet
    assert state_as_of(territory, moment("2024-01-10T09:00")) == {"name": "Fensch"}  # inclusive
    assert state_as_of((Territory, territory.pk), moment("2024-02-01T09:59")) == {"name": "Fensch"}
    assert state_as_of(territory, moment("2024-02-01T10:00")) == {"name": "Val de Fensch"}
    assert state_as_of(territory, moment("2024-03-02T00:00")) is None  # deleted


@pytest.mark.django_db
def test_a_record_written_before_its_history_was_kept_existed_as_its_first_change_found_it():
    territory = Territory.objects.create(code="ti-4405", name="Fensch", region=Region.objects.create(code="44"))
    assert state_as_of(territory, moment("2024-01-01T00:00")) is None  # no history at all: nothing to read
    with written_at("2024-02-01T10:00"):
        record_change(territory, Action.UPDATE, {"name": "Fensch"}, {"name": "Val de Fensch"}, source=Source.IMPORT)
    assert state_as_of(territory, moment("2020-01-01T00:00")) == {"name": "Fensch"}
    assert state_as_of(territory, moment("2024-02-02T00:00")) == {"name": "Val de Fensch"}


# --- a project through the API --------------------------------------------------------------------------------------


@pytest.fixture
def sample(db):
    return build_sample()


@pytest.fixture
def team(sample):
    return create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0]


def as_of(client, id_projet: str, when: str, **headers):
    return client.get(f"{API}/{id_projet}", {"as_of": when}, headers=headers)


def test_a_project_read_as_of_each_past_moment_shows_the_values_of_that_moment(client, sample, team):
    data = {"territory": "ti-4401", "title": "Atelier", "themes": ["innover"], "total_cost": "100000"}
    with written_at("2024-01-10T09:00"):
        project = services.create_project(team, {**data, "reported_on": datetime.date(2024, 1, 5)})
    with written_at("2024-02-01T10:00"):
        services.update_project(team, project, {"title": "Atelier partagé", "themes": ["innover", "attirer"]})
    with written_at("2024-03-01T08:00"):
        workflow.advance(team, project, "ready", "Plan de financement bouclé")
        line = services.add_funding_line(team, project, {"funder": "Bpifrance", "requested": "40000"})
    with written_at("2024-04-15T16:30"):
        services.update_project(team, project, {"total_cost": Decimal("120000")}, reason="Devis actualisé")
        services.update_funding_line(team, line, {"granted": "35000"}, reason="Décision Bpifrance")
    with written_at("2024-05-20T12:00"):
        services.delete_funding_line(team, line, reason="Financement retiré")

    expected = {
        "2024-01-10T09:00": ("Atelier", ["innover"], "idea", 100000, []),
        "2024-01-31": ("Atelier", ["innover"], "idea", 100000, []),
        "2024-02-01T10:00": ("Atelier partagé", ["attirer", "innover"], "idea", 100000, []),
        "2024-03-01T08:00": ("Atelier partagé", ["attirer", "innover"], "ready", 100000, [(40000, None)]),
        "2024-04-15T16:29": ("Atelier partagé", ["attirer", "innover"], "ready", 100000, [(40000, None)]),
        "2024-04-15": ("Atelier partagé", ["attirer", "innover"], "ready", 120000, [(40000, 35000)]),
        "2024-05-20T12:00": ("Atelier partagé", ["attirer", "innover"], "ready", 120000, []),
    }
    for when, (title, themes, status, cost, funding) in expected.items():
        response = as_of(client, project.id_projet, when)
        assert response.status_code == 200, (when, response.content)
        body = response.json()
        got = (body["title"], body["themes"], body["status"], body["total_cost"])
        assert got == (title, themes, status, cost), when
        assert [(f["requested"], f["granted"]) for f in body["funding"]] == funding, when
    # The ordering of themes is the phase's; the current answer agrees with the latest past one.
    now = client.get(f"{API}/{project.id_projet}").json()
    latest = as_of(client, project.id_projet, "2030-01-01").json()
    assert {k: latest[k] for k in ("title", "themes", "status", "total_cost", "funding")} == {
        "title": now["title"],
        "themes": now["themes"],
        "status": now["status"],
        "total_cost": now["total_cost"],
        "funding": now["funding"],
    }
    # Before it was created (and before it was reported to the programme), it did not exist.
    assert as_of(client, project.id_projet, "2024-01-04").status_code == 404


def test_a_project_entered_later_is_shown_as_first_recorded_from_its_reporting_date(client, sample, team):
    """The sample's projects were written without history (as initial data): they read as they are, from their
    reporting date; after a first recorded change, the earlier moments read the state that change found."""
    parc = sample.parc  # reported on 2019-05-02
    assert as_of(client, parc.id_projet, "2019-05-01").status_code == 404
    assert as_of(client, parc.id_projet, "2019-05-02").json()["title"] == parc.title
    with written_at("2024-02-01T10:00"):
        services.update_project(team, parc, {"title": "Parc renommé"})
    assert as_of(client, parc.id_projet, "2020-01-01").json()["title"] == parc.title
    assert as_of(client, parc.id_projet, "2024-02-01T10:00").json()["title"] == "Parc renommé"


def test_a_past_private_state_is_not_shown_to_a_visitor(client, sample, team):
    with written_at("2024-01-10T09:00"):
        project = services.create_project(
            team, {"territory": "ti-4401", "title": "Confidentiel", "public": False, "reported_on": "2024-01-01"}
        )
    with written_at("2024-02-01T10:00"):
        services.update_project(team, project, {"public": True})
    assert as_of(client, project.id_projet, "2024-02-02").status_code == 200
    assert as_of(client, project.id_projet, "2024-01-15").status_code == 404
    client.force_login(team)
    assert as_of(client, project.id_projet, "2024-01-15").json()["public"] is False


@pytest.mark.parametrize("bad", ["2024-13-01", "hier", "2024-01-01T25:00", "01/02/2024"])
def test_a_malformed_as_of_answers_400(client, sample, bad):
    response = as_of(client, sample.parc.id_projet, bad)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert Project.objects.count() == 4
