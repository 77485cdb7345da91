"""The public project pages: /projets/ (search with facets) and /projets/<id_projet>/."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.projects.models import FundingLine, Project

from .builders import add_projects, build_sample

SEARCH = "/projets/"


@pytest.fixture
def sample(db):
    return build_sample()


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, every run of spaces (no-break ones too) as one."""
    assert response.status_code == 200
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " "))


def result_titles(response) -> list[str]:
    html = response.content.decode()
    results = html[html.index('id="projects-results"') :] if 'id="projects-results"' in html else ""
    return [unescape(t) for t in re.findall(r'class="fr-card__title"><a href="[^"]+">([^<]+)</a>', results)]


def facet_option(response, facet: str, value: str) -> str:
    html = response.content.decode()
    select = html[html.index(f'name="{facet}"') :]
    select = select[: select.index("</select>")]
    match = re.search(rf'<option value="{re.escape(value)}"[^>]*>([^<]+)</option>', select)
    return unescape(match.group(1)) if match else ""


def test_search_page_lists_public_projects_with_their_key_facts(client, sample):
    response = client.get(SEARCH)
    page = text(response)
    assert "3 projets" in page
    assert set(result_titles(response)) == {sample.parc.title, sample.campus.title, sample.mobilite.title}
    html = response.content.decode()
    assert f'href="/projets/{sample.parc.id_projet}/"' in html
    assert 'href="/territoires/ti-4401/"' in html
    assert "Nord Lorraine" in page and "Fonderie de l'Est" in page
    assert "1 200 000 €" in page and "85 000,50 €" in page
    assert re.search(r'class="fr-tag fr-tag--sm">Innover<', html)
    assert re.search(r'class="fr-badge fr-badge--sm [^"]*">Engagé<', html)


def test_private_projects_are_neither_listed_nor_counted(client, sample):
    response = client.get(SEARCH, {"q": "confidentiel"})
    assert result_titles(response) == []
    assert "0 projet" in text(response)
    assert facet_option(client.get(SEARCH), "territory", "ti-4401") == "Nord Lorraine (1)"


def test_facets_show_counts_and_restrict_results(client, sample):
    response = client.get(SEARCH)
    assert facet_option(response, "region", "44") == "Grand Est (2)"
    assert facet_option(response, "region", "53") == "Bretagne (1)"
    assert facet_option(response, "theme", "innover") == "Innover (1)"
    assert facet_option(response, "status", "idea") == "Idée (1)"
    assert facet_option(response, "phase", "2023-2027").endswith("(1)")

    grand_est = client.get(SEARCH, {"region": "44"})
    assert set(result_titles(grand_est)) == {sample.parc.title, sample.mobilite.title}
    assert "2 projets" in text(grand_est)
    # The other facets count within Grand Est; the region facet still offers Bretagne.
    assert facet_option(grand_est, "territory", "ti-5301") == ""
    assert facet_option(grand_est, "status", "ready") == "Prêt (1)"
    assert facet_option(grand_est, "region", "53") == "Bretagne (1)"
    assert re.search(r'<option value="44" selected>', grand_est.content.decode())

    for params, expected in [
        ({"territory": "ti-5301"}, {sample.campus.title}),
        ({"theme": "innovation"}, {sample.mobilite.title}),
        ({"status": "in_progress"}, {sample.parc.title}),
        ({"phase": "2018-2022", "region": "44"}, {sample.parc.title}),
    ]:
        assert set(result_titles(client.get(SEARCH, params))) == expected, params


def test_text_search_ignores_accents_both_ways(client, sample):
    assert set(result_titles(client.get(SEARCH, {"q": "ecologie"}))) == {sample.parc.title, sample.campus.title}
    assert set(result_titles(client.get(SEARCH, {"q": "Écologie industrielle"}))) == {sample.parc.title}
    assert set(result_titles(client.get(SEARCH, {"q": "mobilité"}))) == {sample.mobilite.title}


def test_empty_states_say_what_to_do(client, sample):
    page = text(client.get(SEARCH, {"q": "introuvable"}))
    assert "Aucun projet ne correspond à cette recherche" in page
    assert "Voir tous les projets" in page
    Project.objects.all().delete()
    assert "Aucun projet publié pour l'instant" in text(client.get(SEARCH))


def test_search_pages_through_results(client, sample):
    add_projects(sample.lannion, sample.phase1, 25)
    first = client.get(SEARCH, {"region": "53"})
    assert "26 projets" in text(first)
    assert len(result_titles(first)) == 20
    assert re.search(r'<a class="fr-pagination__link[^"]*" href="\?region=53&amp;page=2"', first.content.decode())
    second = client.get(SEARCH, {"region": "53", "page": 2})
    assert len(result_titles(second)) == 6
    assert not set(result_titles(first)) & set(result_titles(second))


def test_search_page_costs_a_fixed_number_of_queries(client, sample, django_assert_max_num_queries):
    add_projects(sample.nord_lorraine, sample.phase1, 2)
    with CaptureQueriesContext(connection) as small:
        assert "5 projets" in text(client.get(SEARCH))
    add_projects(sample.nord_lorraine, sample.phase1, 35, start=200)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(SEARCH)
    assert "40 projets" in text(response)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(SEARCH, {"theme": "innover", "region": "44", "q": "projet"})


def test_project_page_shows_facts_funding_indicators_and_milestones(client, sample):
    response = client.get(f"/projets/{sample.parc.id_projet}/")
    page = text(response)
    html = response.content.decode()
    assert sample.parc.title in page
    assert re.search(r'id="project-status">Engagé<', html)
    assert 'href="/territoires/ti-4401/"' in html
    assert "Innover" in page and "Attirer" in page
    assert "Fonderie de l'Est" in page and "Metz (57463)" in page
    assert "1 200 000 €" in page
    assert "2 mai 2019" in page and "1 septembre 2019" in page and "31 décembre 2021" in page
    # Funding plan: one row per line, and the totals the lines add up to.
    assert "Bpifrance Prêt d'amorçage 300 000 € 250 000,50 € 15 février 2020" in page
    assert "Région Grand Est Fonds régional 150 000 € — en attente" in page
    totals = html[html.index('id="funding-totals"') :]
    assert "Total 450 000 € 250 000,50 €" in text_of(totals[: totals.index("</tr>")])
    # Indicators: target vs measured by date; milestones: planned vs actual.
    assert "Emplois créés (emplois) 31 décembre 2020 20 17 85 %" in page
    assert "31 décembre 2021 40 — —" in page
    assert "Permis de construire 1 décembre 2019 10 janvier 2020 Atteint 40 jours de retard" in page
    assert "Mise en service 1 juin 2021 — En retard" in page


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment)).replace("\xa0", " "))


def test_project_page_empty_states(client, sample):
    page = text(client.get(f"/projets/{sample.campus.id_projet}/"))
    assert "Aucun financement n'a été demandé pour ce projet" in page
    assert "Aucun indicateur n'est encore suivi" in page
    assert "Aucun jalon n'a été fixé" in page
    assert "Coût total non renseigné" in page


def test_project_page_totals_follow_the_lines(client, sample):
    FundingLine.objects.filter(project=sample.parc, granted__isnull=True).update(granted=50000)
    page = text(client.get(f"/projets/{sample.parc.id_projet}/"))
    assert "Total 450 000 € 300 000,50 €" in page


def test_private_project_page_is_404_for_visitors(client, sample):
    response = client.get(f"/projets/{sample.secret.id_projet}/")
    assert response.status_code == 404
    assert sample.secret.title not in response.content.decode()
    assert client.get("/projets/PRJ-inconnu/").status_code == 404
