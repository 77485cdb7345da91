"""The action plan's back-office pages and the workspace, as each role meets them: who reads, who acts, and what a
refused or invalid action leaves behind (nothing)."""

import datetime
import html
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from pilotage.accounts.models import User
from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, ProgrammePhase, Territory
from pilotage.programme.workflows import return_plan, submit_plan
from pilotage.projects.models import FundingLine, Organisation, Project

PLAN_URL = "/espace/territoires/ti-4401/plan/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> dict:
    grand_est = Region.objects.create(code="44", name="Grand Est")
    bretagne = Region.objects.create(code="53", name="Bretagne")
    phase = ProgrammePhase.objects.get(code="2018-2022")
    territories = {}
    for code, name, region in (
        ("ti-4401", "Nord Lorraine", grand_est),
        ("ti-4402", "Sud Alsace", grand_est),
        ("ti-5301", "Lannion-Trégor", bretagne),
    ):
        territories[code] = Territory.objects.create(code=code, name=name, region=region)
        territories[code].phases.add(phase)
    funder = Organisation.objects.create(name="Bpifrance", kind="funder")
    project = Project.objects.create(id_projet="P-1", territory=territories["ti-4401"], phase=phase, title="Fonderie")
    FundingLine.objects.create(project=project, funder=funder)
    return {"phase": phase, "project": project, **territories}


PEOPLE = {
    "team": ("equipe@nord-lorraine.fr", "territory_team", "ti-4401"),
    "other_team": ("equipe@lannion.bzh", "territory_team", "ti-5301"),
    "pilot": ("pilote@grandest.fr", "regional_pilot", "44"),
    "other_pilot": ("pilote@bretagne.bzh", "regional_pilot", "53"),
    "state": ("sgar@grand-est.gouv.fr", "state_services", "44"),
    "national": ("anct@anct.gouv.fr", "national", None),
    "funder": ("contact@bpifrance.fr", "funder", "Bpifrance"),
    "owner": ("porteur@fonderie.fr", "project_owner", "P-1"),
}


@pytest.fixture
def people(world) -> dict[str, User]:
    users = {key: create_or_update_user(*spec)[0] for key, spec in PEOPLE.items()}
    users["nobody"] = User.objects.create(email="sans-role@example.fr")
    return users


