"""The dashboards as a visitor reads them: the same figures as the API, every figure a link to exactly the records it
counts (page and CSV), the viewer's scope, bad input, and a fixed number of queries whatever the data size."""

import csv
import datetime
import html
import io
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory, Theme
from pilotage.projects.models import (
    FundingLine,
    Indicator,
    IndicatorValue,
    Organisation,
    Project,
    ProjectStatusChange,
)
from pilotage.stats.dashboards import month_ends, progress
from pilotage.stats.figures import build_scope, end_of_day, programme_figures, today
from pilotage.stats.tests.test_figures import programme  # noqa: F401  (the small programme with dated milestones)

D = datetime.date
LIST_PATH = "/tableaux-de-bord/liste/"
TILE = re.compile(
    r'data-figure="(?P<figure>\w+)">.*?<a href="(?P<href>[^"]+)"><span class="pil-figure">(?P<value>[^<]+)</span>',
    re.S,
)
TABLE_LINK = re.compile(r'<td class="pil-num pil-nowrap"><a href="(?P<href>[^"]+)">(?P<value>[^<]+)</a></td>')


def digits(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def tiles(page) -> dict[str, tuple[str, str]]:
    """{figure: (value as shown, link)} of the headline tiles."""
    text = page.content.decode()
    return {m["figure"]: (m["value"], html.unescape(m["href"])) for m in TILE.finditer(text)}


def table_links(page) -> list[tuple[str, str]]:
    """(value as shown, link) of every number in the charts' data tables."""
    return [(m["value"], html.unescape(m["href"])) for m in TABLE_LINK.finditer(page.content.decode())]


def listed(client, href: str) -> dict:
    """What a record list shows: its count, its rows' identifiers and, for funding figures, its totals."""
    page = client.get(href)
    assert page.status_code == 200, href
    text = page.content.decode()
    count = digits(re.search(r'id="records-count">([^<]+)<', text)[1])
    ids = re.findall(r"<code>([^<]+)</code>", text) + re.findall(r'href="/projets/([^/"]+)/"', text)
    total = re.search(r'id="records-total">.*?<td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>', text, re.S)
    totals = (digits(total[1]), digits(total[2])) if total else None
    return {"count": count, "ids": ids, "totals": totals}


def dashboard_url(filters: dict, day: str) -> str:
    query = f"?as_of={day}" + (f"&phase={filters['phase']}" if "phase" in filters else "")
    if "territory" in filters:
        return f"/tableaux-de-bord/territoire/{filters['territory']}/{query}"
    if "region" in filters:
        return f"/tableaux-de-bord/region/{filters['region']}/{query}"
    return f"/tableaux-de-bord/{query}"


class Api:
    """The API's figures for the filters of a list link, asked once per filter set."""

    def __init__(self, client):
        self.client, self.answers = client, {}

    def figures(self, params: dict) -> dict:
        query = {k: params[k][0] for k in ("as_of", "region", "territory", "phase") if k in params}
        key = tuple(sorted(query.items()))
        if key not in self.answers:
            self.answers[key] = self.client.get("/api/v1/stats", query).json()
        return self.answers[key]


CASES = [
    ({}, "2019-11-19"),
    ({"region": "44"}, "2019-09-30"),
    ({"territory": "ti-4401"}, "2020-01-01"),
    ({"phase": "2018-2022"}, "2019-03-14"),
]


@pytest.mark.parametrize(("filters", "day"), CASES)
def test_the_dashboard_the_api_and_the_lists_agree_on_every_figure(programme, client, filters, day):  # noqa: F811
    api = client.get("/api/v1/stats", {"as_of": day, **filters}).json()
    page = client.get(dashboard_url(filters, day))
    assert page.status_code == 200
    shown = tiles(page)
    assert set(shown) >= {"governance_installed", "action_plans_validated", "projects", "funding_granted"}
    for figure, (value, href) in shown.items():
        assert parse_qs(urlsplit(href).query)["as_of"] == [day]
        records = listed(client, href)
        if figure.startswith("funding_"):
            assert digits(value) == round(api[figure]), figure
            assert round(api[figure]) in records["totals"], figure
            continue
        if figure == "governance_installed":
            assert (
                float(value.replace("\xa0", "").replace("%", "").replace(",", ".")) == api["governance_installed_pct"]
            )
        else:
            assert digits(value) == api[figure], figure
        assert records["count"] == api[figure] == len(records["ids"]), figure


@pytest.mark.parametrize(("filters", "day"), CASES)
def test_every_number_of_the_data_tables_is_the_api_figure_and_the_size_of_its_list(
    programme,  # noqa: F811
    client,
    filters,
    day,
):
    page = client.get(dashboard_url(filters, day))
    api = Api(client)
    links = table_links(page)
    assert len(links) > 10
    lists: dict[str, dict] = {}
    for value, href in links:
        params = parse_qs(urlsplit(href).query)
        figure, key = params["figure"][0], params.get("key", [None])[0]
        records = lists[href] = lists.get(href) or listed(client, href)
        if figure.startswith("funding"):
            assert digits(value) in records["totals"], href
            expected = api.figures(params)[figure]
            amounts = expected[key].values() if key else [expected]
            assert digits(value) in [round(a) for a in amounts], href
            continue
        assert digits(value) == records["count"], href
        if "departement" not in params:
            expected = api.figures(params)[figure]
            assert digits(value) == (expected[key] if key else expected), href


def test_a_figure_lists_exactly_its_records(programme, client):  # noqa: F811
    base = f"{LIST_PATH}?as_of=2019-11-19"
    assert set(listed(client, f"{base}&figure=governance_installed")["ids"]) == {"ti-4401", "ti-5301"}
    assert set(listed(client, f"{base}&figure=protocols_signed")["ids"]) == {"ti-4401", "ti-5301"}
    assert listed(client, f"{base}&figure=contracts_signed")["ids"] == ["ti-4401"]
    assert listed(client, f"{base}&figure=action_plans_validated&region=53")["ids"] == []
    by_year_end = listed(client, f"{base}&figure=action_plans_validated_by_year_end")
    assert set(by_year_end["ids"]) == {"ti-4401", "ti-4402"}
    # P3 is not public: a visitor never sees it, even in a list of the theme it belongs to.
    assert listed(client, f"{base}&figure=projects_by_theme&key=innover")["ids"] == ["P1"]
    assert listed(client, f"{LIST_PATH}?as_of=2019-10-14&figure=projects_by_status&key=idea")["ids"] == ["P2", "P1"]
    assert listed(client, f"{LIST_PATH}?as_of=2019-10-15&figure=projects_by_status&key=in_progress")["ids"] == ["P1"]
    funder = listed(client, f"{LIST_PATH}?as_of=2020-01-01&figure=funding_by_funder&key=Bpifrance")
    assert (funder["ids"], funder["totals"]) == (["P2", "P1"], (120000, 100000))


def test_the_list_shows_the_date_that_makes_a_territory_count(programme, client):  # noqa: F811
    page = client.get(f"{LIST_PATH}?as_of=2019-11-19&figure=contracts_signed")
    assert "Contrat signé le" in page.content.decode()
    assert "19 novembre 2019" in page.content.decode()


def test_the_csv_holds_the_same_records_as_the_list(programme, client):  # noqa: F811
    query = f"{LIST_PATH}?as_of=2020-01-01&figure=funding_by_funder&key=Bpifrance"
    answer = client.get(query + "&format=csv")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r["id_projet"] for r in rows] == listed(client, query)["ids"]
    assert sum(Decimal(r["montant_demande"]) for r in rows) == Decimal("120000")
    assert rows[-1]["statut"] == "Engagé"
    territories = client.get(f"{LIST_PATH}?as_of=2019-03-15&figure=governance_installed&format=csv")
    rows = list(csv.DictReader(io.StringIO(territories.content.decode("utf-8-sig"))))
    assert [(r["id_ti"], r["date"]) for r in rows] == [("ti-5301", "2019-01-10"), ("ti-4401", "2019-03-15")]


