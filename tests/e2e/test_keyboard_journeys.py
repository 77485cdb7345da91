"""Main workflows done with the keyboard alone, in a real (headless) Chromium: Tab to move, Enter and Space to act,
typing to fill; never a mouse click. At every Tab the focused element must show where the focus is (a visible
outline, on it or on what draws it: a DSFR checkbox or radio is drawn by its label).

Covered here: creating a project then changing its status; the web import (choose the file, preview, confirm); the
action plan's submission, return with a reason and validation. (The same journeys with the mouse:
test_project_journey.py, test_accessibility.py, test_plan_journey.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from pilotage.accounts.services import create_or_update_user
from pilotage.geo.models import Commune, Department, Epci, Region
from pilotage.programme.models import ActionPlan, ProgrammePhase, Territory
from pilotage.projects.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM, PILOT, PASSWORD = "equipe@nord-lorraine.fr", "pilote@grandest.fr", "un-mot-de-passe-solide-2024"
TITLE = "Campus des métiers de l'industrie"
REASON = "Étude de faisabilité lancée en comité de pilotage."

# What has the focus, and whether it is visibly marked: an outline on the element or one of its pseudo-elements, or
# (inputs the DSFR hides behind their label) on its label or the label's pseudo-elements.
FOCUSED = """() => {
  const el = document.activeElement;
  const ringed = (node) => [null, "::before", "::after"].map(p => getComputedStyle(node, p))
    .some(s => s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0);
  const labels = el.labels ? Array.from(el.labels) : [];
  const label = labels.map(l => l.innerText.trim()).join(" ");
  return {
    tag: el.tagName.toLowerCase(), type: el.type || "", id: el.id,
    text: (el.innerText || el.value || "").trim(), label: label, aria: el.getAttribute("aria-label") || "",
    // Chromium does not match :focus-visible on a date field (the focus is inside, on the day, month or year):
    // it marks the focused part itself, in the system's highlight colour.
    visible: el.type === "date" ? el.matches(":focus-within")
      : el.matches(":focus-visible") && (ringed(el) || labels.some(ringed)),
  };
}"""


def tab_to(page: Page, name: str, *, limit: int = 150, backwards: bool = False) -> dict:
    """Press Tab until the element named `name` (its text, its label's first line or its aria-label) has the focus;
    every element reached on the way must show its focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "body":  # past the last element, the focus leaves the page for a moment
            continue
        # A link's text may end with a count in a badge ("Plans d'actions à décider 1").
        names = {
            focused["text"],
            re.sub(r"\s+\d+$", "", focused["text"]),
            focused["aria"],
            first_line(focused["label"]),
        }
        assert focused["visible"], f"focus not visible on {names} ({focused['tag']}) at {page.url}"
        if name in names:
            return focused
    raise AssertionError(f"{name!r} not reached with {limit} presses of {key} at {page.url}")


def first_line(label: str) -> str:
    """A label's own text, without its hint nor the mark of a required field."""
    return label.split("\n")[0].replace("\xa0", " ").removesuffix(" *").strip()


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


def log_in_by_keyboard(page: Page, base: str, email: str = TEAM) -> None:
    page.goto(base + "/compte/connexion/")
    tab_to(page, "Adresse électronique")
    page.keyboard.type(email)
    tab_to(page, "Mot de passe")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Mon espace")


def test_a_team_creates_a_project_and_changes_its_status_with_the_keyboard_only(
    live_server, page: Page, programme: Territory
):
    log_in_by_keyboard(page, live_server.url)
    tab_to(page, "Nouveau projet")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Nouveau projet")
    tab_to(page, "Titre")
    page.keyboard.type(TITLE)
    tab_to(page, "Innover")
    page.keyboard.press("Space")
    expect(page.get_by_label("Innover")).to_be_checked()
    tab_to(page, "Créer le projet")
    page.keyboard.press("Enter")
    expect(page.locator(".fr-alert--success")).to_contain_text(f"Projet créé : {TITLE}")
    expect(page.locator("#project-status")).to_have_text("Idée")

    tab_to(page, "Changer le statut")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/statut/$"))
    tab_to(page, "En maturation")
    page.keyboard.press("Space")
    tab_to(page, "Motif")
    page.keyboard.type(REASON)
    tab_to(page, "Changer le statut")
    page.keyboard.press("Enter")

    expect(page.locator("#project-status")).to_have_text("En maturation")
    expect(page.locator("#timeline")).to_contain_text(REASON)
    project = Project.objects.get(title=TITLE)
    assert (project.status, list(project.themes.values_list("code", flat=True))) == ("maturing", ["innover"])


def import_file(tmp_path: Path) -> str:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "projets"
    for row in [
        ["id_projet", "id_ti", "titre", "themes", "statut"],
        ["P-0001", "ti-4401", "Parc d'écologie industrielle", "innover", "idea"],
        ["P-0002", "ti-4401", "Campus des métiers", "recruter", "maturing"],
    ]:
        book.active.append(row)
    book.save(tmp_path / "projets.xlsx")
    return str(tmp_path / "projets.xlsx")


def test_a_team_imports_a_file_with_the_keyboard_only(live_server, page: Page, programme: Territory, tmp_path):
    log_in_by_keyboard(page, live_server.url)
    tab_to(page, "Importer un fichier")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Importer un fichier de projets")

    tab_to(page, "Fichier des projets")
    with page.expect_file_chooser() as chooser:  # the system's file dialog, which the test answers
        page.keyboard.press("Space")
    chooser.value.set_files(import_file(tmp_path))
    tab_to(page, "Vérifier le fichier")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Aperçu de l'import")
    expect(page.locator("#count-created")).to_have_text("2")
    assert not Project.objects.exists()

    tab_to(page, "Confirmer l'import")
    page.keyboard.press("Enter")
    expect(page.locator(".fr-alert--success")).to_contain_text("2 projets créés")
    assert sorted(Project.objects.values_list("id_projet", "status")) == [("P-0001", "idea"), ("P-0002", "maturing")]


def log_out_by_keyboard(page: Page) -> None:
    press(page, "Se déconnecter")
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()


def type_date(page: Page, day) -> None:
    """Type a date in the focused date field, whose parts (day, month, year) follow the browser's language."""
    for order in ("%d%m%Y", "%m%d%Y"):
        page.keyboard.type(day.strftime(order))  # the field moves from one part to the next by itself
        if page.evaluate("document.activeElement.value") == day.isoformat():
            return
        page.keyboard.press("Shift+Tab")  # back to the first part
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"could not type {day} in the date field")