def as_(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    source = response.content.decode()
    main = source[source.index('<main id="content"') : source.index("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def plans(territory: Territory) -> list[tuple[int, str]]:
    return list(ActionPlan.objects.filter(territory=territory).order_by("version").values_list("version", "status"))


def draft(world, **fields) -> ActionPlan:
    return ActionPlan.objects.create(territory=world["ti-4401"], phase=world["phase"], **fields)


# --- who reads the plan page --------------------------------------------------------------------------------------

READERS = [
    ("anonymous", 302),
    ("team", 200),
    ("pilot", 200),
    ("national", 200),
    ("other_team", 403),
    ("other_pilot", 403),
    ("state", 200),
    ("funder", 403),
    ("owner", 403),
    ("nobody", 403),
]


@pytest.mark.parametrize(("who", "status"), READERS)
def test_the_plan_page_answers_each_role(people, who, status):
    response = as_(people.get(who)).get(PLAN_URL)
    assert response.status_code == status
    if status == 302:
        assert response["Location"] == f"/compte/connexion/?next={PLAN_URL}"
    if status == 403:
        assert "Accès refusé" in text(response) and "Nord Lorraine" in text(response)


@pytest.mark.parametrize("who", ["team", "pilot", "national"])
def test_an_unknown_territory_answers_404(people, who):
    assert as_(people[who]).get("/espace/territoires/ti-0000/plan/").status_code == 404


def test_the_page_says_what_to_do_when_there_is_no_plan_yet(people):
    team_page = text(as_(people["team"]).get(PLAN_URL))
    assert "Pas encore de plan d'actions pour cette phase" in team_page and "Rédigez-le" in team_page
    pilot_page = text(as_(people["pilot"]).get(PLAN_URL))
    assert "ne l'a pas encore rédigé" in pilot_page and "Enregistrer le brouillon" not in pilot_page


# --- the territory team writes and submits ------------------------------------------------------------------------


def test_the_team_writes_a_draft_then_submits_it_and_the_pilot_is_told(
    people, world, django_capture_on_commit_callbacks
):
    team = as_(people["team"])
    response = team.post(
        f"{PLAN_URL}brouillon/",
        {"phase": "2018-2022", f"phase{world['phase'].pk}-summary": "Axe 1 : recruter", "phase1-x": ""},
    )
    assert response.status_code == 302 and response["Location"] == PLAN_URL
    assert plans(world["ti-4401"]) == [(1, "draft")]
    expected = datetime.date(2019, 12, 15)
    team.post(
        f"{PLAN_URL}brouillon/",
        {
            "phase": "2018-2022",
            f"phase{world['phase'].pk}-summary": "Axe 1 : recruter ; axe 2 : innover",
            f"phase{world['phase'].pk}-expected_validation_on": expected.isoformat(),
        },
    )
    plan = ActionPlan.objects.get(territory=world["ti-4401"])
    assert (plan.summary, plan.expected_validation_on) == ("Axe 1 : recruter ; axe 2 : innover", expected)
    assert [h.action for h in history_of(plan)] == ["create", "update"]
    assert history_of(plan).last().user == people["team"]

    with django_capture_on_commit_callbacks(execute=True):
        response = team.post(f"{PLAN_URL}soumettre/", {"plan": plan.pk}, follow=True)
    assert plans(world["ti-4401"]) == [(1, "submitted")]
    assert mail.outbox[-1].to == ["pilote@grandest.fr"]
    page = text(response)
    assert "soumis à la Région" in page and "Soumis à la Région" in page
    assert timezone.localdate().strftime("%Y") in page
    assert "Enregistrer le brouillon" not in page and "Soumettre le plan" not in page


def test_a_submitted_plan_can_no_longer_be_edited(people, world):
    plan = draft(world, summary="Version soumise", status="submitted", submitted_on=datetime.date(2019, 9, 1))
    response = as_(people["team"]).post(
        f"{PLAN_URL}brouillon/", {"phase": "2018-2022", f"phase{world['phase'].pk}-summary": "Changement"}
    )
    assert response.status_code == 200
    assert "il ne peut plus être modifié" in text(response)
    plan.refresh_from_db()
    assert plan.summary == "Version soumise" and not history_of(plan).exists()


def test_a_draft_for_a_phase_the_territory_is_not_in_is_refused(people, world):
    other_phase = ProgrammePhase.objects.get(code="2023-2027")
    response = as_(people["team"]).post(
        f"{PLAN_URL}brouillon/", {"phase": "2023-2027", f"phase{other_phase.pk}-summary": "Hors phase"}
    )
    assert response.status_code == 200 and "ne participe pas à la phase" in text(response)
    assert plans(world["ti-4401"]) == []


def test_an_invalid_date_is_shown_back_with_its_message(people, world):
    response = as_(people["team"]).post(
        f"{PLAN_URL}brouillon/",
        {"phase": "2018-2022", f"phase{world['phase'].pk}-expected_validation_on": "31/02/2020"},
    )
    assert response.status_code == 200 and "Saisissez une date valide" in text(response)
    assert plans(world["ti-4401"]) == []


# --- the regional pilot decides -----------------------------------------------------------------------------------


@pytest.fixture
def submitted(people, world) -> ActionPlan:
    return submit_plan(people["team"], draft(world, summary="Axes 2019"), on=datetime.date(2019, 9, 1))


def test_the_pilot_returns_the_plan_with_a_reason_and_the_team_sees_it(people, world, submitted):
    pilot = as_(people["pilot"])
    page = text(pilot.get(PLAN_URL))
    assert "Valider le plan" in page and "Renvoyer le plan à l'équipe du territoire" in page

    response = pilot.post(f"{PLAN_URL}renvoyer/", {"plan": submitted.pk, f"phase{world['phase'].pk}-reason": "  "})
    assert response.status_code == 200 and "Le motif du renvoi est obligatoire." in text(response)
    assert plans(world["ti-4401"]) == [(1, "submitted")]

    reason = "Chiffrer les actions de l'axe recruter"
    pilot.post(f"{PLAN_URL}renvoyer/", {"plan": submitted.pk, f"phase{world['phase'].pk}-reason": reason})
    assert plans(world["ti-4401"]) == [(1, "returned")]

    team_page = text(as_(people["team"]).get(PLAN_URL))
    assert reason in team_page and "Préparer la version 2" in team_page and "Soumettre à nouveau" in team_page
    history = team_page[team_page.index("Historique") :]
    assert "pilote@grandest.fr" in history and reason in history
    assert "État : soumis à la Région → renvoyé pour modification" in history


def test_the_validation_date_is_required_and_not_in_the_future(people, world, submitted):
    pilot = as_(people["pilot"])
    field = f"phase{world['phase'].pk}-decided_on"
    response = pilot.post(f"{PLAN_URL}valider/", {"plan": submitted.pk, field: ""})
    assert "La date de la décision du Conseil régional est obligatoire." in text(response)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = pilot.post(f"{PLAN_URL}valider/", {"plan": submitted.pk, field: tomorrow.isoformat()})
    assert response.status_code == 200 and "ne peut pas être dans le futur" in text(response)
    assert plans(world["ti-4401"]) == [(1, "submitted")]

    response = pilot.post(f"{PLAN_URL}valider/", {"plan": submitted.pk, field: "2019-10-03"}, follow=True)
    plan = ActionPlan.objects.get(pk=submitted.pk)
    assert (plan.status, plan.decided_on) == ("validated", datetime.date(2019, 10, 3))
    assert "Validé par le Conseil régional le 3 octobre 2019" in text(response)


def test_after_a_return_the_team_edits_version_2_and_resubmits_it(people, world, submitted):
    return_plan(people["pilot"], submitted, reason="Préciser les financements")
    team = as_(people["team"])
    team.post(f"{PLAN_URL}brouillon/", {"phase": "2018-2022", f"phase{world['phase'].pk}-summary": "Axes 2019, v2"})
    assert plans(world["ti-4401"]) == [(1, "returned"), (2, "draft")]
    v1 = ActionPlan.objects.get(territory=world["ti-4401"], version=1)
    assert v1.summary == "Axes 2019"  # the version the Region returned stays as it was

    page = text(team.get(PLAN_URL))
    assert "La version 1 a été renvoyée par la Région" in page and "Préciser les financements" in page
    v2 = ActionPlan.objects.get(territory=world["ti-4401"], version=2)
    team.post(f"{PLAN_URL}soumettre/", {"plan": v2.pk})
    assert plans(world["ti-4401"]) == [(1, "returned"), (2, "submitted")]


def test_a_decision_posted_from_a_stale_page_changes_nothing(people, world, submitted):
    returned = return_plan(people["pilot"], submitted, reason="Compléter")
    submit_plan(people["team"], returned)  # version 2, while the pilot's page still shows version 1
    field = f"phase{world['phase'].pk}-decided_on"
    response = as_(people["pilot"]).post(f"{PLAN_URL}valider/", {"plan": submitted.pk, field: "2019-10-03"})
    assert response.status_code == 200 and "rechargez-la" in text(response)
    response = as_(people["team"]).post(f"{PLAN_URL}soumettre/", {"plan": submitted.pk})
    assert response.status_code == 200 and "rechargez-la" in text(response)
    assert plans(world["ti-4401"]) == [(1, "returned"), (2, "submitted")]


FORBIDDEN_ACTIONS = [
    ("team", "valider/", {"decided_on": "2019-10-03"}),
    ("team", "renvoyer/", {"reason": "non"}),
    ("pilot", "soumettre/", {}),
    ("pilot", "brouillon/", {"summary": "réécrit par la Région"}),
    ("national", "valider/", {"decided_on": "2019-10-03"}),
    ("national", "brouillon/", {"summary": "réécrit"}),
    ("state", "valider/", {"decided_on": "2019-10-03"}),
    ("other_pilot", "renvoyer/", {"reason": "non"}),
    ("other_team", "soumettre/", {}),
]


@pytest.mark.parametrize(("who", "action", "fields"), FORBIDDEN_ACTIONS)
def test_an_action_outside_ones_role_answers_403_and_changes_nothing(people, world, submitted, who, action, fields):
    prefix = f"phase{world['phase'].pk}"
    data = {"plan": submitted.pk, "phase": "2018-2022", **{f"{prefix}-{k}": v for k, v in fields.items()}}
    response = as_(people[who]).post(f"{PLAN_URL}{action}", data)
    assert response.status_code == 403 and "Accès refusé" in text(response)
    plan = ActionPlan.objects.get(pk=submitted.pk)
    assert (plan.status, plan.summary) == ("submitted", "Axes 2019") and plans(world["ti-4401"]) == [(1, "submitted")]


def test_every_plan_form_carries_a_csrf_token_and_a_post_without_one_is_refused(people, world, submitted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["pilot"])
    page = client.get(PLAN_URL).content.decode()
    assert page.count("<form") == page.count('name="csrfmiddlewaretoken"')
    field = f"phase{world['phase'].pk}-decided_on"
    assert client.post(f"{PLAN_URL}valider/", {"plan": submitted.pk, field: "2019-10-03"}).status_code == 403
    assert plans(world["ti-4401"]) == [(1, "submitted")]


def test_the_plan_page_costs_a_fixed_number_of_queries(people, world, submitted, django_assert_max_num_queries):
    returned = return_plan(people["pilot"], submitted, reason="Compléter")
    submit_plan(people["team"], returned)
    client = as_(people["pilot"])
    with django_assert_max_num_queries(12):
        assert client.get(PLAN_URL).status_code == 200


# --- the queue --------------------------------------------------------------------------------------------------


@pytest.fixture
def queue(people, world) -> None:
    ActionPlan.objects.create(
        territory=world["ti-4401"], phase=world["phase"], status="submitted", submitted_on=datetime.date(2019, 9, 20)
    )
    ActionPlan.objects.create(
        territory=world["ti-4402"], phase=world["phase"], status="submitted", submitted_on=datetime.date(2019, 6, 2)
    )
    ActionPlan.objects.create(
        territory=world["ti-5301"], phase=world["phase"], status="submitted", submitted_on=datetime.date(2019, 1, 5)
    )


def queue_rows(response) -> list[str]:
    source = response.content.decode()
    return re.findall(r'<td><a href="/espace/territoires/[^"]+">([^<]+)</a></td>', source)


def test_the_pilot_sees_its_regions_submitted_plans_oldest_first(people, queue, django_assert_max_num_queries):
    client = as_(people["pilot"])
    with django_assert_max_num_queries(8):
        response = client.get("/espace/plans/")
    assert queue_rows(response) == ["Sud Alsace", "Nord Lorraine"]
    assert "2 plans en attente" in text(response)
    assert queue_rows(as_(people["other_pilot"]).get("/espace/plans/")) == ["Lannion-Trégor"]
    national = queue_rows(as_(people["national"]).get("/espace/plans/"))
    assert national == ["Lannion-Trégor", "Sud Alsace", "Nord Lorraine"]


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("team", 403), ("state", 403), ("nobody", 403)])
def test_the_queue_is_for_regional_pilots(people, queue, who, status):
    assert as_(people.get(who)).get("/espace/plans/").status_code == status


def test_an_empty_queue_says_what_will_come(people):
    response = as_(people["pilot"]).get("/espace/plans/")
    assert "Aucun plan d'actions n'attend de décision" in text(response)


# --- the workspace ----------------------------------------------------------------------------------------------


def test_the_team_workspace_shows_its_territory_and_plan_status(people, world, submitted):
    page = text(as_(people["team"]).get("/espace/"))
    assert "Équipe du territoire Nord Lorraine" in page and "Soumis le 1 septembre 2019" in page
    assert PLAN_URL in as_(people["team"]).get("/espace/").content.decode()
    assert "Sud Alsace" not in page


def test_the_pilot_workspace_lists_its_territories_and_counts_the_plans_to_decide(
    people, queue, django_assert_max_num_queries
):
    client = as_(people["pilot"])
    with django_assert_max_num_queries(12):
        response = client.get("/espace/")
    source = response.content.decode()
    assert re.search(r'id="queue-badge">\s*2\s*<', source)
    page = text(response)
    assert "Nord Lorraine" in page and "Sud Alsace" in page and "Lannion" not in page


@pytest.mark.parametrize(
    ("who", "expected", "absent"),
    [
        ("state", ["Services de l'État — Grand Est", "Nord Lorraine", "Sud Alsace"], ["Lannion"]),
        ("funder", ["Financeur — Bpifrance", "1 projet sollicite votre financement", "Fonderie"], []),
        ("owner", ["Porteur de projet", "Fonderie"], []),
        ("national", ["Coordination nationale", "Aucun plan d'actions n'attend de décision régionale"], []),
        ("nobody", ["Aucun rôle ne vous est encore attribué"], []),
    ],
)
def test_each_role_finds_what_it_can_see_in_its_workspace(people, who, expected, absent):
    page = text(as_(people[who]).get("/espace/"))
    for words in expected:
        assert words in page
    for words in absent:
        assert words not in page
