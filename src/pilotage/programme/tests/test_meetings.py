# ruff: noqa: F811 (fixtures imported from manage_fixtures)
"""Meetings of territories and Regions: recorded by those who manage them, their minutes kept private until the
meeting is past and public, and the past public meetings shown to everybody on the territory's public page."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilotage.core.history import history_of
from pilotage.programme.editing import EditConflict, record_state
from pilotage.programme.meetings import MEETING_FIELDS, create_meeting, edit_meeting
from pilotage.programme.models import Meeting, Territory
from pilotage.programme.permissions import meetings_visible_to
from pilotage.web.tests.factories import MEMBER_EMAIL, MEMBER_PHONE

from .manage_fixtures import as_user, hidden_version, media, pdf, people, programme, text  # noqa: F401

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PARTICIPANT = "Marie Participante <marie.participante@example.org>"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def meeting_form(**values) -> dict:
    data = {
        "kind": "general_assembly",
        "held_on": "2021-06-15",
        "place": "Thionville",
        "public": "",
        "participants": PARTICIPANT,
        "minutes": "Présentation du plan d'actions.",
        "decisions": "Adoption du plan.",
    }
    return {**data, **values}


@pytest.fixture
def nord(programme) -> Territory:
    return programme["nord"]


@pytest.fixture
def meetings(nord, media):
    """Nord Lorraine's meetings: a past public assembly with a PDF, a private committee, a future public assembly;
    and a public regional meeting of Grand Est."""
    past_assembly = Meeting.objects.create(
        territory=nord,
        kind="general_assembly",
        held_on=datetime.date(2021, 6, 15),
        place="Thionville",
        public=True,
        participants=PARTICIPANT,
        decisions="Adoption du plan d'actions.",
        minutes="Cent participants.",
    )
    past_assembly.minutes_document.save("cr.pdf", pdf(), save=True)
    committee = Meeting.objects.create(
        territory=nord,
        kind="steering_committee",
        held_on=datetime.date(2021, 9, 1),
        place="Metz",
        decisions="Arbitrages budgétaires confidentiels.",
    )
    committee.minutes_document.save("cr.pdf", pdf(), save=True)
    future = Meeting.objects.create(
        territory=nord,
        kind="general_assembly",
        held_on=TODAY + datetime.timedelta(days=30),
        place="Hayange",
        public=True,
        decisions="Ordre du jour à venir.",
    )
    regional = Meeting.objects.create(
        region_id="44",
        kind="steering_committee",
        held_on=datetime.date(2021, 5, 1),
        place="Strasbourg",
        public=True,
        decisions="Comité régional.",
    )
    return {"assembly": past_assembly, "committee": committee, "future": future, "regional": regional}


# --- recording meetings ---------------------------------------------------------------------------------------


def test_add_a_meeting_then_its_page_shows_it_with_its_timeline(as_user, people, nord):
    client = as_user("team")
    response = client.post(
        "/espace/territoires/ti-4401/reunions/ajouter/",
        {**meeting_form(), "minutes_document": pdf("CR AG.pdf"), "reason": "Saisie du CR"},
    )
    meeting = Meeting.objects.get(territory=nord)
    assert response.status_code == 302 and response["Location"].endswith(f"/reunions/{meeting.pk}/")
    assert meeting.public is True  # a general assembly is public unless decided otherwise
    assert meeting.minutes_document.read().startswith(b"%PDF-")
    [entry] = history_of(meeting)
    assert (entry.action, entry.user, entry.reason) == ("create", people["team"], "Saisie du CR")
    assert entry.after["decisions"] == "Adoption du plan." and entry.after["territory"] == nord.pk
    page = text(client.get(response["Location"]))
    assert "Assemblée générale du 15 juin 2021" in page and "Thionville" in page and "Publique" in page
    assert "Adoption du plan." in page and "Marie Participante" in page
    assert "Type de réunion : Assemblée générale" in page and "Publique : oui" in page


@pytest.mark.parametrize(
    ("kind", "choice", "public"),
    [
        ("general_assembly", "", True),
        ("steering_committee", "", False),
        ("general_assembly", "non", False),
        ("follow_up_committee", "oui", True),
    ],
)
def test_a_meeting_is_public_by_default_only_for_general_assemblies(as_user, nord, kind, choice, public):
    as_user("team").post("/espace/territoires/ti-4401/reunions/ajouter/", meeting_form(kind=kind, public=choice))
    assert Meeting.objects.get(territory=nord).public is public


def test_meeting_form_refuses_bad_input(as_user, nord):
    client = as_user("team")
    for data, message in [
        (meeting_form(held_on=""), "Ce champ est obligatoire."),
        (meeting_form(kind="apero"), "Sélectionnez un choix valide."),
        (
            {**meeting_form(), "minutes_document": pdf("cr.pdf", b"<html>pas un pdf</html>")},
            "Ce fichier n'est pas un document PDF.",
        ),
    ]:
        response = client.post("/espace/territoires/ti-4401/reunions/ajouter/", data)
        assert response.status_code == 200 and message in text(response), message
    assert not Meeting.objects.exists()


def test_the_regional_pilot_records_a_regional_meeting(as_user, people, nord):
    response = as_user("pilot").post(
        "/espace/regions/44/reunions/ajouter/", meeting_form(kind="signing_ceremony", place="Strasbourg")
    )
    meeting = Meeting.objects.get(region_id="44")
    assert response["Location"] == f"/espace/regions/44/reunions/{meeting.pk}/"
    assert meeting.territory is None and meeting.public is False
    page = text(as_user("pilot").get("/espace/regions/44/reunions/"))
    assert "Réunions régionales — Grand Est" in page and "Cérémonie de signature" in page


def test_edit_a_meeting_and_the_conflict_of_two_editors(as_user, people, meetings):
    committee = meetings["committee"]
    url = f"/espace/territoires/ti-4401/reunions/{committee.pk}/modifier/"
    client = as_user("team")
    version = hidden_version(client.get(url))
    data = meeting_form(kind="steering_committee", held_on="2021-09-01", place="Metz", public="non")
    assert client.post(url, {**data, "decisions": "Budget validé.", "version": version}).status_code == 302
    conflict = client.post(url, {**data, "decisions": "Budget reporté.", "version": version})  # the old version
    assert conflict.status_code == 409 and "Budget reporté." in text(conflict)
    assert Meeting.objects.get(pk=committee.pk).decisions == "Budget validé."
    [entry] = history_of(committee)
    assert (entry.before["decisions"], entry.after["decisions"]) == (
        "Arbitrages budgétaires confidentiels.",
        "Budget validé.",
    )


def test_meeting_services_check_scope_and_version(people, meetings):
    committee = meetings["committee"]
    data = {"kind": "steering_committee", "held_on": committee.held_on, "decisions": "x"}
    with pytest.raises(PermissionDenied):
        edit_meeting(people["other_team"], committee, data, base=None)
    with pytest.raises(PermissionDenied):
        create_meeting(people["team"], data, region=meetings["regional"].region)
    opened = record_state(committee, MEETING_FIELDS)
    edit_meeting(people["pilot"], committee, {**data, "decisions": "Version du pilote"}, base=opened)
    with pytest.raises(EditConflict):
        edit_meeting(people["team"], committee, {**data, "decisions": "Version de l'équipe"}, base=opened)
    assert Meeting.objects.get(pk=committee.pk).decisions == "Version du pilote"


# --- who reads meetings and their minutes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (None, {"assembly", "regional"}),
        ("other_team", {"assembly", "regional"}),
        ("other_pilot", {"assembly", "regional"}),
        ("team", {"assembly", "committee", "future", "regional"}),
        ("state", {"assembly", "committee", "future", "regional"}),
        ("pilot", {"assembly", "committee", "future", "regional"}),
    ],
)
def test_who_reads_which_meeting(people, meetings, who, expected):
    visible = set(meetings_visible_to(people.get(who)).values_list("pk", flat=True))
    assert visible == {meetings[key].pk for key in expected}


@pytest.mark.parametrize(("who", "status"), [(None, 404), ("other_team", 404), ("team", 200), ("state", 200)])
def test_private_minutes_are_served_only_to_those_who_read_the_meeting(as_user, meetings, who, status):
    url = f"/espace/territoires/ti-4401/reunions/{meetings['committee'].pk}/compte-rendu/"
    response = as_user(who).get(url)
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf" and "private" in response["Cache-Control"]


def test_public_minutes_are_served_to_everybody(as_user, meetings):
    response = as_user(None).get(f"/espace/territoires/ti-4401/reunions/{meetings['assembly'].pk}/compte-rendu/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    wrong_place = f"/espace/territoires/ti-4402/reunions/{meetings['assembly'].pk}/compte-rendu/"
    assert as_user(None).get(wrong_place).status_code == 404


# --- the public territory page --------------------------------------------------------------------------------


def test_public_page_shows_past_public_meetings_only(as_user, meetings):
    response = as_user(None).get("/territoires/ti-4401/")
    page, html = text(response), response.content.decode()
    assert "Réunions" in page
    assert "Assemblée générale — 15 juin 2021, Thionville" in page and "Adoption du plan d'actions." in page
    assert f'href="/espace/territoires/ti-4401/reunions/{meetings["assembly"].pk}/compte-rendu/"' in html
    assert "Arbitrages budgétaires confidentiels." not in page  # private
    assert "Ordre du jour à venir." not in page  # not held yet
    assert "Comité régional." not in page  # a Region's meeting, not the territory's
    assert "Aucune réunion publique" in text(as_user(None).get("/territoires/ti-4402/"))


def test_public_page_shows_no_email_phone_or_participants(as_user, meetings):
    html = as_user(None).get("/territoires/ti-4401/").content.decode()
    assert not EMAIL_RE.search(html)
    assert MEMBER_EMAIL not in html and MEMBER_PHONE not in html and "Marie Participante" not in html


def test_public_page_costs_the_same_queries_whatever_the_meetings(as_user, nord, media):
    client = as_user(None)
    with CaptureQueriesContext(connection) as none:
        client.get("/territoires/ti-4401/")
    for day in range(1, 8):
        Meeting.objects.create(
            territory=nord,
            kind="general_assembly",
            held_on=datetime.date(2020, 1, day),
            public=True,
            decisions=f"Décision {day}",
        )
    with CaptureQueriesContext(connection) as seven:
        page = text(client.get("/territoires/ti-4401/"))
    assert "Décision 7" in page and len(seven) == len(none)
