"""Accessibility of every page template, checked in a real (headless) Chromium with axe-core (vendored in
`tests/e2e/axe/`, version in its header): no WCAG 2.1 A/AA violation except those listed in ALLOWED with their reason,
mirrored in `docs/accessibility.md`. The same walk checks that every page has one `<h1>` and a `<title>` of its own,
and that inner pages show a breadcrumb. One test per role: the data is built once and all pages visited in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pilotage.accounts.models import User
from pilotage.accounts.services import create_or_update_user
from pilotage.opendata.models import ImportJob
from pilotage.programme.models import Contract, GovernanceMember
from pilotage.web.tests.factories import make_programme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "axe" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "un-mot-de-passe-solide-2024"
TEAM, PILOT, NATIONAL = "equipe@nord-lorraine.fr", "pilote@grandest.fr", "anct@example.gouv.fr"

# (rule id, CSS selector of the node) -> why it stays. Keep in step with docs/accessibility.md.
ALLOWED: dict[tuple[str, str], str] = {}
# Pages where a breadcrumb would only repeat the header: the home, the login page and the error page.
NO_BREADCRUMB = {"/", "/compte/connexion/", "/territoires/ti-0000/", "/compte/mot-de-passe/"}

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      targets: v.nodes.map(n => n.target.join(" "))}));
}"""


