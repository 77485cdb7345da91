"""A visitor's walk through the public pages in a real (headless) Chromium: what they see, and that nothing is
fetched from anywhere but the site itself."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from pilotage.geo.models import Commune, Epci
from pilotage.web.tests.factories import NORD_LORRAINE_EPCIS, make_programme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Watch:
    """Every URL the page requests and every error it logs, checked at the end of each test."""

    def __init__(self, page: Page):
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def assert_clean(self) -> None:
        outside = [u for u in self.urls if not u.startswith("data:") and urlsplit(u).hostname not in LOCAL_HOSTS]
        assert self.urls and outside == []
        assert self.errors == []


@pytest.fixture
def programme(geo_slice):
    return make_programme()


@pytest.fixture
def watch(page: Page) -> Watch:
    return Watch(page)


def figure(page: Page, label: str):
    return page.locator(".pil-figure-tile", has_text=label)


def test_home_shows_the_figures_and_the_map_and_each_figure_leads_to_its_territories(
    live_server, page: Page, watch: Watch, programme
):
    page.goto(live_server.url + "/")
    expect(page).to_have_title("Accueil — Pilotage — Territoires d'industrie")
    expect(page.locator("h1")).to_have_text("Territoires d'industrie")
    expect(figure(page, "territoires d'industrie").locator(".pil-figure")).to_have_text("3")
    expect(figure(page, "ont installé leur gouvernance").locator(".pil-figure")).to_have_text("66,7 %")
    expect(figure(page, "contrats signés").locator(".pil-figure")).to_have_text("1")
    # Two territories have a perimeter with shapes: each is drawn, over the region outlines.
    expect(page.locator("#territories-map path.leaflet-interactive")).to_have_count(2)
    expect(page.locator("#territories-map .leaflet-outlines-pane path")).not_to_have_count(0)

    figure(page, "ont installé leur gouvernance").locator("a").click()
    expect(page).to_have_url(live_server.url + "/territoires/?gouvernance=installee")
    expect(page.locator("#territories-table tbody tr")).to_have_count(2)
    expect(page.locator("#territories-count")).to_have_text("2 territoires")
    watch.assert_clean()


def test_list_filtered_by_region_through_the_form_then_a_territory_page(
    live_server, page: Page, watch: Watch, programme
):
    page.goto(live_server.url + "/")
    page.locator("#header-navigation").get_by_role("link", name="Territoires").click()
    rows = page.locator("#territories-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#territories-count")).to_have_text("3 territoires")

    page.get_by_label("Région").select_option(label="Grand Est")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(live_server.url + "/territoires/?region=44&phase=&q=")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Nord Lorraine")
    expect(rows.nth(1)).to_contain_text("Sud Alsace")
    expect(page.get_by_label("Région")).to_have_value("44")

    page.get_by_role("link", name="Nord Lorraine").click()
    expect(page.locator("h1")).to_have_text("Nord Lorraine")
    perimeter = page.locator("#epci-table tbody tr")
    expect(perimeter).to_have_count(len(NORD_LORRAINE_EPCIS))
    for epci in Epci.objects.filter(siren__in=NORD_LORRAINE_EPCIS):
        expect(page.locator("#epci-table")).to_contain_text(epci.name)
    expect(page.locator("#perimeter-map path.leaflet-interactive")).to_have_count(len(NORD_LORRAINE_EPCIS))
    expect(page.locator("#perimeter-map")).to_have_attribute("aria-label", "Carte du périmètre de Nord Lorraine")

    commune = Commune.objects.filter(epci_id=NORD_LORRAINE_EPCIS[1]).order_by("name").first()
    expect(page.get_by_role("cell", name=commune.name, exact=True)).to_be_hidden()
    page.get_by_role("button", name="communes du périmètre").click()
    expect(page.get_by_role("cell", name=commune.name, exact=True)).to_be_visible()
    expect(page.locator("#governance-table")).to_contain_text("Claire Industrie")
    watch.assert_clean()


def test_an_unknown_territory_shows_the_french_404_page(live_server, page: Page, watch: Watch, programme):
    response = page.goto(live_server.url + "/territoires/ti-0000/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page non trouvée")
    page.get_by_role("link", name="Liste des territoires").click()
    expect(page.locator("#territories-table tbody tr")).to_have_count(3)
    watch.errors = [e for e in watch.errors if "404" not in e]  # the browser logs the 404 status itself
    watch.assert_clean()
