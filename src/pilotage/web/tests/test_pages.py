"""The public pages as a visitor's browser receives them: home, list of territories, a territory's page."""

import gzip
import json
import re
from html import unescape

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from pilotage.geo.models import Commune, Epci
from pilotage.programme.models import Territory

from .factories import MEMBER_EMAIL, MEMBER_PHONE, NORD_LORRAINE_EPCIS, make_programme, make_territory

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def text(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).replace("\xa0", " ").replace("\u202f", " ")


def fr_int(value: int) -> str:
    with translation.override("fr"):
        return intcomma(value).replace("\xa0", " ").replace("\u202f", " ")


def figure_links(response) -> dict[str, str]:
    """Label of each headline figure on the home page → the URL it links to."""
    html = response.content.decode()
    links = re.findall(
        r'<a href="([^"]+)"><span class="pil-figure">([^<]+)</span> <span class="pil-figure__label">([^<]+)</span>',
        html,
    )
    return {unescape(label): (unescape(url), value.replace("\xa0", " ")) for url, value, label in links}


def listed_territories(response) -> list[str]:
    return re.findall(r'<a href="/territoires/(ti-[\w-]+)/">', response.content.decode())


@pytest.fixture
def programme(geo_slice):
    return make_programme()


@pytest.mark.django_db
class TestHome:
    def test_presents_the_programme_and_its_figures_as_of_today(self, client, programme):
        response = client.get("/")
        assert response.status_code == 200
        page = text(response)
        assert "<title>Accueil — " in response.content.decode()
        assert "piloté par les Régions".lower() in page.lower()
        figures = figure_links(response)
        assert figures["territoires d'industrie"][1] == "3"
        # 2 of the 3 territories have installed their governance.
        assert figures["ont installé leur gouvernance"][1] == "66,7 %"
        assert "2 territoires sur 3" in page
        assert figures["protocoles signés"][1] == "2"
        assert figures["contrats signés"][1] == "1"
        assert figures["plans d'actions validés par le Conseil régional"][1] == "1"
        assert figures["projets remontés"][1] == "1"

    def test_each_territory_figure_links_to_the_territories_it_counts(self, client, programme):
        figures = figure_links(client.get("/"))
        counted = {label: (url, value) for label, (url, value) in figures.items() if url.startswith("/territoires/")}
        assert len(counted) == 5
        for label, (url, value) in counted.items():
            listed = client.get(url)
            assert listed.status_code == 200, url
            if value.endswith("%"):
                continue  # the percentage's link lists the installed ones, counted in its detail line
            assert len(listed_territories(listed)) == int(value), (label, url)
        governance = client.get(figures["ont installé leur gouvernance"][0])
        assert sorted(listed_territories(governance)) == ["ti-3201", "ti-4401"]

    def test_draws_the_map_from_the_territories_geojson_with_a_text_alternative(self, client, programme):
        html = client.get("/").content.decode()
        assert 'data-geojson-src="/api/v1/territories.geojson"' in html
        assert re.search(r'id="territories-map" role="region"\s+aria-label="Carte', html)
        assert 'aria-describedby="map-alt"' in html and 'id="map-alt"' in html
        assert "/static/vendor/leaflet/leaflet.js" in html

    def test_costs_the_same_queries_whatever_the_number_of_territories(self, client, programme):
        client.get("/")  # the first read after writes brings the national totals up to date (stats/ledger.py)
        with CaptureQueriesContext(connection) as few:
            client.get("/")
        for n in range(1, 30):
            make_territory(f"ti-44{n + 10}", f"Territoire {n}", "44", [])
        client.get("/")
        with CaptureQueriesContext(connection) as many:
            page = text(client.get("/"))
        assert "32 territoires d'industrie" in page
        assert len(many) == len(few) <= 10

    def test_header_navigation_leads_to_the_territories_and_the_api(self, client, programme):
        html = client.get("/").content.decode()
        nav = html[html.index('id="header-navigation"') : html.index("</nav>", html.index('id="header-navigation"'))]
        assert 'href="/territoires/"' in nav and ">Territoires<" in nav
        assert 'href="/api/v1/docs"' in nav and ">API<" in nav
        listed = client.get("/territoires/").content.decode()
        assert re.search(r'href="/territoires/"\s+aria-current="page"', listed)