class Audit:
    """Visits pages, runs axe on each, and keeps what it found until `assert_clean`."""

    def __init__(self, page: Page, base: str):
        self.page, self.base = page, base
        self.violations: list[str] = []
        self.titles: dict[str, str] = {}
        self.structure: list[str] = []

    def visit(self, path: str, status: int = 200) -> None:
        response = self.page.goto(self.base + path)
        if self.page.locator(".pil-map, .pil-chart").count():
            self.page.wait_for_load_state("networkidle")  # maps and charts are drawn from fetched data
        assert response.status == status, path
        self.check(path)

    def check(self, path: str) -> None:
        page = self.page
        page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(AXE_RUN, WCAG_AA):
            for target in violation["targets"]:
                if (violation["id"], target) not in ALLOWED:
                    self.violations.append(
                        f"{path}: {violation['id']} ({violation['impact']}) {target} — {violation['help']}"
                    )
        title, route = page.title(), path.split("?")[0]  # a filtered list is the same page as the list
        if any(t == title and r != route for r, t in self.titles.items()):
            self.structure.append(f"{path}: same <title> as another page: {title}")
        self.titles[route] = title
        if page.locator("h1").count() != 1:
            self.structure.append(f"{path}: {page.locator('h1').count()} <h1>")
        if path.split("?")[0] not in NO_BREADCRUMB and not page.locator("nav.fr-breadcrumb").count():
            self.structure.append(f"{path}: no breadcrumb")

    def assert_clean(self) -> None:
        print(f"{len(self.titles)} pages, {len(self.violations)} violations")
        print("\n".join(self.violations + self.structure))
        assert self.violations == []
        assert self.structure == []


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """axe-core is injected as an inline script, which the site's Content-Security-Policy rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def programme(geo_slice, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    territories = make_programme()
    create_or_update_user(TEAM, "territory_team", "ti-4401", password=PASSWORD)
    create_or_update_user(PILOT, "regional_pilot", "44", password=PASSWORD)
    create_or_update_user(NATIONAL, "national", password=PASSWORD)
    return territories


def import_file(tmp_path: Path) -> str:
    """A workbook updating the known project and creating another: the preview shows both kinds of change."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "projets"
    for row in [
        ["id_projet", "id_ti", "titre", "themes", "statut"],
        ["P-0001", "ti-4401", "Parc d'écologie industrielle et portuaire", "innover", "idea"],
        ["P-0002", "ti-4401", "Campus des métiers", "recruter", "idea"],
    ]:
        book.active.append(row)
    book.save(tmp_path / "projets.xlsx")
    return str(tmp_path / "projets.xlsx")


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/compte/connexion/")
    page.get_by_role("textbox", name="Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("h1")).to_have_text("Mon espace")


def test_public_pages_have_no_accessibility_violation(live_server, page: Page, programme):
    audit = Audit(page, live_server.url)
    for path in [
        "/",
        "/territoires/",
        "/territoires/?region=44",
        "/territoires/ti-4401/",
        "/territoires/ti-3201/",
        "/projets/",
        "/projets/P-0001/",
        "/tableaux-de-bord/",
        "/tableaux-de-bord/region/44/",
        "/tableaux-de-bord/territoire/ti-4401/",
        "/compte/connexion/",
        "/compte/mot-de-passe/",
        "/compte/mot-de-passe/envoye/",
        "/compte/mot-de-passe/enregistre/",
    ]:
        audit.visit(path)
    page.goto(live_server.url + "/tableaux-de-bord/")
    audit.visit(page.locator("a[href*='/tableaux-de-bord/liste/']").first.get_attribute("href"))  # a figure's list
    audit.visit("/territoires/ti-0000/", status=404)
    audit.assert_clean()


def test_back_office_pages_have_no_accessibility_violation(live_server, page: Page, programme, tmp_path):
    base = live_server.url
    team = User.objects.get(email=TEAM)
    audit = Audit(page, base)
    contract = Contract.objects.filter(territory__code="ti-4401").first()
    member = GovernanceMember.objects.filter(territory__code="ti-4401").first()
    log_in(page, base, TEAM)
    for path in [
        "/espace/",
        "/compte/",
        "/compte/mes-donnees/",
        "/espace/territoires/ti-4401/plan/",
        "/espace/territoires/ti-4401/gouvernance/",
        "/espace/territoires/ti-4401/gouvernance/installation/",
        "/espace/territoires/ti-4401/gouvernance/membres/ajouter/",
        f"/espace/territoires/ti-4401/gouvernance/membres/{member.pk}/",
        f"/espace/territoires/ti-4401/gouvernance/membres/{member.pk}/modifier/",
        f"/espace/territoires/ti-4401/gouvernance/membres/{member.pk}/fin-de-mandat/",
        "/espace/territoires/ti-4401/contrats/",
        "/espace/territoires/ti-4401/contrats/ajouter/",
        f"/espace/territoires/ti-4401/contrats/{contract.pk}/",
        f"/espace/territoires/ti-4401/contrats/{contract.pk}/modifier/",
        "/espace/territoires/ti-4401/reunions/",
        "/espace/territoires/ti-4401/reunions/ajouter/",
        "/espace/projets/nouveau/",
        "/espace/projets/P-0001/",
        "/espace/projets/P-0001/modifier/",
        "/espace/projets/P-0001/statut/",
        "/espace/projets/P-0001/financements/",
        "/espace/projets/P-0001/indicateurs/",
        "/espace/projets/P-0001/jalons/",
        "/espace/projets/P-0001/historique/",
        "/espace/import/",
    ]:
        audit.visit(path)
    page.get_by_label("Fichier des projets").set_input_files(import_file(tmp_path))
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("#count-rows")).to_have_text("2")
    audit.check("/espace/import/ (aperçu)")
    job = ImportJob.objects.create(
        user=team, kind=ImportJob.Kind.PREVIEW, status=ImportJob.Status.RUNNING, filename="projets.xlsx", done=2500,
        total=10000, message="Vérification des lignes",
    )  # fmt: skip
    audit.visit(f"/espace/import/operations/{job.pk}/")
    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, base, PILOT)
    audit.visit("/espace/plans/")
    audit.visit("/espace/regions/44/reunions/")
    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, base, NATIONAL)
    for path in [
        "/espace/national/",
        "/espace/national/phases/",
        "/espace/national/phases/ajouter/",
        "/espace/national/phases/2018-2022/",
        "/espace/national/financeurs/",
        "/espace/national/financeurs/ajouter/",
        "/espace/national/territoires/",
        "/espace/national/territoires/ajouter/",
        "/espace/national/territoires/ti-4401/modifier/",
        "/espace/national/utilisateurs/",
        "/espace/national/utilisateurs/inviter/",
        f"/espace/national/utilisateurs/{team.pk}/",
        "/espace/national/projets-remarquables/",
    ]:
        audit.visit(path)
    audit.assert_clean()


# The DSFR draws the focus ring on the element, or on its ::before when the link is enlarged over a whole block.
FOCUSED = """() => {
  const el = document.activeElement;
  const ring = [null, "::before", "::after"].map(p => getComputedStyle(el, p))
    .some(s => s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0);
  return {text: (el.innerText || el.getAttribute("aria-label") || el.tagName).trim(),
          visible: el.matches(":focus-visible") && ring};
}"""


def tab_to(page: Page, text: str, limit: int = 80) -> None:
    """Press Tab until the link named `text` has the focus; every element reached must show where the focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["visible"], f"focus not visible on {focused['text']!r} at {page.url}"
        if focused["text"] == text:
            return
    raise AssertionError(f"{text!r} not reached with {limit} Tab presses at {page.url}")


def test_a_keyboard_user_reaches_a_territory_page_from_the_home(live_server, page: Page, programme):
    page.goto(live_server.url + "/")
    tab_to(page, "Territoires")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Territoires d'industrie")
    tab_to(page, "Nord Lorraine")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/territoires/ti-4401/")
    expect(page.locator("h1")).to_have_text("Nord Lorraine")