def press(page: Page, name: str) -> None:
    """Tab to a link or a button and press Enter: it leads to another page (or the same one, once sent)."""
    tab_to(page, name)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_an_action_plan_is_submitted_returned_and_validated_with_the_keyboard_only(
    live_server, page: Page, programme: Territory
):
    create_or_update_user(PILOT, "regional_pilot", "44", password=PASSWORD)
    base = live_server.url
    status = page.locator("[id$='-current'] [data-status]")
    log_in_by_keyboard(page, base)
    press(page, "Plan d'actions 2018-2022")
    tab_to(page, "Résumé du plan d'actions")
    page.keyboard.type("Axe 1 : recruter. Axe 2 : innover.")
    press(page, "Enregistrer le brouillon")
    expect(page.locator(".fr-alert--success")).to_contain_text("Brouillon du plan d'actions (version 1) enregistré")
    press(page, "Soumettre le plan")
    expect(status).to_have_text("Soumis à la Région")
    log_out_by_keyboard(page)

    log_in_by_keyboard(page, base, PILOT)
    press(page, "Plans d'actions à décider")
    expect(page.locator("#queue-table")).to_be_visible()
    press(page, "Nord Lorraine")
    expect(status).to_have_text("Soumis à la Région")
    tab_to(page, "Motif du renvoi")
    page.keyboard.type(REASON)
    press(page, "Renvoyer")
    expect(status).to_have_text("Renvoyé pour modification")
    log_out_by_keyboard(page)

    log_in_by_keyboard(page, base)
    press(page, "Plan d'actions 2018-2022")
    expect(page.locator("[id$='-current']")).to_contain_text(REASON)
    tab_to(page, "Résumé du plan d'actions")
    page.keyboard.press("End")
    page.keyboard.type(" Axe 3 : attirer.")
    press(page, "Enregistrer le brouillon")
    expect(page.locator(".fr-alert--success")).to_contain_text("version 2")
    press(page, "Soumettre le plan")
    expect(status).to_have_text("Soumis à la Région")
    log_out_by_keyboard(page)

    log_in_by_keyboard(page, base, PILOT)
    press(page, "Nord Lorraine")
    tab_to(page, "Date de la décision du Conseil régional")
    today = timezone.localdate()
    type_date(page, today)
    press(page, "Valider")
    expect(status).to_have_text("Validé par le Conseil régional")

    plans = ActionPlan.objects.order_by("version")
    assert list(plans.values_list("version", "status")) == [(1, "returned"), (2, "validated")]
    assert plans.last().summary.endswith("Axe 3 : attirer.")
    assert plans.last().decided_on == today