@pytest.mark.django_db
class TestTerritoryList:
    def test_lists_every_territory_with_its_key_facts(self, client, programme):
        response = client.get("/territoires/")
        assert response.status_code == 200
        page = text(response)
        assert "3 territoires" in page
        assert "<title>Territoires — " in response.content.decode()
        assert listed_territories(response) == ["ti-3201", "ti-4401", "ti-4402"]  # by name
        nord = programme["nord"]
        assert fr_int(nord.population) in page
        assert "15 mars 2019" in page
        assert "Grand Est" in page and "Hauts-de-France" in page
        row = page[page.index("Nord Lorraine") : page.index("Sud Alsace")]
        assert "2018-2022" in row and "2023-2027" in row
        assert f" {len(NORD_LORRAINE_EPCIS)} " in row

    def test_filters_by_region_phase_and_accent_insensitive_text(self, client, programme):
        assert listed_territories(client.get("/territoires/", {"region": "44"})) == ["ti-4401", "ti-4402"]
        assert listed_territories(client.get("/territoires/", {"phase": "2023-2027"})) == ["ti-3201", "ti-4401"]
        # "metropole" finds Nord Lorraine through its EPCI "Metz Métropole".
        assert listed_territories(client.get("/territoires/", {"q": "METROPOLE"})) == ["ti-4401"]
        both = client.get("/territoires/", {"region": "44", "phase": "2023-2027", "q": "lorraine"})
        assert listed_territories(both) == ["ti-4401"]
        assert "1 territoire" in text(both)

    def test_region_select_offers_the_regions_that_have_territories(self, client, programme):
        html = client.get("/territoires/", {"region": "44"}).content.decode()
        select = html[html.index('name="region"') : html.index("</select>", html.index('name="region"'))]
        assert '<option value="44" selected>Grand Est</option>' in select
        assert '<option value="32">Hauts-de-France</option>' in select
        assert 'value="84"' not in select  # no territory in Auvergne-Rhône-Alpes

    def test_an_unknown_region_is_ignored(self, client, programme):
        response = client.get("/territoires/", {"region": "zz"})
        assert response.status_code == 200
        assert len(listed_territories(response)) == 3

    def test_milestone_filters_show_what_they_filter_and_can_be_removed(self, client, programme):
        response = client.get("/territoires/", {"region": "44", "protocole": "signe", "plan": "valide"})
        assert listed_territories(response) == ["ti-4401"]
        html = response.content.decode()
        assert "Plan d'actions validé par le Conseil régional" in text(response)
        assert 'href="/territoires/?region=44&amp;protocole=signe"' in html  # removes the plan filter only
        assert '<input type="hidden" name="plan" value="valide">' in html  # kept when the form is submitted

    def test_paginates_with_a_count_of_all_matching_territories(self, client, geo_slice):
        for n in range(1, 56):
            make_territory(f"ti-44{n:02d}", f"Territoire {n:02d}", "44", [])
        first = client.get("/territoires/")
        assert "55 territoires" in text(first)
        assert len(listed_territories(first)) == 50
        html = first.content.decode()
        assert 'class="fr-pagination' in html and 'href="?page=2"' in html
        second = client.get("/territoires/", {"page": 2})
        assert listed_territories(second) == [f"ti-44{n}" for n in range(51, 56)]
        assert "page 2 sur 2" in text(second)
        assert "<title>Territoires, page 2 sur 2 — " in second.content.decode()

    def test_costs_the_same_queries_for_3_or_50_rows(self, client, geo_slice, django_assert_max_num_queries):
        make_programme()
        with CaptureQueriesContext(connection) as few:
            client.get("/territoires/", {"region": "44", "phase": "2018-2022", "contrat": "signe"})
        epcis = list(Epci.objects.values_list("siren", flat=True)[:40])
        for n in range(1, 48):
            make_territory(f"ti-44{n + 10}", f"Territoire {n}", "44", epcis[n % 40 : n % 40 + 3])
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as many:
            response = client.get("/territoires/")
        assert len(listed_territories(response)) == 50
        assert len(many) == len(few)


