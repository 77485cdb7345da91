"""The national coordination's back office as its users meet it: who may open it, what each form saves or refuses
(with the same rules as the files), the history it leaves, the invitation e-mail, and the projects it features on
the public home. Django's admin is for super-users only."""

from __future__ import annotations

import datetime
import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.accounts.models import User
from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.core.models import ChangeLog
from pilotage.geo.models import Epci
from pilotage.programme import national
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.projects.models import Organisation, Project
from pilotage.web.tests.factories import make_programme, make_territory

from .manage_fixtures import hidden_version, text

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-solide-2024"
BASE = "/espace/national/"
METZ, FENSCH, MULHOUSE, STRASBOURG = "200039865", "245701222", "200066009", "246700488"
VALID_UNKNOWN_SIREN = "200000172"  # its key is right, but it is no EPCI
FUNDER_SIREN = "180020026"  # Caisse des dépôts et consignations


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs a second per password on the CI machines; what is tested here is not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(geo_slice):
    """The public pages' programme (Nord Lorraine ti-4401 with project P-0001, Sud Alsace ti-4402…), a funder
    with a funding line on P-0001, and a theme on P-0001."""
    programme = make_programme()
    funder = Organisation.objects.create(name="Banque des Territoires", kind=Organisation.Kind.FUNDER)
    project = Project.objects.get(id_projet="P-0001")
    project.funding_lines.create(funder=funder, instrument="Prêt", requested=100000)
    project.themes.add(Theme.objects.get(phase__code="2018-2022", code="innover"))
    return {**programme, "funder": funder, "project": project}


# Who is who: (role, scope) as `create_user` reads them.
ROLES = {
    "national": ("national", None),
    "pilot": ("regional_pilot", "44"),
    "state": ("state_services", "44"),
    "team": ("territory_team", "ti-4401"),
    "owner": ("project_owner", "P-0001"),
    "funder": ("funder", "Banque des Territoires"),
}


@pytest.fixture
def people(world):
    users = {
        key: create_or_update_user(f"{key}@example.fr", role, scope, password=PASSWORD)[0]
        for key, (role, scope) in ROLES.items()
    }
    users["superuser"] = User.objects.create_superuser("root@example.fr", "root@example.fr", PASSWORD)
    users["staff"] = User.objects.create_user("staff@example.fr", "staff@example.fr", PASSWORD, is_staff=True)
    return users


@pytest.fixture
def as_user(client, people):
    def login(key: str | None):
        client.logout()
        if key:
            client.force_login(people[key])
        return client

    return login


@pytest.fixture
def coordinator(as_user):
    return as_user("national")


def pages(world, people) -> dict[str, str]:
    theme = Theme.objects.get(phase__code="2018-2022", code="attirer")
    return {
        "dashboard": BASE,
        "phases": f"{BASE}phases/",
        "phase_add": f"{BASE}phases/ajouter/",
        "phase": f"{BASE}phases/2018-2022/",
        "phase_edit": f"{BASE}phases/2018-2022/modifier/",
        "theme_add": f"{BASE}phases/2018-2022/themes/ajouter/",
        "theme_edit": f"{BASE}phases/2018-2022/themes/{theme.pk}/modifier/",
        "theme_delete": f"{BASE}phases/2018-2022/themes/{theme.pk}/supprimer/",
        "funders": f"{BASE}financeurs/",
        "funder_add": f"{BASE}financeurs/ajouter/",
        "funder_edit": f"{BASE}financeurs/{world['funder'].pk}/modifier/",
        "territories": f"{BASE}territoires/",
        "territory_add": f"{BASE}territoires/ajouter/",
        "territory_edit": f"{BASE}territoires/ti-4401/modifier/",
        "users": f"{BASE}utilisateurs/",
        "user_invite": f"{BASE}utilisateurs/inviter/",
        "user": f"{BASE}utilisateurs/{people['team'].pk}/",
        "featured": f"{BASE}projets-remarquables/",
        "featured_project": f"{BASE}projets-remarquables/P-0001/",
    }


