"""Shared test set-up: the browser used by Playwright is Debian's Chromium (no download)."""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PILOTAGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("PILOTAGE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium introuvable ({CHROMIUM}) alors que PILOTAGE_REQUIRE_BROWSER=1")
        pytest.skip("Chromium (paquet Debian `chromium`) n'est pas installé : tests navigateur ignorés")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


GEO_SLICE_DEPARTMENTS = ("54", "57", "88", "67", "68")


@pytest.fixture
def geo_slice(db):
    """The real referential for Grand Est's Meurthe-et-Moselle, Moselle, Vosges, Bas-Rhin and Haut-Rhin.

    All regions and departments, the EPCI having a commune there (with their shapes) and those EPCI's communes.
    The shipped files are parsed once per process; each test only pays for the inserts. Returns the LoadReport.
    """
    from pilotage.geo.services import load_referential

    return load_referential(GEO_SLICE_DEPARTMENTS)
