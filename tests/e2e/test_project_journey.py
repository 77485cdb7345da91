"""A project's journey in a real (headless) Chromium: a territory team member logs in, creates a project (not public
yet), moves it to "En maturation" with a reason, and a visitor finds it on /projets/ only once it is made public."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from pilotage.accounts.services import create_or_update_user
from pilotage.geo.models import Commune, Department, Epci, Region
from pilotage.programme.models import ProgrammePhase, Territory
from pilotage.projects.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM, PASSWORD = "equipe@nord-lorraine.fr", "un-mot-de-passe-solide-2024"
TITLE = "Campus des métiers de l'industrie"
REASON = "Étude de faisabilité lancée en comité de pilotage."


@pytest.fixture
def programme(settings) -> Territory:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    region = Region.objects.create(code="44", name="Grand Est")
    moselle = Department.objects.create(code="57", name="Moselle", region=region)
    metz_metropole = Epci.objects.create(siren="200039865", name="Metz Métropole", kind="METRO")
    Commune.objects.create(insee="57463", name="Metz", department=moselle, epci=metz_metropole)
    territory = Territory.objects.create(code="ti-4401", name="Nord Lorraine", region=region)
    territory.phases.add(ProgrammePhase.objects.get(code="2018-2022"))
    territory.epcis.add(metz_metropole)
    create_or_update_user(TEAM, "territory_team", "ti-4401", password=PASSWORD)
    return territory


@pytest.fixture
def outside_requests(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    yield urls
    assert urls and [u for u in urls if urlsplit(u).hostname not in {"127.0.0.1", "localhost"}] == []


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/")
    page.get_by_role("link", name="Se connecter").click()
    page.get_by_role("textbox", name="Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("h1")).to_have_text("Mon espace")


def tick(page: Page, label: str) -> None:
    """A DSFR checkbox or radio button is ticked by clicking its label (the input itself is drawn by it)."""
    page.locator("label", has_text=label).first.click()


def search_results(page: Page, base: str):
    page.goto(f"{base}/projets/")
    return page.locator("main").get_by_role("link", name=TITLE)


def test_a_team_creates_a_project_moves_it_forward_and_visitors_see_it_once_public(
    live_server, page: Page, programme: Territory, outside_requests
):
    base = live_server.url
    log_in(page, base, TEAM)
    page.get_by_role("link", name="Nouveau projet").click()
    page.get_by_label("Titre").fill(TITLE)
    tick(page, "Innover")
    page.get_by_label("Porteur du projet").fill("Fonderie de l'Est")
    page.get_by_label("SIREN du porteur").fill("732829321")  # a wrong key: refused, nothing created
    page.get_by_label("Commune").select_option("57463")
    page.get_by_label("Coût total (€)").fill("1 200 000")
    tick(page, "Projet public")  # public by default: made private
    page.get_by_role("button", name="Créer le projet").click()
    expect(page.get_by_text("clé de contrôle erronée")).to_be_visible()
    assert not Project.objects.exists()
    page.get_by_label("SIREN du porteur").fill("732829320")
    page.get_by_role("button", name="Créer le projet").click()
    expect(page.locator(".fr-alert--success")).to_contain_text(f"Projet créé : {TITLE}")
    expect(page.locator("#project-status")).to_have_text("Idée")

    page.get_by_role("link", name="Changer le statut").first.click()
    page.get_by_role("button", name="Changer le statut").click()  # no reason: refused
    expect(page.locator("#id_reason-desc-error")).to_contain_text("Ce champ est obligatoire.")
    tick(page, "En maturation")
    page.get_by_role("textbox", name="Motif").fill(REASON)
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.locator("#project-status")).to_have_text("En maturation")
    expect(page.locator("#timeline")).to_contain_text(REASON)

    # A visitor does not see it while it is not public.
    visitor = page.context.browser.new_context(locale="fr-FR")
    visitor_page = visitor.new_page()
    expect(search_results(visitor_page, base)).to_have_count(0)

    page.get_by_role("link", name="Fiche du projet").click()
    tick(page, "Projet public")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".fr-alert--success")).to_have_text("Modifications enregistrées.")

    link = search_results(visitor_page, base)
    expect(link).to_have_count(1)
    link.click()
    expect(visitor_page.locator("#project-status")).to_have_text("En maturation")
    expect(visitor_page.locator("#project-edit-links")).to_have_count(0)
    visitor.close()
