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