def test_a_pilot_sees_the_projects_a_visitor_does_not(programme, client):  # noqa: F811
    from pilotage.accounts.services import create_or_update_user

    query = f"{LIST_PATH}?as_of=2019-11-19&figure=projects_by_theme&key=innover"
    assert listed(client, query)["ids"] == ["P1"]
    user, _created, _added = create_or_update_user("coord@example.org", "national")
    client.force_login(user)
    assert sorted(listed(client, query)["ids"]) == ["P1", "P3"]
    page = client.get("/tableaux-de-bord/?as_of=2019-11-19")
    assert digits(tiles(page)["projects"][0]) == 3


def test_the_progress_series_are_the_figures_at_each_months_end(programme):  # noqa: F811
    scope = build_scope(AnonymousUser())
    points = progress(scope, D(2020, 1, 10), D(2018, 11, 22))
    assert [p.on for p in points][:2] == [D(2018, 11, 30), D(2018, 12, 31)]
    assert points[-1].on == D(2020, 1, 10)
    for point in points:
        f = programme_figures(scope, point.on)
        assert (point.governance_installed, point.action_plans_validated, point.projects) == (
            f["governance_installed"],
            f["action_plans_validated"],
            f["projects"],
        ), point.on


def test_month_ends_stop_at_the_date():
    assert month_ends(D(2024, 1, 31), D(2024, 3, 5)) == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 5)]
    assert month_ends(D(2024, 3, 6), D(2024, 3, 5)) == []


