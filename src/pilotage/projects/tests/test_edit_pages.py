# ruff: noqa: F811 (fixtures imported from manage_fixtures)
"""The back-office pages of a project as a territory team uses them: who may open them, what each form saves or
refuses (with the rule in French on the field), the history each write leaves, the project read as of a past date,
and the edit conflict of two people saving the same project."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilotage.core.history import history_of
from pilotage.core.models import ChangeLog
from pilotage.programme.models import ProgrammePhase, Theme
from pilotage.programme.tests.manage_fixtures import as_user, media, people, programme, text  # noqa: F401
from pilotage.projects import services, workflow
from pilotage.projects.models import FundingLine, Indicator, IndicatorValue, Milestone, Organisation, Project

pytestmark = pytest.mark.django_db

METZ, HAYANGE, EPINAL = "57463", "57306", "88160"  # Metz Métropole, Val de Fensch (Nord Lorraine); Épinal: elsewhere
BASE = "/espace/projets"
TODAY = timezone.localdate()


def version_of(response) -> str:
    return re.search(r'name="version" value="(\d+)"', response.content.decode()).group(1)


@pytest.fixture
def project(programme, people) -> Project:
    """A project of Nord Lorraine (ti-4401) created by its team through the service, so that it has a history."""
    return services.create_project(
        people["team"],
        {"territory": "ti-4401", "phase": "2018-2022", "title": "Parc d'activités", "themes": ["innover"],
         "commune": METZ, "total_cost": Decimal("100000")},
        reason="Comité de pilotage",
    )  # fmt: skip


@pytest.fixture
def private(programme, people) -> Project:
    return services.create_project(
        people["team"], {"territory": "ti-4401", "phase": "2018-2022", "title": "Confidentiel", "public": False}
    )


def pages(project: Project) -> dict[str, str]:
    line = FundingLine.objects.create(project=project, funder=Organisation.objects.create(name="Bpifrance"))
    milestone = Milestone.objects.create(project=project, label="Permis")
    base = f"{BASE}/{project.id_projet}"
    return {
        "overview": f"{base}/",
        "edit": f"{base}/modifier/",
        "status": f"{base}/statut/",
        "funding": f"{base}/financements/",
        "funding_edit": f"{base}/financements/{line.pk}/modifier/",
        "funding_delete": f"{base}/financements/{line.pk}/supprimer/",
        "indicators": f"{base}/indicateurs/",
        "milestones": f"{base}/jalons/",
        "milestone_edit": f"{base}/jalons/{milestone.pk}/modifier/",
        "history": f"{base}/historique/",
    }


# Nord Lorraine's projects are changed by its team only. Others who see the (public) project get 403; anonymous
# visitors are sent to the login page.
EXPECTED = {"team": 200, "other_team": 403, "pilot": 403, "state": 403, "national": 403, None: 302}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_project_page_answers_by_role(as_user, project, who):
    client = as_user(who)
    for name, url in pages(project).items():
        response = client.get(url)
        assert response.status_code == EXPECTED[who], (name, url)
        if response.status_code == 302:
            assert response["Location"].startswith(resolve_url(settings.LOGIN_URL)) and "next=" in response["Location"]
        if response.status_code == 403:
            assert "Accès refusé" in text(response)


def test_a_project_one_may_not_see_answers_404(as_user, private):
    client = as_user("other_team")
    for url in (f"{BASE}/{private.id_projet}/modifier/", f"{BASE}/{private.id_projet}/", f"{BASE}/INCONNU/statut/"):
        assert client.get(url).status_code == 404, url


def test_writes_of_another_territory_s_team_are_refused_and_change_nothing(as_user, project):
    client = as_user("other_team")
    urls = pages(project)
    counts = ChangeLog.objects.count()
    version = Project.objects.get(pk=project.pk).version
    responses = [
        client.post(urls["edit"], {"title": "Pirate", "version": version}),
        client.post(urls["status"], {"to_status": "maturing", "reason": "x", "version": version}),
        client.post(urls["funding"], {"funder": "Pirate", "status": "requested", "version": version}),
        client.post(urls["milestones"], {"label": "Pirate", "version": version}),
    ]
    assert [r.status_code for r in responses] == [403] * 4
    assert Project.objects.get(pk=project.pk).title == "Parc d'activités"
    assert ChangeLog.objects.count() == counts


# --- create ---------------------------------------------------------------------------------------------------------


def test_creating_starts_by_choosing_the_phase_of_the_territory(as_user, programme):
    response = as_user("team").get(f"{BASE}/nouveau/")
    links = re.findall(
        r'href="/espace/projets/nouveau/\?territoire=([^&]+)&amp;phase=([^"]+)"', response.content.decode()
    )
    assert links == [("ti-4401", "2023-2027"), ("ti-4401", "2018-2022")]  # Nord Lorraine takes part in both


def test_the_form_offers_the_phase_s_themes_and_the_perimeter_s_communes(as_user, programme):
    response = as_user("team").get(f"{BASE}/nouveau/?territoire=ti-4401&phase=2023-2027")
    html = response.content.decode()
    themes = re.findall(r'name="themes" value="(\d+)"', html)
    assert sorted(map(int, themes)) == sorted(
        Theme.objects.filter(phase__code="2023-2027").values_list("pk", flat=True)
    )
    assert re.search(r'<optgroup label="Metz Métropole">.*?<option value="57463">Metz \(57463\)</option>', html, re.S)
    assert f'value="{HAYANGE}"' in html and f'value="{EPINAL}"' not in html
    page = text(response)
    assert "9 chiffres, sa clé de contrôle est vérifiée" in page  # every rule is said on its field
    assert "Fin prévue ou réelle ; pas avant la date de début." in page


def test_a_team_creates_a_project_and_its_history_names_them(as_user, people, programme):
    client = as_user("team")
    themes = Theme.objects.filter(phase__code="2023-2027", code__in=["competences", "foncier"])
    response = client.post(
        f"{BASE}/nouveau/?territoire=ti-4401&phase=2023-2027",
        {
            "title": "Campus des métiers",
            "description": "Former aux métiers de l'industrie.",
            "themes": [t.pk for t in themes],
            "status": "idea",
            "owner_name": "Fonderie de l'Est",
            "owner_siren": "732 829 320",
            "commune": HAYANGE,
            "reported_on": "2024-03-12",
            "start_on": "2024-09-01",
            "end_on": "2026-06-30",
            "total_cost": "1 200 000,50 €",
            "public": "on",
            "reason": "Remonté en comité",
        },
    )
    created = Project.objects.get(title="Campus des métiers")
    assert response["Location"] == f"{BASE}/{created.id_projet}/"
    assert created.id_projet == "PRJ-ti-4401-0001"
    assert (created.phase.code, created.commune_id, created.total_cost, created.public) == (
        "2023-2027",
        HAYANGE,
        Decimal("1200000.50"),
        True,
    )
    assert (created.owner.name, created.owner.siren) == ("Fonderie de l'Est", "732829320")
    assert sorted(created.themes.values_list("code", flat=True)) == ["competences", "foncier"]
    entry = history_of(created).get()
    assert (entry.user, entry.action, entry.reason) == (people["team"], "create", "Remonté en comité")
    overview = client.get(response["Location"])
    assert "Projet créé : Campus des métiers" in text(overview)
    assert "Création" in text(overview) and "par team@example.fr" in text(overview)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Ce champ est obligatoire."),
        ("owner_siren", "732829321", "clé de contrôle erronée"),
        ("end_on", "2023-01-01", "La date de fin est antérieure à la date de début."),
        ("total_cost", "-5", "Le montant ne peut pas être négatif."),
        ("total_cost", "beaucoup", "n'est pas un montant"),
        ("commune", EPINAL, "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_created(as_user, programme, field, value, message):
    data = {"title": "Usine", "status": "idea", "owner_name": "Fonderie", "start_on": "2024-01-01"}
    response = as_user("team").post(f"{BASE}/nouveau/?territoire=ti-4401&phase=2018-2022", {**data, field: value})
    assert response.status_code == 200
    assert message in text(response)
    assert re.search(rf'id="[^"]*{field}[^"]*-desc-error"', response.content.decode()), field
    assert not Project.objects.filter(title="Usine").exists()


def test_only_territory_teams_create_projects(as_user, programme):
    assert as_user("pilot").get(f"{BASE}/nouveau/").status_code == 403
    client = as_user("other_team")  # Sud Alsace's team asking for Nord Lorraine gets its own territory
    response = client.post(f"{BASE}/nouveau/?territoire=ti-4401&phase=2018-2022", {"title": "Ailleurs"})
    links = re.findall(r'href="/espace/projets/nouveau/\?territoire=([^&]+)&amp;', response.content.decode())
    assert links == ["ti-4402"]
    assert not Project.objects.filter(title="Ailleurs").exists()


# --- edit -----------------------------------------------------------------------------------------------------------


def test_edit_saves_and_a_cost_change_needs_a_reason(as_user, people, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/modifier/"
    form = client.get(url)
    assert 'value="Parc d&#x27;activités"' in form.content.decode()
    innover = Theme.objects.get(phase__code="2018-2022", code="innover")
    data = {
        "title": "Parc d'activités bio-sourcées",
        "themes": [innover.pk],
        "commune": METZ,
        "total_cost": "150000",
        "public": "on",
        "version": version_of(form),
    }

    refused = client.post(url, data)

    assert "Indiquez le motif du changement de coût total." in text(refused)
    assert Project.objects.get(pk=project.pk).title == "Parc d'activités"
    response = client.post(url, {**data, "reason": "Devis actualisé"})
    saved = Project.objects.get(pk=project.pk)
    assert response.status_code == 302
    assert (saved.title, saved.total_cost, saved.version) == ("Parc d'activités bio-sourcées", Decimal("150000"), 2)
    entry = history_of(saved).order_by("-at", "-id").first()
    assert (entry.user, entry.reason, entry.before["total_cost"], entry.after["total_cost"]) == (
        people["team"],
        "Devis actualisé",
        "100000.00",
        "150000.00",
    )
    timeline = text(client.get(f"{BASE}/{project.id_projet}/historique/"))
    assert "Coût total (€) : 100 000 € → 150 000 €" in timeline
    assert "Motif : Devis actualisé" in timeline


def test_two_people_editing_the_second_gets_a_conflict_and_nothing_is_lost(client, people, project):
    url = f"{BASE}/{project.id_projet}/modifier/"
    client.force_login(people["team"])
    opened = client.get(url)
    # Meanwhile a teammate (here: the same team, through the service) renames the project.
    services.update_project(people["team"], project, {"title": "Parc d'activités du Val de Fensch"}, expected_version=1)

    response = client.post(
        url, {"title": "Parc Innov", "commune": METZ, "total_cost": "100000", "version": version_of(opened)}
    )

    assert response.status_code == 409
    page = text(response)
    assert "Quelqu'un a modifié ce projet pendant que vous le modifiiez" in page
    row = re.search(r"<th scope=\"row\">Titre</th>(.*?)</tr>", response.content.decode(), re.S).group(1)
    assert "Parc d&#x27;activités du Val de Fensch" in row and "Parc Innov" in row and "Parc d&#x27;activités<" in row
    assert 'value="Parc d&#x27;activités du Val de Fensch"' in response.content.decode()  # the form shows what is saved
    assert version_of(response) == "2"
    assert Project.objects.get(pk=project.pk).title == "Parc d'activités du Val de Fensch"
    # Saving again on the version now shown works.
    client.post(url, {"title": "Parc Innov", "commune": METZ, "total_cost": "100000", "version": "2"})
    assert Project.objects.get(pk=project.pk).title == "Parc Innov"
    titles = [e.after["title"] for e in history_of(project).order_by("at", "id")]
    assert titles == ["Parc d'activités", "Parc d'activités du Val de Fensch", "Parc Innov"]


def test_a_tampered_version_is_refused(as_user, project):
    response = as_user("team").post(f"{BASE}/{project.id_projet}/modifier/", {"title": "X", "version": "abc"})
    assert "Ce formulaire est incomplet ou a été altéré" in text(response)
    assert Project.objects.get(pk=project.pk).title == "Parc d'activités"


# --- status ---------------------------------------------------------------------------------------------------------


def test_status_moves_forward_with_a_reason(as_user, people, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/statut/"
    form = client.get(url)
    offered = re.findall(r'name="to_status" value="([a-z_]+)"', form.content.decode())
    assert offered == ["maturing", "ready", "in_progress", "completed", "abandoned"]

    refused = client.post(url, {"to_status": "maturing", "reason": "", "version": version_of(form)})
    assert "Ce champ est obligatoire." in text(refused)
    assert Project.objects.get(pk=project.pk).status == "idea"

    client.post(url, {"to_status": "maturing", "reason": "Étude de faisabilité lancée", "version": version_of(form)})
    saved = Project.objects.get(pk=project.pk)
    assert saved.status == "maturing"
    change = saved.status_changes.order_by("-at", "-id").first()
    assert (change.status, change.by_label, change.reason) == (
        "maturing",
        "team@example.fr",
        "Étude de faisabilité lancée",
    )
    again = client.get(url)
    assert re.findall(r'name="to_status" value="([a-z_]+)"', again.content.decode())[0] == "ready"  # never back
    assert "Étude de faisabilité lancée" in text(again)


def test_abandon_keeps_its_reason_and_closes_the_project(as_user, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/statut/"
    client.post(url, {"to_status": "abandoned", "reason": "Porteur en liquidation", "version": "1"})
    saved = Project.objects.get(pk=project.pk)
    assert (saved.status, saved.abandon_reason) == ("abandoned", "Porteur en liquidation")
    assert "son statut ne change plus" in text(client.get(url))
    assert "Porteur en liquidation" in text(client.get(f"/projets/{project.id_projet}/"))


def test_a_status_change_over_a_stale_version_is_a_conflict(as_user, people, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/statut/"
    workflow.advance(people["team"], project, "ready", "Dossier complet", expected_version=1)
    response = client.post(url, {"to_status": "maturing", "reason": "Étude", "version": "1"})
    assert response.status_code == 409
    assert re.search(r"Statut</th>\s*<td>Idée</td>\s*<td><strong>Prêt</strong></td>\s*<td>En maturation</td>",
                     response.content.decode())  # fmt: skip
    assert Project.objects.get(pk=project.pk).status == "ready"


# --- funding, indicators, milestones ----------------------------------------------------------------------------


def test_funding_lines_are_added_changed_with_a_reason_and_deleted_with_a_reason(as_user, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/financements/"
    client.post(url, {"funder": "Banque des Territoires", "instrument": "Prêt", "requested": "40 000",
                      "status": "requested", "version": "1"})  # fmt: skip
    line = FundingLine.objects.get(project=project)
    assert (line.funder.name, line.requested) == ("Banque des Territoires", Decimal("40000"))

    edit = f"{url}{line.pk}/modifier/"
    data = {"funder": "Banque des Territoires", "instrument": "Prêt", "requested": "40000", "granted": "35000",
            "decided_on": "2024-06-01", "status": "granted", "version": "2"}  # fmt: skip
    assert "Indiquez le motif du changement de montant." in text(client.post(edit, data))
    client.post(edit, {**data, "reason": "Comité d'engagement du 1er juin"})
    line.refresh_from_db()
    assert (line.granted, line.status) == (Decimal("35000"), "granted")

    delete = f"{url}{line.pk}/supprimer/"
    assert "Ce champ est obligatoire." in text(client.post(delete, {"version": "3"}))
    client.post(delete, {"reason": "Doublon", "version": "3"})
    assert not FundingLine.objects.filter(pk=line.pk).exists()
    history = text(client.get(f"{BASE}/{project.id_projet}/historique/"))
    assert "Financement « Banque des Territoires — Prêt » — suppression" in history
    assert "Motif : Doublon" in history


def test_a_funding_line_changed_meanwhile_shows_both_values(as_user, people, project):
    client = as_user("team")
    line = services.add_funding_line(people["team"], project, {"funder": "Bpifrance", "requested": Decimal("1000")})
    edit = f"{BASE}/{project.id_projet}/financements/{line.pk}/modifier/"
    opened = client.get(edit)
    services.update_funding_line(people["team"], line, {"requested": Decimal("2000")}, reason="Devis")
    response = client.post(edit, {"funder": "Bpifrance", "requested": "3000", "status": "requested", "reason": "x",
                                  "version": version_of(opened)})  # fmt: skip
    assert response.status_code == 409
    row = re.search(r"<th scope=\"row\">Montant demandé \(€\)</th>(.*?)</tr>", response.content.decode(), re.S)
    assert "2\xa0000\xa0€" in row.group(1) and "3\xa0000\xa0€" in row.group(1)
    assert "Motif : Devis" in text(response)
    assert FundingLine.objects.get(pk=line.pk).requested == Decimal("2000")


def test_indicator_values_are_recorded_by_date(as_user, project):
    jobs = Indicator.objects.create(phase=project.phase, code="emplois", label="Emplois créés", unit="emplois")
    Indicator.objects.create(phase=ProgrammePhase.objects.get(code="2023-2027"), code="autre", label="Autre phase")
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/indicateurs/"
    form = client.get(url)
    assert "Emplois créés (emplois)" in text(form) and "Autre phase" not in text(form)

    refused = client.post(url, {"indicator": jobs.pk, "on": "2024-12-31", "version": "1"})
    assert "Indiquez une valeur cible ou mesurée." in text(refused)
    client.post(url, {"indicator": jobs.pk, "on": "2024-12-31", "target": "40", "version": "1"})
    value = IndicatorValue.objects.get(project=project)
    prefilled = client.get(f"{url}?valeur={value.pk}")
    assert 'name="target" value="40"' in prefilled.content.decode()
    client.post(url, {"indicator": jobs.pk, "on": "2024-12-31", "target": "40", "measured": "17", "version": "2"})
    value.refresh_from_db()
    assert (value.target, value.measured) == (Decimal("40"), Decimal("17"))
    assert IndicatorValue.objects.filter(project=project).count() == 1


def test_milestones_are_added_and_edited(as_user, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/jalons/"
    assert "Ce champ est obligatoire." in text(client.post(url, {"label": "", "version": "1"}))
    client.post(url, {"label": "Permis de construire", "planned_on": "2024-12-01", "version": "1"})
    milestone = Milestone.objects.get(project=project)
    client.post(f"{url}{milestone.pk}/modifier/", {"label": "Permis de construire", "planned_on": "2024-12-01",
                                                   "actual_on": "2025-01-10", "version": "2"})  # fmt: skip
    milestone.refresh_from_db()
    assert milestone.actual_on == datetime.date(2025, 1, 10)
    assert "Jalon « Permis de construire » — modification" in text(client.get(url))


def test_an_addition_over_a_stale_version_keeps_what_was_entered_and_adds_nothing(as_user, people, project):
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/jalons/"
    opened = client.get(url)
    services.add_milestone(people["team"], project, {"label": "Permis de construire"}, reason="Calendrier")

    response = client.post(url, {"label": "Mise en service", "planned_on": "2026-01-15", "version": version_of(opened)})

    assert response.status_code == 409
    assert "Jalon — création" in text(response) and "Motif : Calendrier" in text(response)
    assert 'value="Mise en service"' in response.content.decode() and version_of(response) == "2"
    assert list(project.milestones.values_list("label", flat=True)) == ["Permis de construire"]


# --- history --------------------------------------------------------------------------------------------------------


def test_the_project_as_it_was_on_a_past_day(as_user, people, project):
    ChangeLog.objects.filter(object_pk=str(project.pk)).update(at=timezone.now() - datetime.timedelta(days=10))
    services.update_project(people["team"], project, {"title": "Nouveau titre"}, expected_version=1)
    client = as_user("team")
    url = f"{BASE}/{project.id_projet}/historique/"

    then = text(client.get(url, {"date": (TODAY - datetime.timedelta(days=5)).isoformat()}))
    now = text(client.get(url, {"date": TODAY.isoformat()}))
    before = text(client.get(url, {"date": (TODAY - datetime.timedelta(days=30)).isoformat()}))

    assert "Titre Parc d'activités Statut Idée" in then
    assert "Titre Nouveau titre" in now
    assert "Le projet n'existait pas encore à cette date" in before
    assert "Choisissez une date passée" in text(client.get(url, {"date": "2999-01-01"}))


def test_the_public_page_links_to_the_back_office_for_those_who_may_edit(as_user, project):
    url = f"/projets/{project.id_projet}/"
    edit_link = f'href="{BASE}/{project.id_projet}/modifier/"'
    assert edit_link in as_user("team").get(url).content.decode()
    assert edit_link not in as_user("other_team").get(url).content.decode()
    assert edit_link not in as_user(None).get(url).content.decode()


def test_pages_cost_the_same_number_of_queries_whatever_the_history(as_user, people, project):
    client = as_user("team")
    urls = [f"{BASE}/{project.id_projet}/{page}" for page in ("", "historique/", "financements/", "jalons/")]

    def queries() -> list[int]:
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as context:
                assert client.get(url).status_code == 200
            counts.append(len(context.captured_queries))
        return counts

    def write(count: int) -> None:
        for number in range(count):
            services.update_project(people["team"], project, {"title": f"Titre {number}"})
            services.add_milestone(people["team"], project, {"label": f"Jalon {number}"})
            services.add_funding_line(people["team"], project, {"funder": f"Financeur {number}"})

    write(4)  # entries of every kind in view: the timeline costs one query per kind of record and field it shows
    queries()  # (content types are cached by the first pages shown)
    short = queries()
    write(12)
    assert queries() == short
