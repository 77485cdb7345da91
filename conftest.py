"""Shared test set-up: the browser used by Playwright is Debian's Chromium (no download)."""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    from django.conf import settings

    # WhiteNoise finds static files per request instead of indexing ~23,000 files for every test client.
    settings.WHITENOISE_AUTOREFRESH = True


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


def ensure_phases() -> None:
    """Recreate the phases and themes that `migrate` creates, which a transactional (browser) test's flush removes.

    Django's serialized rollback would restore them, but Playwright's greenlet gives the test another connection
    object than the one holding the serialized contents; re-running the (idempotent) data migration is simpler.
    """
    import importlib

    from django.apps import apps

    importlib.import_module("pilotage.programme.migrations.0002_phases_and_themes").create(apps, None)


@pytest.fixture(autouse=True)
def _programme_phases_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        ensure_phases()


@pytest.fixture(autouse=True)
def _french_by_default():
    """Each test starts in French: a request in English (language switcher) leaves English active in the thread."""
    from django.utils import translation

    translation.activate("fr")
    yield
    translation.activate("fr")


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """A restore or a flush inside a test gives content types new ids; the process-wide cache must not outlive it."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()