# The national coordination (and a super-user) manage the programme's referentials; every other role is refused with
# the French 403 page, whatever its scope; visitors are sent to the login page.
EXPECTED = {
    "national": 200,
    "superuser": 200,
    "pilot": 403,
    "state": 403,
    "team": 403,
    "owner": 403,
    "funder": 403,
    "staff": 403,
    None: 302,
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_national_page_answers_by_role(as_user, world, people, who):
    client = as_user(who)
    for name, url in pages(world, people).items():
        response = client.get(url)
        assert response.status_code == EXPECTED[who], (name, url)
        if response.status_code == 302:
            assert response["Location"].startswith("/compte/connexion/?next=")
        if response.status_code == 403:
            assert "réservée à la coordination nationale" in text(response)


@pytest.mark.parametrize("who", ["pilot", "team", "staff", None])
def test_a_write_by_anyone_else_changes_nothing(as_user, world, who):
    client = as_user(who)
    client.post(
        f"{BASE}phases/ajouter/", {"code": "2028-2032", "name": "X", "starts_on": "2028-01-01", "ends_on": "2032-12-31"}
    )
    client.post(f"{BASE}financeurs/ajouter/", {"name": "Pirate"})
    client.post(f"{BASE}utilisateurs/inviter/", {"email": "pirate@example.fr", "kind": "national"})
    client.post(f"{BASE}projets-remarquables/P-0001/", {"reason": "Pirate"})
    assert not ProgrammePhase.objects.filter(code="2028-2032").exists()
    assert not Organisation.objects.filter(name="Pirate").exists()
    assert not User.objects.filter(email="pirate@example.fr").exists()
    assert not Project.objects.get(id_projet="P-0001").featured


def test_the_dashboard_leads_to_each_section_with_its_figures(coordinator, world):
    page = text(coordinator.get(BASE))
    assert "2 phases, 9 thèmes" in page
    assert f"{Territory.objects.count()} territoires" in page
    assert "1 financeur " in page
    assert "0 sur 6 sur l'accueil" in page
    for section in ("phases/", "territoires/", "financeurs/", "utilisateurs/", "projets-remarquables/"):
        assert f'href="{BASE}{section}"' in coordinator.get(BASE).content.decode()


def test_the_workspace_links_the_national_role_to_its_pages(coordinator, as_user):
    assert f'href="{BASE}"' in coordinator.get("/espace/").content.decode()
    assert f'href="{BASE}"' not in as_user("pilot").get("/espace/").content.decode()


# --- phases and themes ----------------------------------------------------------------------------------------


def phase_data(**overrides) -> dict:
    return {
        "code": "2028-2032",
        "name": "Territoires d'industrie 2028-2032",
        "starts_on": "2028-01-01",
        "ends_on": "2032-12-31",
        "reason": "Nouvelle phase annoncée",
        **overrides,
    }


def test_a_phase_is_created_with_its_history(coordinator, world, people):
    response = coordinator.post(f"{BASE}phases/ajouter/", phase_data())
    assert response.status_code == 302 and response["Location"] == f"{BASE}phases/2028-2032/"
    phase = ProgrammePhase.objects.get(code="2028-2032")
    assert (phase.starts_on, phase.ends_on) == (datetime.date(2028, 1, 1), datetime.date(2032, 12, 31))
    entry = history_of(phase).get()
    assert (entry.action, entry.user, entry.reason) == ("create", people["national"], "Nouvelle phase annoncée")
    assert entry.after["code"] == "2028-2032"
    assert "Nouvelle phase annoncée" in text(coordinator.get(f"{BASE}phases/2028-2032/"))


WRONG_PHASES = [
    ({"code": "2028 2032"}, "code", "Le code ne contient que des chiffres"),
    ({"code": "2018-2022"}, "code", "Une phase porte déjà le code 2018-2022."),
    ({"ends_on": "2027-12-31"}, "ends_on", "La fin de la phase doit suivre son début."),
]


def test_a_wrong_phase_is_refused_with_its_reason(coordinator, world):
    for overrides, field, message in WRONG_PHASES:  # one set-up for all the cases: the referential is slow to load
        response = coordinator.post(f"{BASE}phases/ajouter/", phase_data(**overrides))
        assert response.status_code == 200, overrides
        assert message in response.context["form"].errors[field][0], overrides
    assert ProgrammePhase.objects.count() == 2


def test_a_used_phase_keeps_its_code_but_its_name_and_dates_change(coordinator, world):
    url = f"{BASE}phases/2018-2022/modifier/"
    version = hidden_version(coordinator.get(url))
    data = phase_data(code="2018-2023", name="Première phase", starts_on="2018-11-22", ends_on="2022-12-31")
    response = coordinator.post(url, {**data, "version": version})
    assert response.status_code == 302
    phase = ProgrammePhase.objects.get(name="Première phase")
    assert phase.code == "2018-2022"  # the code field is locked: what was posted is ignored
    entry = history_of(phase).get()
    assert (entry.before["name"], entry.after["name"]) == ("Territoires d'industrie 2018-2022", "Première phase")


def test_the_service_refuses_to_change_a_used_phase_code(world, people):
    phase = ProgrammePhase.objects.get(code="2018-2022")
    with pytest.raises(ValidationError) as refused:
        national.edit_phase(people["national"], phase, phase_data(code="2018-2023"), base=None)
    assert "ne change plus" in refused.value.message_dict["code"][0]
    unused = national.create_phase(people["national"], phase_data())
    national.edit_phase(people["national"], unused, phase_data(code="2028-2033"), base=None)
    assert ProgrammePhase.objects.filter(code="2028-2033").exists()


def test_an_edit_over_a_newer_version_is_a_conflict(coordinator, world):
    url = f"{BASE}phases/2023-2027/modifier/"
    version = hidden_version(coordinator.get(url))
    data = phase_data(code="2023-2027", starts_on="2023-01-01", ends_on="2027-12-31")
    assert coordinator.post(url, {**data, "name": "Phase deux", "version": version}).status_code == 302
    response = coordinator.post(url, {**data, "name": "Deuxième phase", "version": version})
    assert response.status_code == 409
    assert "Quelqu'un a modifié cet enregistrement" in text(response)
    assert ProgrammePhase.objects.get(code="2023-2027").name == "Phase deux"


def theme_data(**overrides) -> dict:
    return {
        "code": "decarboner",
        "label": "Décarboner",
        "description": "Réduire les émissions",
        "position": "9",
        **overrides,
    }


def test_a_theme_is_added_to_a_phase_and_listed_there(coordinator, world, people):
    response = coordinator.post(f"{BASE}phases/2018-2022/themes/ajouter/", theme_data(reason="Axe ajouté"))
    assert response.status_code == 302
    theme = Theme.objects.get(phase__code="2018-2022", code="decarboner")
    assert (theme.label, theme.position) == ("Décarboner", 9)
    assert history_of(theme).get().reason == "Axe ajouté"
    assert "Décarboner" in text(coordinator.get(f"{BASE}phases/2018-2022/"))


def test_a_theme_code_or_label_used_in_the_phase_is_refused(coordinator, world):
    url = f"{BASE}phases/2018-2022/themes/ajouter/"
    form = coordinator.post(url, theme_data(code="innover")).context["form"]
    assert form.errors["code"] == ["Le thème « Innover » de la phase 2018-2022 porte déjà le code innover."]
    form = coordinator.post(url, theme_data(label="INNOVER")).context["form"]
    assert form.errors["label"] == ["Un autre thème de la phase 2018-2022 porte déjà ce libellé."]
    assert not Theme.objects.filter(code="decarboner").exists()
    # Each phase has its own themes: the same code is free in another phase.
    assert coordinator.post(f"{BASE}phases/2023-2027/themes/ajouter/", theme_data(code="innover")).status_code == 302


def test_a_theme_label_changes_but_a_used_theme_keeps_its_code(coordinator, world):
    theme = Theme.objects.get(phase__code="2018-2022", code="innover")
    url = f"{BASE}phases/2018-2022/themes/{theme.pk}/modifier/"
    version = hidden_version(coordinator.get(url))
    data = theme_data(code="innovation", label="Innover ensemble", position="3", version=version)
    assert coordinator.post(url, data).status_code == 302
    theme.refresh_from_db()
    assert (theme.code, theme.label, theme.position) == ("innover", "Innover ensemble", 3)


def test_an_unused_theme_is_deleted_and_its_deletion_kept(coordinator, world):
    theme = Theme.objects.get(phase__code="2018-2022", code="attirer")
    response = coordinator.post(f"{BASE}phases/2018-2022/themes/{theme.pk}/supprimer/", {"reason": "Fusionné"})
    assert response.status_code == 302
    assert not Theme.objects.filter(pk=theme.pk).exists()
    entry = ChangeLog.objects.get(object_pk=str(theme.pk), content_type__model="theme")
    assert (entry.action, entry.reason, entry.before["code"], entry.after) == ("delete", "Fusionné", "attirer", None)


def test_a_theme_that_projects_have_cannot_be_deleted(coordinator, world):
    theme = Theme.objects.get(phase__code="2018-2022", code="innover")
    url = f"{BASE}phases/2018-2022/themes/{theme.pk}/supprimer/"
    assert "celui d'un projet : il ne peut pas être supprimé" in text(coordinator.get(url))
    response = coordinator.post(url, {"reason": "Essai"})
    assert "il ne peut pas être supprimé" in text(response)
    assert Theme.objects.filter(pk=theme.pk).exists()
    assert not history_of(theme).exists()


# --- funders --------------------------------------------------------------------------------------------------


def test_a_funder_is_created_with_a_checked_siren(coordinator, world, people):
    response = coordinator.post(f"{BASE}financeurs/ajouter/", {"name": "Caisse des dépôts", "siren": "180 020 026"})
    assert response.status_code == 302
    funder = Organisation.objects.get(name="Caisse des dépôts")
    assert (funder.kind, funder.siren) == ("funder", FUNDER_SIREN)
    assert history_of(funder).get().after == {"name": "Caisse des dépôts", "siren": FUNDER_SIREN, "kind": "funder"}
    assert FUNDER_SIREN in text(coordinator.get(f"{BASE}financeurs/"))


WRONG_FUNDERS = [
    ({"name": "Caisse", "siren": "180020027"}, "siren", "clé de contrôle erronée"),
    ({"name": "Caisse", "siren": "18002002"}, "siren", "doit comporter 9 chiffres"),
    ({"name": "banque des territoires"}, "name", "Un financeur porte déjà ce nom."),
]


def test_a_wrong_funder_is_refused(coordinator, world):
    for data, field, message in WRONG_FUNDERS:
        form = coordinator.post(f"{BASE}financeurs/ajouter/", data).context["form"]
        assert message in form.errors[field][0], data
    assert Organisation.objects.filter(kind="funder").count() == 1


def test_a_funder_is_renamed_with_its_history(coordinator, world):
    funder = world["funder"]
    url = f"{BASE}financeurs/{funder.pk}/modifier/"
    version = hidden_version(coordinator.get(url))
    data = {"name": "Banque des Territoires (CDC)", "siren": FUNDER_SIREN, "reason": "SIREN", "version": version}
    assert coordinator.post(url, data).status_code == 302
    funder.refresh_from_db()
    assert (funder.name, funder.siren) == ("Banque des Territoires (CDC)", FUNDER_SIREN)
    assert "Banque des Territoires (CDC)" in text(coordinator.get(url))  # the timeline under the form


# --- territories ----------------------------------------------------------------------------------------------


def territory_data(**overrides) -> dict:
    phase = ProgrammePhase.objects.get(code="2023-2027")
    return {"code": "ti-4403", "name": "Pays messin", "phases": [phase.pk], "epcis": [METZ, FENSCH], **overrides}


def test_a_territory_is_created_with_its_region_and_derived_figures(coordinator, world, people):
    response = coordinator.post(f"{BASE}territoires/ajouter/", territory_data(reason="Labellisé en 2024"))
    assert response.status_code == 302
    territory = Territory.objects.get(code="ti-4403")
    epcis = Epci.objects.filter(siren__in=[METZ, FENSCH])
    assert territory.region_id == "44"
    assert territory.population == sum(e.population for e in epcis) > 0
    assert territory.communes_count == sum(e.communes.count() for e in epcis) > 0
    assert list(territory.phases.values_list("code", flat=True)) == ["2023-2027"]
    entry = history_of(territory).get()
    assert (entry.action, entry.reason, entry.after["epcis"]) == ("create", "Labellisé en 2024", [METZ, FENSCH])
    assert "Pays messin" in text(coordinator.get("/territoires/ti-4403/"))


WRONG_TERRITORIES = [
    ({"code": "ti-44A3"}, "code", "n'est pas de la forme ti-RRNN"),
    ({"code": "4403"}, "code", "n'est pas de la forme ti-RRNN"),
    ({"code": "ti-9901"}, "code", "désigne une région inconnue (code INSEE 99)"),
    ({"code": "ti-4401"}, "code", "Le territoire ti-4401 existe déjà"),
    ({"code": "ti-5301"}, "epcis", "Aucun EPCI du périmètre n'a de commune en région Bretagne"),
    ({"epcis": [METZ, VALID_UNKNOWN_SIREN]}, "epcis", f"L'EPCI de SIREN {VALID_UNKNOWN_SIREN} est inconnu"),
    ({"epcis": ["200039866"]}, "epcis", "clé de contrôle erronée"),
    ({"epcis": []}, "epcis", "Choisissez au moins un EPCI"),
    ({"phases": []}, "phases", "Ce champ est obligatoire."),
    ({"name": "  "}, "name", "Ce champ est obligatoire."),
]


def test_a_wrong_territory_is_refused_with_the_import_rules(coordinator, world):
    assert not Epci.objects.filter(siren=VALID_UNKNOWN_SIREN).exists()
    count = Territory.objects.count()
    for overrides, field, message in WRONG_TERRITORIES:
        response = coordinator.post(f"{BASE}territoires/ajouter/", territory_data(**overrides))
        assert response.status_code == 200, overrides
        errors = response.context["form"].errors.get(field, [])
        assert any(message in error for error in errors), (overrides, response.context["form"].errors)
    assert Territory.objects.count() == count


def test_a_territory_perimeter_change_refreshes_its_figures_and_history(coordinator, world):
    nord = world["nord"]
    url = f"{BASE}territoires/ti-4401/modifier/"
    version = hidden_version(coordinator.get(url))
    phases = list(nord.phases.values_list("pk", flat=True))
    data = {"name": "Nord Lorraine", "phases": phases, "epcis": [METZ], "version": version, "reason": "Fensch sort"}
    assert coordinator.post(url, data).status_code == 302
    nord.refresh_from_db()
    assert list(nord.epcis.values_list("siren", flat=True)) == [METZ]
    assert nord.population == Epci.objects.get(siren=METZ).population
    entry = history_of(nord).get()
    assert (entry.before["epcis"], entry.after["epcis"], entry.reason) == ([METZ, FENSCH], [METZ], "Fensch sort")
    page = text(coordinator.get(url))
    assert f"EPCI retirés du périmètre : CA du Val de Fensch ({FENSCH})" in page


def test_the_perimeter_select_offers_the_epci_grouped_by_region(coordinator, world):
    html = coordinator.get(f"{BASE}territoires/ajouter/").content.decode()
    grand_est = re.search(r'<optgroup label="Grand Est">(.*?)</optgroup>', html, re.S).group(1)
    assert f'value="{STRASBOURG}"' in grand_est and f'value="{MULHOUSE}"' in grand_est
    assert "programme/national.js" in html


# --- users ----------------------------------------------------------------------------------------------------


def test_an_invited_person_gets_an_account_a_role_and_an_email_to_choose_a_password(coordinator, world, client):
    data = {"email": "Chef.Projet@Nord-Lorraine.fr", "kind": "territory_team", "scope": "ti-4401", "reason": "Recrutée"}
    response = coordinator.post(f"{BASE}utilisateurs/inviter/", data)
    invited = User.objects.get(email="chef.projet@nord-lorraine.fr")
    assert response.status_code == 302 and response["Location"] == f"{BASE}utilisateurs/{invited.pk}/"
    assert [(r.kind, r.territory.code) for r in invited.roles.all()] == [("territory_team", "ti-4401")]
    assert not invited.has_usable_password()
    entry = history_of(invited).get()
    assert (entry.action, entry.reason, entry.after["is_active"]) == ("create", "Recrutée", True)
    assert [m.to for m in mail.outbox] == [["chef.projet@nord-lorraine.fr"]]
    body = mail.outbox[0].body
    assert "vous a ouvert un compte" in body and "Nord Lorraine" in body
    link = re.search(r"http://testserver(/compte/mot-de-passe/\S+/)", body).group(1)
    client.logout()
    form_page = client.get(link, follow=True)
    assert "Nouveau mot de passe" in text(form_page)


WRONG_INVITATIONS = [
    ({"email": "x@example.fr", "kind": "territory_team", "scope": "ti-9999"}, "scope", "Territoire inconnu"),
    ({"email": "x@example.fr", "kind": "regional_pilot", "scope": ""}, "scope", "Ce rôle demande un périmètre"),
    ({"email": "x@example.fr", "kind": "national", "scope": "44"}, "scope", "n'a pas de périmètre"),
    ({"email": "x@example.fr", "kind": "funder", "scope": "Inconnu SA"}, "scope", "Financeur inconnu"),
    ({"email": "pas-une-adresse", "kind": "national"}, "email", "Saisissez une adresse"),
]


def test_a_wrong_invitation_creates_nobody(coordinator, world):
    for data, field, message in WRONG_INVITATIONS:
        response = coordinator.post(f"{BASE}utilisateurs/inviter/", data)
        assert any(message in error for error in response.context["form"].errors[field]), data
    assert not User.objects.filter(email__in=["x@example.fr", "pas-une-adresse"]).exists()
    assert not Organisation.objects.filter(name="Inconnu SA").exists()
    assert mail.outbox == []


def test_roles_are_added_and_removed_with_their_history(coordinator, people):
    pilot = people["pilot"]
    url = f"{BASE}utilisateurs/{pilot.pk}/"
    coordinator.post(f"{url}roles/ajouter/", {"kind": "state_services", "scope": "44", "reason": "Intérim"})
    assert sorted(pilot.roles.values_list("kind", flat=True)) == ["regional_pilot", "state_services"]
    assert mail.outbox == []  # this person has a password already
    role = pilot.roles.get(kind="regional_pilot")
    coordinator.post(f"{url}roles/{role.pk}/retirer/", {"reason": "Fin de mission"})
    assert list(pilot.roles.values_list("kind", flat=True)) == ["state_services"]
    added, removed = history_of(pilot).order_by("at", "id")
    assert added.reason == "Intérim" and removed.reason == "Fin de mission"
    page = text(coordinator.get(url))
    assert "Rôle retiré : pilote régional (Conseil régional) — Grand Est" in page


def test_a_deactivated_user_can_no_longer_log_in(coordinator, people, client):
    owner = people["owner"]
    response = coordinator.post(f"{BASE}utilisateurs/{owner.pk}/activation/", {"active": "0", "reason": "Départ"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active
    assert history_of(owner).get().reason == "Départ"
    client.logout()
    assert not client.login(email=owner.email, password=PASSWORD)
    coordinator.force_login(people["national"])
    coordinator.post(f"{BASE}utilisateurs/{owner.pk}/activation/", {"active": "1"})
    owner.refresh_from_db()
    assert owner.is_active


def test_the_coordinator_cannot_lock_themselves_out(coordinator, people):
    me = people["national"]
    url = f"{BASE}utilisateurs/{me.pk}/"
    coordinator.post(f"{url}activation/", {"active": "0"})
    coordinator.post(f"{url}roles/{me.roles.get().pk}/retirer/", {})
    me.refresh_from_db()
    assert me.is_active and me.roles.filter(kind="national").exists()


def test_the_user_list_shows_roles_and_filters_by_role(coordinator, people):
    page = text(coordinator.get(f"{BASE}utilisateurs/?role=regional_pilot"))
    assert "pilot@example.fr" in page and "Pilote régional (Conseil régional) — Grand Est" in page
    assert "team@example.fr" not in page


# --- featured projects ----------------------------------------------------------------------------------------


def home_featured(client) -> str:
    html = client.get("/").content.decode()
    match = re.search(r'<section[^>]*id="featured-projects".*?</section>', html, re.S)
    return text(SimpleNamespace(content=match.group(0).encode())) if match else ""


def test_a_featured_public_project_appears_on_the_home_with_its_territory_and_themes(coordinator, world, client):
    assert home_featured(client) == ""  # nothing featured: no section
    response = coordinator.post(f"{BASE}projets-remarquables/P-0001/", {"reason": "Exemplaire"})
    assert response.status_code == 302
    project = Project.objects.get(id_projet="P-0001")
    assert project.featured
    entry = history_of(project).get()
    assert (entry.reason, entry.before["featured"], entry.after["featured"]) == ("Exemplaire", False, True)
    assert "Mis en avant sur l'accueil" in text(coordinator.get(f"{BASE}projets-remarquables/P-0001/"))
    client.logout()
    section = home_featured(client)
    assert "Parc d'écologie industrielle" in section and "Nord Lorraine" in section and "Innover" in section


def test_featuring_needs_a_reason(coordinator, world):
    response = coordinator.post(f"{BASE}projets-remarquables/P-0001/", {"reason": ""})
    assert "Indiquez pourquoi ce projet est mis en avant." in text(response)
    assert not Project.objects.get(id_projet="P-0001").featured


def test_a_non_public_project_cannot_be_featured_nor_shown(coordinator, world, client):
    hidden = Project.objects.create(
        id_projet="P-0002",
        territory=world["nord"],
        phase=world["project"].phase,
        title="Projet confidentiel",
        public=False,
    )
    response = coordinator.post(f"{BASE}projets-remarquables/P-0002/", {"reason": "Essai"})
    assert "Seul un projet public peut être mis en avant" in text(response)
    assert not Project.objects.get(pk=hidden.pk).featured
    Project.objects.filter(pk=hidden.pk).update(featured=True)  # featured, then made non-public elsewhere
    client.logout()
    assert "Projet confidentiel" not in client.get("/").content.decode()


def test_the_home_shows_six_featured_projects_at_most(coordinator, world, people):
    for n in range(2, 8):
        Project.objects.create(
            id_projet=f"P-{n:04d}",
            territory=world["nord"],
            phase=world["project"].phase,
            title=f"Projet {n}",
            featured=True,
        )
    assert national.featured_count() == 6
    response = coordinator.post(f"{BASE}projets-remarquables/P-0001/", {"reason": "Un septième"})
    assert "6 projets remarquables au plus" in text(response)
    assert not Project.objects.get(id_projet="P-0001").featured
    national.set_featured(people["national"], Project.objects.get(id_projet="P-0002"), False, reason="Place")
    national.set_featured(people["national"], Project.objects.get(id_projet="P-0001"), True, reason="Exemplaire")
    assert len(national.featured_on_home()) == 6


def test_the_home_costs_the_same_queries_for_one_or_six_featured_projects(client, world):
    theme = Theme.objects.get(code="attirer")
    Project.objects.filter(id_projet="P-0001").update(featured=True)
    client.get("/")  # the first read after writes brings the national totals up to date (stats/ledger.py)
    with CaptureQueriesContext(connection) as one:
        client.get("/")
    for n in range(2, 7):
        project = Project.objects.create(
            id_projet=f"P-{n:04d}",
            territory=world["nord"],
            phase=world["project"].phase,
            title=f"Projet {n}",
            featured=True,
        )
        project.themes.add(theme)
    client.get("/")
    with CaptureQueriesContext(connection) as six:
        page = text(client.get("/"))
    assert "Projet 6" in page
    assert len(six) == len(one)


# --- lists cost a fixed number of queries ---------------------------------------------------------------------


LISTS = ["territoires/", "utilisateurs/", "financeurs/", "projets-remarquables/", "phases/"]


def queries_per_list(client) -> dict[str, int]:
    counts = {}
    for path in LISTS:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{BASE}{path}").status_code == 200
        counts[path] = len(queries)
    return counts


def test_lists_cost_the_same_queries_for_few_or_many_rows(coordinator, world):
    phase = world["project"].phase
    Project.objects.create(
        id_projet="F-1", territory=world["nord"], phase=phase, title="Déjà remarquable", featured=True
    )
    few = queries_per_list(coordinator)
    for n in range(10, 40):
        make_territory(f"ti-44{n}", f"Territoire {n}", "44", [METZ])
        create_or_update_user(f"agent{n}@example.fr", "territory_team", f"ti-44{n}")
        Organisation.objects.create(name=f"Financeur {n}", kind="funder")
        project = Project.objects.create(
            id_projet=f"Q-{n}", territory=world["nord"], phase=phase, title=f"Projet {n}", featured=n < 13
        )
        project.themes.add(*phase.themes.all())
    assert queries_per_list(coordinator) == few


# --- Django admin ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("superuser", 200), ("staff", 302), ("national", 302), (None, 302)])
def test_the_django_admin_is_for_super_users_only(as_user, who, status):
    response = as_user(who).get("/admin/")
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/")
