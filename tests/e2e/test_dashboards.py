"""The national dashboard in a real (headless) Chromium: its charts and maps are drawn from files the site serves
itself, the date picker changes the figures, and a figure leads to exactly the records it counts."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from pilotage.web.tests.factories import make_programme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Watch:
    """Every URL the page requests and every error it logs."""

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


def figure(page: Page, name: str):
    return page.locator(f'[data-figure="{name}"] .pil-figure')


def test_the_national_dashboard_draws_its_charts_and_maps_from_the_site_alone(
    live_server, page: Page, watch: Watch, programme
):
    page.goto(live_server.url + "/tableaux-de-bord/?as_of=2024-01-01")
    expect(page.locator("h1")).to_have_text("Tableau de bord national")
    # dsfr-chart web components: two progress lines, themes, statuses (funders: none recorded) and the region map.
    expect(page.locator("line-chart canvas")).to_have_count(2)
    expect(page.locator("bar-chart canvas")).to_have_count(2)
    expect(page.locator("map-chart .FR-GES[fill]")).to_have_count(1)
    expect(page.locator("map-chart")).to_contain_text("Projets remontés")
    # Leaflet: the two perimeters that have shapes, over the region outlines.
    expect(page.locator("#perimeters-map path.leaflet-interactive")).to_have_count(2)
    expect(page.locator("#perimeters-map .leaflet-outlines-pane path")).not_to_have_count(0)
    # Every chart has its data as a table, behind a "Voir les données" button.
    page.get_by_role("button", name="Voir les données : Projets par statut").click()
    expect(page.locator("#statuses-table tbody tr")).to_have_count(6)
    page.wait_for_load_state("networkidle")
    watch.assert_clean()


def test_changing_the_date_changes_the_figures(live_server, page: Page, watch: Watch, programme):
    page.goto(live_server.url + "/tableaux-de-bord/?as_of=2024-01-01")
    expect(figure(page, "governance_installed")).to_have_text("66,7 %")
    expect(figure(page, "contracts_signed")).to_have_text("1")
    expect(figure(page, "projects")).to_have_text("1")

    page.get_by_label("Situation au").fill("2019-12-31")
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(live_server.url + "/tableaux-de-bord/?as_of=2019-12-31&phase=")
    expect(page.locator("#dashboard-date")).to_contain_text("31 décembre 2019")
    expect(figure(page, "governance_installed")).to_have_text("33,3 %")  # only Nord Lorraine, since March 2019
    expect(figure(page, "contracts_signed")).to_have_text("0")  # signed in February 2020
    expect(figure(page, "action_plans_validated")).to_have_text("1")  # validated on 12 December 2019
    expect(figure(page, "projects")).to_have_text("0")  # reported in January 2020
    page.wait_for_load_state("networkidle")
    watch.assert_clean()


def test_clicking_a_figure_lists_exactly_its_records(live_server, page: Page, watch: Watch, programme):
    page.goto(live_server.url + "/tableaux-de-bord/?as_of=2024-01-01")
    page.locator('[data-figure="governance_installed"] a').click()
    expect(page.locator("h1")).to_have_text("Territoires ayant installé leur gouvernance")
    rows = page.locator("#records-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Flandre intérieure")
    expect(rows.nth(0)).to_contain_text("1 septembre 2023")
    expect(rows.nth(1)).to_contain_text("Nord Lorraine")
    expect(rows.nth(1)).to_contain_text("15 mars 2019")
    expect(page.locator("#records-count")).to_have_text("2 territoires")

    page.get_by_role("link", name="Retour au tableau de bord").click()
    page.locator('[data-figure="protocols_signed"] a').click()
    expect(rows).to_have_count(2)
    expect(page.locator("#records-table")).to_contain_text("Sud Alsace")
    expect(page.locator("#records-table")).to_contain_text("4 mai 2020")

    with page.expect_download() as download:
        page.locator("#records-csv").click()
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "id_ti,territoire,region,date"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["ti-4401", "ti-4402"]
    watch.assert_clean()
