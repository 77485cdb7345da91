#!/usr/bin/env python3
"""Screenshots of the main screens (home, territories, a territory, dashboards, project search, a project, the import
preview), to look at them and for the README. `make screenshots` runs it.

    .venv/bin/python scripts/screenshots.py                      # own SQLite file + server on 127.0.0.1:8011
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000   # an already running server

Without --url it builds a throwaway SQLite database (migrate, load_referential, then load_demo when that command
exists, else a few sample Grand Est territories), serves it on 127.0.0.1:8011 and stops the server at the end. It also
creates a territory team user and a small import file, to show the import preview (not with --url: no database to
write to).
Uses Debian's Chromium through Playwright (nothing is downloaded); every request must stay on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("PILOTAGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MAX_HEIGHT = 2400
CLIP = {"x": 0, "y": 0, "width": 1280}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

# Used only while the demo loader does not exist: a few real EPCI of Grand Est grouped into sample territories.
SAMPLE_TERRITORIES = [
    ("ti-4401", "Nord Lorraine", ["200039865", "245701222", "245701362", "245400262"], "2019-03-14"),
    ("ti-4402", "Sud Alsace", ["200066009", "200066058", "200066041", "200036465"], "2019-05-02"),
    ("ti-4403", "Vosges", ["200068757", "200071066", "200068377", "200096634", "200068369"], None),
    ("ti-4404", "Nord Alsace", ["200067874", "246701064"], "2019-09-20"),
]

SEED = """
import datetime
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory
phase = ProgrammePhase.objects.get(code="2018-2022")
for code, name, sirens, installed in {samples!r}:
    t, _ = Territory.objects.update_or_create(code=code, defaults=dict(
        name=name, region_id="44", is_demo=True,
        governance_installed_on=datetime.date.fromisoformat(installed) if installed else None))
    t.phases.add(phase)
    t.epcis.set(sirens)
    t.refresh_derived()
    if installed:
        Contract.objects.get_or_create(territory=t, phase=phase, kind="protocol",
                                       defaults=dict(signed_on=datetime.date(2019, 7, 1)))
        GovernanceMember.objects.get_or_create(territory=t, role="elected_lead", full_name="Claire Martin",
                                               defaults=dict(position="Présidente", email="c.martin@example.org"))
        GovernanceMember.objects.get_or_create(territory=t, role="industrial_lead", full_name="Paul Durand",
                                               defaults=dict(position="Directeur d'usine", organisation="Acier SA"))
        ActionPlan.objects.get_or_create(territory=t, phase=phase, version=1, defaults=dict(
            status="submitted", submitted_on=datetime.date(2019, 10, 1),
            expected_validation_on=datetime.date(2019, 12, 15)))
"""


# Prints the Grand Est territory with the most projects and writes an import file for it: one of its projects renamed
# (an update) and two new ones (creations), so that the preview shows both.
IMPORT_FILE = """
from django.db.models import Count
from openpyxl import Workbook
from pilotage.programme.models import Territory
t = (Territory.objects.filter(region_id="44").annotate(n=Count("projects")).order_by("-n", "code").first()
     or Territory.objects.order_by("code").first())
header = ["id_projet", "id_ti", "titre", "description", "themes", "statut", "porteur_nom", "porteur_siren",
          "commune_insee", "date_remontee", "date_debut", "date_fin", "cout_total", "public"]
rows = []
themes = ""
for p in t.projects.select_related("owner").prefetch_related("themes").order_by("id_projet")[:1]:
    themes = ";".join(th.code for th in p.themes.all())
    rows.append([p.id_projet, t.code, p.title + " (phase 2)", p.description, themes, p.status,
                 p.owner.name if p.owner else "", p.owner.siren if p.owner else "", p.commune_id or "",
                 p.reported_on, p.start_on, p.end_on, p.total_cost, "oui" if p.public else "non"])
themes = themes or ";".join(th.code for th in t.phases.order_by("-starts_on").first().themes.all()[:1])
rows.append([f"IMPORT-{{t.code}}-001", t.code, "Campus des métiers de l'industrie", "", themes, "idea",
             "Lycée des métiers", "", "", "", "2026-09-01", "2028-06-30", "850000", "oui"])
rows.append([f"IMPORT-{{t.code}}-002", t.code, "Plateforme mutualisée d'essais", "", themes, "maturing",
             "Pôle de compétitivité", "", "", "", "2026-01-15", "2027-12-31", "1200000,50", "non"])
book = Workbook()
sheet = book.active
sheet.title = "projets"
for row in [header, *rows]:
    sheet.append(row)
