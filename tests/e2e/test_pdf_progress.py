"""The PDF downloads of the dashboards take seconds (the synthesis of a region: 2 to 4 s on the demo data): the link
says the PDF is being prepared, then the browser receives it as a download."""

import pytest
from playwright.sync_api import Page, expect

from pilotage.web.tests.factories import make_programme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def programme(geo_slice):
    return make_programme()


def test_the_regional_synthesis_shows_that_it_is_being_prepared_then_downloads(
    live_server, page: Page, programme, tmp_path
):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(live_server.url + "/tableaux-de-bord/region/44/")
    link = page.get_by_role("link", name="Télécharger la synthèse régionale (PDF)")

    with page.expect_download(timeout=60_000) as download:
        link.click()
        status = page.locator("[data-pil-pdf-status]")
        expect(status).to_have_attribute("aria-live", "polite")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    assert download.value.suggested_filename.startswith("synthese-region-44-")
    assert saved.read_bytes().startswith(b"%PDF-")
    expect(status).to_have_text("PDF prêt : le téléchargement a commencé.")
    expect(link).not_to_have_attribute("aria-busy", "true")
    assert errors == []