def test_the_dashboard_draws_its_charts_and_maps(programme, client):  # noqa: F811
    text = client.get("/tableaux-de-bord/?as_of=2020-01-01").content.decode()
    for tag in ("<line-chart", "<bar-chart", "<map-chart"):
        assert tag in text
    # The region map is keyed by dsfr-chart's region codes: Grand Est (44) is "GES", with its 2 visible projects.
    assert "&quot;GES&quot;: 1" in text and "&quot;BRE&quot;: 1" in text
    assert "/static/vendor/dsfr-chart/DSFRChart.js" in text
    assert re.search(r'href="/tableaux-de-bord/"\s+aria-current="page">Tableaux de bord<', text)  # the header menu
    regional = client.get("/tableaux-de-bord/region/44/?as_of=2020-01-01").content.decode()
    assert "data-pil-choropleth" in regional and 'id="freshness-table"' in regional


def test_a_bad_date_shows_a_french_message_and_todays_figures(programme, client):  # noqa: F811
    for bad in ("2019-02-31", "20190101", "demain"):
        page = client.get("/tableaux-de-bord/", {"as_of": bad})
        assert page.status_code == 200
        text = page.content.decode()
        assert "n'est pas valide" in html.unescape(text)
        assert 'aria-invalid="true"' in text
        assert digits(tiles(page)["projects"][0]) == programme_figures(build_scope(AnonymousUser()))["projects"]
        assert today().isoformat() in tiles(page)["projects"][1]
    listing = client.get(LIST_PATH, {"figure": "projects", "as_of": "2019-13-01"})
    assert listing.status_code == 200 and "n'est pas valide" in html.unescape(listing.content.decode())
    csv_answer = client.get(LIST_PATH, {"figure": "projects", "as_of": "2019-13-01", "format": "csv"})
    assert csv_answer.status_code == 400 and "n'est pas valide" in csv_answer.content.decode()


def test_an_unknown_phase_is_reported_and_ignored(programme, client):  # noqa: F811
    page = client.get("/tableaux-de-bord/", {"as_of": "2020-01-01", "phase": "1990-1991"})
    assert page.status_code == 200
    assert "La phase « 1990-1991 » n'existe pas" in html.unescape(page.content.decode())
    assert digits(tiles(page)["territories"][0]) == 3


def test_a_territory_outside_the_phase_shows_zeros_and_says_why(programme, client):  # noqa: F811
    page = client.get("/tableaux-de-bord/territoire/ti-4401/", {"phase": "2023-2027", "as_of": "2020-01-01"})
    assert page.status_code == 200
    assert "ne participe pas à la phase 2023-2027" in html.unescape(page.content.decode())
    assert digits(tiles(page)["projects"][0]) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/tableaux-de-bord/region/99/",
        "/tableaux-de-bord/territoire/ti-9999/",
        f"{LIST_PATH}?figure=nothing",
        f"{LIST_PATH}",
        f"{LIST_PATH}?figure=projects_by_theme",  # a split figure needs its key
        f"{LIST_PATH}?figure=projects&key=innover",  # and a plain one takes none
        f"{LIST_PATH}?figure=projects&region=99",
        f"{LIST_PATH}?figure=territories&territory=ti-9999",
    ],
)
def test_unknown_things_answer_404(programme, client, url):  # noqa: F811
    assert client.get(url).status_code == 404