@pytest.mark.django_db
class TestTerritoryPage:
    def test_shows_identity_perimeter_governance_and_milestones(self, client, programme):
        nord = Territory.objects.get(code="ti-4401")
        response = client.get("/territoires/ti-4401/")
        assert response.status_code == 200
        html, page = response.content.decode(), text(response)
        assert "<title>Nord Lorraine — " in html
        assert re.search(r"<h1[^>]*>Nord Lorraine</h1>", html)
        assert 'aria-current="page">Nord Lorraine</a>' in html  # breadcrumb
        assert "ti-4401" in page and "Grand Est" in page
        assert f"{fr_int(nord.population)} habitants" in page
        assert f"2 EPCI, {nord.communes_count} communes" in page
        for epci in Epci.objects.filter(siren__in=NORD_LORRAINE_EPCIS):
            assert epci.name in page and epci.siren in page and fr_int(epci.population) in page
        communes = Commune.objects.filter(epci__in=NORD_LORRAINE_EPCIS)
        assert f"Les {communes.count()} communes du périmètre" in page
        assert all(c.name in page for c in communes)
        assert 'class="fr-accordion__btn" aria-expanded="false" aria-controls="communes-list"' in html
        assert "Claire Industrie" in page and "Industriel référent (binôme)" in page and "Aciéries de Lorraine" in page
        assert "Jean Élu" in page and "Élu référent (binôme)" in page
        for milestone in (
            "Gouvernance installée — 15 mars 2019 Installée",
            "Protocole 2018-2022 3 juin 2019",
            "Contrat de Territoire d'industrie 2018-2022 10 février 2020",
            "Plan d'actions (version 1) 2018-2022 12 décembre 2019 Validé par le Conseil régional",
        ):
            assert milestone in page

    def test_links_to_the_projects_of_the_territory(self, client, programme):
        html = client.get("/territoires/ti-4401/").content.decode()
        link = re.search(r'href="([^"]+)">Voir les projets de ce territoire', html).group(1)
        assert "Parc d'écologie industrielle" in text(client.get(unescape(link)))
        assert "Parc d'écologie industrielle" not in text(client.get("/projets/?territory=ti-4402"))

    def test_inlines_the_perimeter_shapes_for_the_map(self, client, programme):
        html = client.get("/territoires/ti-4401/").content.decode()
        data = re.search(r'<script id="perimeter-data" type="application/json">(.*?)</script>', html, re.S)
        features = json.loads(data.group(1))["features"]
        assert sorted(f["properties"]["siren"] for f in features) == sorted(NORD_LORRAINE_EPCIS)
        assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
        assert re.search(r'id="perimeter-map" role="region"\s+aria-label="Carte du périmètre de Nord Lorraine"', html)

    def test_a_planned_validation_shows_its_expected_date(self, client, programme):
        page = text(client.get("/territoires/ti-4402/"))
        assert "30 novembre 2020" in page and "validation prévue" in page
        assert "Contrat de Territoire d'industrie 2018-2022 — Non signé" in page
        assert "La composition de la gouvernance n'a pas encore été renseignée." in page

    def test_an_empty_perimeter_has_no_map_but_says_so(self, client, programme):
        response = client.get("/territoires/ti-3201/")
        assert response.status_code == 200
        assert 'id="perimeter-map"' not in response.content.decode()
        assert "Le périmètre de ce territoire n'a pas encore été renseigné." in text(response)

    def test_unknown_code_answers_a_french_404_page(self, client, programme):
        response = client.get("/territoires/ti-9999/")
        assert response.status_code == 404
        page = text(response)
        assert "Page non trouvée" in page and "Erreur 404" in page
        assert 'href="/territoires/"' in response.content.decode()

    def test_costs_a_fixed_number_of_queries(self, client, programme, django_assert_max_num_queries):
        with django_assert_max_num_queries(9):
            client.get("/territoires/ti-4401/")


@pytest.mark.django_db
def test_no_page_shows_an_email_address_or_a_phone_number(client, programme):
    for url in ("/", "/territoires/", "/territoires/ti-4401/", "/territoires/?q=lorraine", "/territoires/nope/"):
        html = client.get(url).content.decode()
        assert not EMAIL_RE.search(html), url
        assert MEMBER_EMAIL not in html and MEMBER_PHONE not in html


@pytest.mark.django_db
def test_500_page_is_french_and_needs_no_request():
    from django.template.loader import get_template

    html = get_template("500.html").render()
    assert "Erreur inattendue" in html and "Erreur 500" in html and 'lang="fr"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["regions", "departments"])
def test_map_outlines_are_served_gzipped_or_plain(client, kind):
    zipped = client.get(f"/carte/{kind}.geojson", headers={"accept-encoding": "gzip, br"})
    assert zipped.status_code == 200 and zipped["Content-Encoding"] == "gzip"
    plain = client.get(f"/carte/{kind}.geojson")
    assert json.loads(gzip.decompress(zipped.content)) == json.loads(plain.content)
    assert json.loads(plain.content)["type"] == "FeatureCollection"
    assert client.get("/carte/communes.geojson").status_code == 404
