"""The action plan's journey in a real (headless) Chromium: the territory team submits its plan, the regional pilot
returns it with a reason, the team resubmits a second version, the pilot validates it, and a visitor then reads on
the public territory page that the plan is validated."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from pilotage.accounts.services import create_or_update_user
from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, ProgrammePhase, Territory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM, PILOT, PASSWORD = "equipe@nord-lorraine.fr", "pilote@grandest.fr", "un-mot-de-passe-solide-2024"
REASON = "Chiffrer les actions de l'axe « recruter »."


@pytest.fixture
def programme(settings) -> Territory:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    region = Region.objects.create(code="44", name="Grand Est")
    territory = Territory.objects.create(code="ti-4401", name="Nord Lorraine", region=region)
    territory.phases.add(ProgrammePhase.objects.get(code="2018-2022"))
    create_or_update_user(TEAM, "territory_team", "ti-4401", password=PASSWORD)
    create_or_update_user(PILOT, "regional_pilot", "44", password=PASSWORD)
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


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()


def status_badge(page: Page):
    return page.locator("[id$='-current'] [data-status]")


def test_submit_return_resubmit_validate_then_the_public_page_shows_the_validated_plan(
    live_server, page: Page, programme: Territory, outside_requests
):
    base = live_server.url
    log_in(page, base, TEAM)
    page.get_by_role("link", name="Plan d'actions 2018-2022").click()
    expect(page.get_by_text("Pas encore de plan d'actions pour cette phase")).to_be_visible()
    page.get_by_label("Résumé du plan d'actions").fill("Axe 1 : recruter. Axe 2 : innover.")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Brouillon du plan d'actions (version 1) enregistré")
    page.get_by_role("button", name="Soumettre le plan").click()
    expect(status_badge(page)).to_have_text("Soumis à la Région")
    log_out(page)

    log_in(page, base, PILOT)
    expect(page.locator("#queue-badge")).to_have_text("1")
    page.get_by_role("link", name="Plans d'actions à décider").click()
    page.locator("#queue-table").get_by_role("link", name="Nord Lorraine").click()
    expect(page.locator("[id$='-current'] .pil-summary")).to_have_text("Axe 1 : recruter. Axe 2 : innover.")
    page.get_by_role("button", name="Renvoyer", exact=True).click()  # no reason: refused, nothing changes
    expect(status_badge(page)).to_have_text("Soumis à la Région")
    page.get_by_label("Motif du renvoi").fill(REASON)
    page.get_by_role("button", name="Renvoyer", exact=True).click()
    expect(status_badge(page)).to_have_text("Renvoyé pour modification")
    log_out(page)

    log_in(page, base, TEAM)
    page.get_by_role("link", name="Plan d'actions 2018-2022").click()
    expect(page.locator("[id$='-current']")).to_contain_text(REASON)
    page.get_by_label("Résumé du plan d'actions").fill("Axe 1 : recruter (400 emplois). Axe 2 : innover.")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator(".fr-callout")).to_contain_text(REASON)  # the returned version's reason stays in view
    page.get_by_role("button", name="Soumettre le plan").click()
    expect(status_badge(page)).to_have_text("Soumis à la Région")
    expect(page.locator("[id$='-current'] h3")).to_have_text("Version 2")
    log_out(page)

    log_in(page, base, PILOT)
    page.get_by_role("link", name="Nord Lorraine").click()
    today = timezone.localdate()
    page.get_by_label("Date de la décision du Conseil régional").fill(today.isoformat())
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(status_badge(page)).to_have_text("Validé par le Conseil régional")
    expect(page.locator("[id$='-versions'] tbody tr")).to_have_count(2)
    log_out(page)

    assert list(ActionPlan.objects.order_by("version").values_list("version", "status")) == [
        (1, "returned"),
        (2, "validated"),
    ]
    page.goto(f"{base}/territoires/{programme.code}/")
    row = page.locator("#milestones-table tbody tr", has_text="Plan d'actions")
    expect(row).to_contain_text("Plan d'actions (version 2)")
    expect(row).to_contain_text("Validé par le Conseil régional")
