"""A large web import in a real (headless) Chromium: after the upload the browser shows a progress page (a
<progress> bar and a live status, updated by polling the job's state), then the preview; confirming shows the
progress again, then the result. The CSP stays on: the page's script is a static file."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from pilotage.projects.models import Project

from . import test_keyboard_journeys
from .test_keyboard_journeys import PASSWORD, TEAM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
programme = test_keyboard_journeys.programme  # the same territory, team and password

ROWS = 4000
JOB_PAGE = re.compile(r"/espace/import/operations/[0-9a-f-]{36}/$")


def large_file(tmp_path: Path) -> str:
    lines = ["id_projet;id_ti;titre;themes;statut;cout_total"]
    lines += [f"P-{n:05};ti-4401;Atelier de production n° {n};innover;idea;{1000 + n}" for n in range(ROWS)]
    path = tmp_path / "projets.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_a_large_import_shows_its_progress_then_the_preview_then_the_result(
    live_server,
    page: Page,
    programme,
    tmp_path,
):
    job_pages, states, errors = [], [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on(
        "response",
        lambda response: (
            job_pages.append(response)
            if JOB_PAGE.search(response.url)
            else states.append(response)
            if response.url.endswith("/etat/")
            else None
        ),
    )
    page.goto(live_server.url + "/compte/connexion/")
    page.get_by_role("textbox", name="Adresse électronique").fill(TEAM)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(live_server.url + "/espace/import/")
    page.get_by_label("Fichier des projets").set_input_files(large_file(tmp_path))
    page.get_by_role("button", name="Vérifier le fichier").click()

    # The progress page, while the file is checked.
    expect(page.locator("h1")).to_have_text("Vérification du fichier")
    expect(page.locator("progress#job-progress")).to_be_visible()
    expect(page.locator("#job-status")).to_have_attribute("aria-live", "polite")
    if shots := os.environ.get("PILOTAGE_SCREENSHOT_DIR"):  # for the documentation: the bar, then its counts
        page.screenshot(path=str(Path(shots) / "import-progress.png"))
        with contextlib.suppress(PlaywrightError):  # the check may be over before any count is shown
            page.wait_for_function("document.getElementById('job-counts').textContent.trim() !== ''", timeout=5000)
            page.screenshot(path=str(Path(shots) / "import-progress-counts.png"))

    # Then the preview, once the job is over (the page polled its state and reloaded itself).
    expect(page.locator("h1")).to_have_text("Aperçu de l'import", timeout=60_000)
    expect(page.locator("#count-created")).to_have_text(re.compile(r"4\s000"))
    assert states, "the progress page never asked for the job's state"
    assert all(state.status == 200 for state in states)
    assert not Project.objects.exists()

    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.locator(".fr-alert--success")).to_contain_text(re.compile(r"4\s?000 projets créés"), timeout=90_000)
    assert Project.objects.count() == ROWS
    assert len({r.url for r in job_pages}) == 2  # a job for the check, one for the writing
    assert errors == []  # no script refused by the CSP, no failed request