book.save({path!r})
print(t.code)
"""
TEAM_EMAIL, TEAM_PASSWORD = "equipe.capture@example.org", "captures-d-ecran-2024"


def pilotage(*args: str, env: dict) -> None:
    subprocess.run([str(BIN / "pilotage"), *args], check=True, env=env, cwd=REPO)


def has_command(name: str, env: dict) -> bool:
    listing = subprocess.run([str(BIN / "pilotage"), "help", "--commands"], capture_output=True, text=True, env=env)
    return name in listing.stdout.split()


def prepare_database(env: dict) -> None:
    pilotage("migrate", "-v0", env=env)
    pilotage("load_referential", env=env)
    if has_command("load_demo", env):
        pilotage("load_demo", "--seed", "1", env=env)
    else:
        pilotage("shell", "-c", SEED.format(samples=SAMPLE_TERRITORIES), env=env)


def prepare_import(env: dict, workdir: Path) -> Path:
    """A territory team user and a file for them to import; returns the file."""
    path = workdir / "projets.xlsx"
    done = subprocess.run(
        [str(BIN / "pilotage"), "shell", "-c", IMPORT_FILE.format(path=str(path))],
        check=True, capture_output=True, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    code = done.stdout.split()[-1]
    pilotage(
        "create_user", TEAM_EMAIL, "--role", "territory_team", "--scope", code, "--password", TEAM_PASSWORD, env=env
    )
    return path


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def shoot(base: str, out: Path, import_file: Path | None = None) -> list[str]:
    """Take the screenshots; return the problems seen (outside requests, console errors, missing map)."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page.on(
            "request",
            lambda r: (
                urlsplit(r.url).hostname in LOCAL_HOSTS
                or r.url.startswith("data:")
                or problems.append(f"request outside: {r.url}")
            ),
        )
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def capture_current(name: str) -> None:
            page.wait_for_load_state("networkidle")
            if page.locator(".pil-chart").count():
                # Chart.js sizes and animates its canvases after the load: wait until they fill their blocks.
                try:
                    page.wait_for_function(
                        "[...document.querySelectorAll('.pil-chart canvas')].every(c => c.clientWidth > 200)",
                        timeout=10_000,
                    )
                except Exception:  # noqa: BLE001 - reported, screenshot taken anyway
                    problems.append(f"{page.url}: charts not drawn at full size")
                page.wait_for_timeout(1500)  # the end of the charts' animation
            # The whole page, cut at MAX_HEIGHT so that a long list stays a readable picture.
            height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
            # A full-page capture resizes the viewport, and the charts redraw mid-capture: grow the viewport first,
            # let them settle, then capture it as it is.
            page.set_viewport_size({"width": CLIP["width"], "height": height})
            page.wait_for_timeout(1500 if page.locator(".pil-chart").count() else 200)
            page.screenshot(path=str(out / f"{name}.png"), clip=CLIP | {"height": height})
            page.set_viewport_size({"width": CLIP["width"], "height": 900})
            print(f"{name}: {page.url} -> {out / (name + '.png')}")

        def capture(path: str, name: str, map_expected: bool) -> None:
            page.goto(base + path, wait_until="networkidle")
            if map_expected:
                try:
                    page.wait_for_selector(
                        "[data-pil-map-ready=true] path.leaflet-interactive", state="attached", timeout=10_000
                    )
                except Exception:  # noqa: BLE001 - reported, screenshot taken anyway
                    problems.append(f"{path}: no shape drawn on the map")
            capture_current(name)

        capture("/", "home", map_expected=True)
        capture("/territoires/", "list", map_expected=False)
        # A Grand Est territory when there is one: its perimeter is real open data, not demonstration data.
        page.goto(base + "/territoires/?region=44")
        links = page.locator("#territories-table tbody a")
        if not links.count():
            page.goto(base + "/territoires/")
        capture(links.first.get_attribute("href"), "territory", map_expected=True)
        capture("/tableaux-de-bord/", "dashboard", map_expected=False)
        capture("/tableaux-de-bord/region/44/", "dashboard-region", map_expected=False)
        capture("/projets/", "projects-search", map_expected=False)
        links = page.locator("main a[href^='/projets/']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        hrefs = [h for h in links if h.count("/") == 3 and "?" not in h]  # /projets/<id_projet>/
        if hrefs:
            capture(hrefs[0], "project", map_expected=False)
        else:
            problems.append("/projets/: no project to show")
        if import_file:
            page.goto(base + "/compte/connexion/")
            page.get_by_role("textbox", name="Adresse électronique").fill(TEAM_EMAIL)
            page.get_by_label("Mot de passe").fill(TEAM_PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.goto(base + "/espace/import/")
            page.get_by_label("Fichier des projets").set_input_files(str(import_file))
            page.get_by_role("button", name="Vérifier le fichier").click()
            page.wait_for_selector("#count-rows")
            capture_current("import-preview")
        browser.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="screenshot this running server instead of starting one")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.url:
        problems = shoot(args.url.rstrip("/"), args.out)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="pilotage-screenshots-"))
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}", "DEBUG": "0"}
        prepare_database(env)
        import_file = prepare_import(env, workdir)
        base = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen(
            [str(BIN / "pilotage"), "runserver", f"127.0.0.1:{args.port}", "--noreload", "--insecure"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(base + "/")
            problems = shoot(base, args.out, import_file)
        finally:
            server.terminate()
            server.wait(timeout=10)
            shutil.rmtree(workdir, ignore_errors=True)
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
