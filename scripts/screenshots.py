#!/usr/bin/env python3
"""Screenshots of the public pages (home, territories list, a territory), to look at them and for the README.

    .venv/bin/python scripts/screenshots.py                      # own SQLite file + server on 127.0.0.1:8011
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000   # an already running server

Without --url it builds a throwaway SQLite database (migrate, load_referential, then load_demo when that command
exists, else a few sample Grand Est territories), serves it on 127.0.0.1:8011 and stops the server at the end.
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


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def shoot(base: str, out: Path) -> list[str]:
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

        def capture(path: str, name: str, map_expected: bool) -> None:
            page.goto(base + path, wait_until="networkidle")
            if map_expected:
                try:
                    page.wait_for_selector(
                        "[data-pil-map-ready=true] path.leaflet-interactive", state="attached", timeout=10_000
                    )
                except Exception:  # noqa: BLE001 - reported, screenshot taken anyway
                    problems.append(f"{path}: no shape drawn on the map")
            # The whole page, cut at MAX_HEIGHT so that a long list stays a readable picture.
            height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True, clip=CLIP | {"height": height})
            print(f"{name}: {base}{path} -> {out / (name + '.png')}")

        capture("/", "home", map_expected=True)
        capture("/territoires/", "list", map_expected=False)
        # A Grand Est territory when there is one: its perimeter is real open data, not demonstration data.
        page.goto(base + "/territoires/?region=44")
        links = page.locator("#territories-table tbody a")
        if not links.count():
            page.goto(base + "/territoires/")
        capture(links.first.get_attribute("href"), "territory", map_expected=True)
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
            problems = shoot(base, args.out)
        finally:
            server.terminate()
            server.wait(timeout=10)
            shutil.rmtree(workdir, ignore_errors=True)
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