def test_the_regional_freshness_list_sorts_on_the_server(programme, client):  # noqa: F811
    Project.objects.create(
        id_projet="LATE",
        territory=Territory.objects.get(code="ti-4402"),
        phase=ProgrammePhase.objects.get(code="2018-2022"),
        title="En retard",
        end_on=today() - datetime.timedelta(days=1),
    )

    def names(tri: str) -> list[str]:
        text = client.get("/tableaux-de-bord/region/44/", {"tri": tri}).content.decode()
        table = text[text.index('id="freshness-table"') :]
        return re.findall(r'<th scope="row"><a href="/tableaux-de-bord/territoire/[^"]+">([^<]+)</a>', table)

    assert names("nom") == ["Nord Lorraine", "Vosges"]
    assert names("-nom") == ["Vosges", "Nord Lorraine"]
    assert names("projets") == ["Vosges", "Nord Lorraine"]  # the most late first
    assert names("-projets") == ["Nord Lorraine", "Vosges"]
    assert names("n'importe quoi") == names("retard")


# ---------------------------------------------------------------------------------------------------------------
# A fixed number of queries whatever the number of territories and projects


def grow(region: Region, phase: ProgrammePhase, start: int, count: int) -> None:
    """`count` more territories, each with governance, contracts, plans, projects, funding and indicators."""
    theme = Theme.objects.filter(phase=phase).first()
    funder, _ = Organisation.objects.get_or_create(name="Bpifrance", kind="funder")
    indicator, _ = Indicator.objects.get_or_create(phase=phase, code="emplois", defaults={"label": "Emplois"})
    for i in range(start, start + count):
        t = Territory.objects.create(
            code=f"ti-44{i:02d}", name=f"Territoire {i}", region=region, governance_installed_on=D(2019, 1, 1 + i % 28)
        )
        t.phases.add(phase)
        GovernanceMember.objects.create(territory=t, role="elected_lead", full_name=f"Élu {i}")
        Contract.objects.create(territory=t, phase=phase, kind="protocol", signed_on=D(2019, 2, 1))
        ActionPlan.objects.create(
            territory=t, phase=phase, status="validated", decided_on=D(2019, 5, 1), expected_validation_on=D(2019, 4, 1)
        )
        for j in range(3):
            p = Project.objects.create(
                id_projet=f"G{i}-{j}",
                territory=t,
                phase=phase,
                title=f"Projet {i}-{j}",
                reported_on=D(2019, 1 + j, 10),
                end_on=D(2020, 1, 1),
                status="in_progress",
            )
            p.themes.add(theme)
            ProjectStatusChange.objects.create(project=p, status="idea", at=end_of_day(D(2019, 1 + j, 10)))
            FundingLine.objects.create(project=p, funder=funder, requested=Decimal(1000), granted=Decimal(500))
            IndicatorValue.objects.create(project=p, indicator=indicator, on=D(2019, 6, 1), target=Decimal(10))


QUERIED_PAGES = [
    "/tableaux-de-bord/?as_of=2020-01-01",
    "/tableaux-de-bord/region/44/?as_of=2020-01-01",
    "/tableaux-de-bord/territoire/ti-4401/?as_of=2020-01-01",
    f"{LIST_PATH}?figure=governance_installed&as_of=2020-01-01&region=44",
    f"{LIST_PATH}?figure=funding_by_funder&key=Bpifrance&as_of=2020-01-01",
    f"{LIST_PATH}?figure=projects_by_status&key=idea&as_of=2020-01-01",
]


def test_the_dashboards_cost_the_same_queries_with_5_or_30_territories(programme, client):  # noqa: F811
    region, phase = Region.objects.get(pk="44"), ProgrammePhase.objects.get(code="2018-2022")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    grow(region, phase, 10, 3)  # 5 territories in Grand Est
    for url in QUERIED_PAGES:
        count(url)  # warms the content-type cache
    small = {url: count(url) for url in QUERIED_PAGES}
    grow(region, phase, 20, 25)  # 30
    assert Territory.objects.filter(region=region).count() == 30
    # The first read after writes brings the national totals up to date (stats/ledger.py): a fixed number of
    # queries per thousand changed territories, whatever their records.
    catching_up = count(QUERIED_PAGES[0])
    assert catching_up <= small[QUERIED_PAGES[0]] + 25, catching_up
    large = {url: count(url) for url in QUERIED_PAGES}
    assert large == small
    assert max(small.values()) <= 40, small
