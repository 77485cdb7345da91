"""The territories' read API, as a client of /api/v1/ sees it."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.core.pagination import MAX_PAGE_SIZE
from pilotage.geo.models import Commune, Epci
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory

API = "/api/v1"
NORD_LORRAINE_EPCIS = ["200039865", "245701222"]  # Metz Métropole, CA du Val de Fensch
# Contact details stored on governance members; they must never leave the database through the API.
EMAIL = "binome.elu@example.org"
PHONE = "03 87 00 00 00"
# A list page or the GeoJSON costs this many queries whatever its length (count, territories, phases,
# contracts, action plans — or territories, phases, EPCI for the GeoJSON).
MAX_LIST_QUERIES = 5


def phase(code: str) -> ProgrammePhase:
    return ProgrammePhase.objects.get(code=code)


def make_territory(code: str, name: str, region: str, epcis: list[str], phases: list[str], **fields) -> Territory:
    territory = Territory.objects.create(code=code, name=name, region_id=region, **fields)
    territory.phases.set([phase(p) for p in phases])
    territory.epcis.set(epcis)
    territory.refresh_derived()
    return territory


@pytest.fixture
def nord_lorraine(geo_slice) -> Territory:
    """A territory of both phases with governance, contracts and a plan validated on its second version."""
    territory = make_territory(
        "ti-4401",
        "Nord Lorraine",
        "44",
        NORD_LORRAINE_EPCIS,
        ["2018-2022", "2023-2027"],
        governance_installed_on=datetime.date(2019, 3, 15),
    )
    GovernanceMember.objects.create(
        territory=territory,
        role=GovernanceMember.Role.INDUSTRIAL_LEAD,
        full_name="Claire Industrie",
        position="Présidente",
        organisation="Aciéries de Lorraine",
        phone=PHONE,
        starts_on=datetime.date(2019, 3, 15),
    )
    GovernanceMember.objects.create(
        territory=territory,
        role=GovernanceMember.Role.ELECTED_LEAD,
        full_name="Jean Élu",
        position="Vice-président",
        organisation="Metz Métropole",
        email=EMAIL,
        starts_on=datetime.date(2019, 3, 15),
    )
    old = phase("2018-2022")
    Contract.objects.create(
        territory=territory,
        phase=old,
        kind=Contract.Kind.PROTOCOL,
        signed_on=datetime.date(2019, 6, 3),
        signatories="Préfet de la Moselle\nPrésident de la Région Grand Est\n",
    )
    Contract.objects.create(territory=territory, phase=old, kind=Contract.Kind.CONTRACT, signed_on=None)
    ActionPlan.objects.create(
        territory=territory,
        phase=old,
        version=1,
        status=ActionPlan.Status.RETURNED,
        submitted_on=datetime.date(2019, 9, 1),
        decided_on=datetime.date(2019, 10, 1),
    )
    ActionPlan.objects.create(
        territory=territory,
        phase=old,
        version=2,
        status=ActionPlan.Status.VALIDATED,
        submitted_on=datetime.date(2019, 11, 1),
        decided_on=datetime.date(2019, 12, 12),
    )
    ActionPlan.objects.create(
        territory=territory,
        phase=phase("2023-2027"),
        version=1,
        status=ActionPlan.Status.DRAFT,
        expected_validation_on=datetime.date(2024, 6, 30),
    )
    return territory


@pytest.fixture
def territories(nord_lorraine) -> dict[str, Territory]:
    """Nord Lorraine, an accented Vosges territory of the second phase, and one of another region."""
    vosges_epci = Epci.objects.filter(communes__department_id="88").distinct().order_by("siren").first()
    epinal = make_territory("ti-4402", "Épinal Vosges", "44", [vosges_epci.siren], ["2023-2027"])
    lyon = make_territory("ti-8401", "Vallée de la chimie", "84", [], ["2018-2022"])
    return {t.code: t for t in (nord_lorraine, epinal, lyon)}


def get_json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.content
    return response.json()


def codes(page: dict) -> list[str]:
    return [item["code"] for item in page["results"]]


# List


@pytest.mark.django_db
def test_list_shows_every_territory_sorted_by_code_with_its_summary(client, territories):
    page = get_json(client, f"{API}/territories")

    assert page["count"] == 3
    assert page["page"] == 1 and page["page_size"] == 50
    assert page["next"] is None and page["previous"] is None
    assert codes(page) == ["ti-4401", "ti-4402", "ti-8401"]
    item = next(i for i in page["results"] if i["code"] == "ti-4401")
    epcis = Epci.objects.filter(siren__in=NORD_LORRAINE_EPCIS)
    assert item["name"] == "Nord Lorraine"
    assert item["region"] == {"code": "44", "name": "Grand Est"}
    assert item["phases"] == ["2018-2022", "2023-2027"]
    assert item["population"] == sum(e.population for e in epcis) > 0
    assert item["communes_count"] == Commune.objects.filter(epci__in=epcis).count() > 0
    assert item["epci_count"] == 2
    assert item["governance_installed_on"] == "2019-03-15"


@pytest.mark.django_db
def test_list_summarises_the_milestones_of_each_phase(client, territories):
    item = next(i for i in get_json(client, f"{API}/territories")["results"] if i["code"] == "ti-4401")

    first, second = item["milestones"]
    assert first == {
        "phase": "2018-2022",
        "protocol_signed_on": "2019-06-03",
        "contract_signed_on": None,
        "action_plan_status": "validated",
        "action_plan_validated_on": "2019-12-12",
        "action_plan_expected_validation_on": None,
    }
    assert second["phase"] == "2023-2027"
    assert second["action_plan_status"] == "draft"
    assert second["action_plan_validated_on"] is None
    assert second["action_plan_expected_validation_on"] == "2024-06-30"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=44", ["ti-4401", "ti-4402"]),
        ("region=84", ["ti-8401"]),
        ("region=11", []),
        ("phase=2018-2022", ["ti-4401", "ti-8401"]),
        ("phase=2023-2027&region=44", ["ti-4401", "ti-4402"]),
        ("q=epinal", ["ti-4402"]),
        ("q=%C3%89PINAL", ["ti-4402"]),
        ("q=fensch", ["ti-4401"]),  # the name of one of its EPCI
        ("q=chimie&region=44", []),
    ],
)
def test_list_filters_by_region_phase_and_accent_insensitive_search(client, territories, query, expected):
    page = get_json(client, f"{API}/territories?{query}")

    assert codes(page) == expected
    assert page["count"] == len(expected)


@pytest.mark.django_db
def test_list_pages_follow_each_other_and_keep_the_filters(client, territories):
    for number in range(5):
        make_territory(f"ti-44{10 + number}", f"Territoire {number}", "44", [], ["2018-2022"])
    every = codes(get_json(client, f"{API}/territories?region=44&page_size={MAX_PAGE_SIZE}"))

    seen, url, pages = [], f"{API}/territories?region=44&page_size=3", 0
    while url:
        page = get_json(client, url)
        assert page["count"] == len(every)
        assert page["page_size"] == 3
        assert len(page["results"]) <= 3
        seen += codes(page)
        pages += 1
        url = page["next"]
        if url:
            assert url.startswith("http://testserver/api/v1/territories?")
            assert "region=44" in url and "page_size=3" in url
    assert seen == every
    assert pages == -(-len(every) // 3)
    assert get_json(client, f"{API}/territories?region=44&page_size=3")["previous"] is None
    last = get_json(client, f"{API}/territories?region=44&page_size=3&page={pages}")
    assert last["next"] is None
    assert f"page={pages - 1}" in last["previous"]


@pytest.mark.django_db
def test_a_page_past_the_end_is_empty_and_points_back_to_the_last_one(client, territories):
    page = get_json(client, f"{API}/territories?page=9&page_size=2")

    assert page["results"] == []
    assert page["count"] == 3
    assert page["next"] is None
    assert "page=2" in page["previous"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        (f"page_size={MAX_PAGE_SIZE + 1}", "page_size"),
        ("page_size=100000", "page_size"),
        ("page_size=ten", "page_size"),
    ],
)
def test_bad_paging_parameters_answer_400_naming_the_parameter(client, db, query, field):
    body = get_json(client, f"{API}/territories?{query}", status=400)

    assert set(body) == {"error"}
    assert body["error"]["code"] == "bad_request"
    assert body["error"]["message"] == "Paramètre invalide."
    assert [(d["location"], d["field"]) for d in body["error"]["details"]] == [("query", field)]
    assert body["error"]["details"][0]["message"]  # a French sentence, e.g. "Doit être un nombre entier."


@pytest.mark.django_db
def test_the_largest_page_size_is_accepted(client, territories):
    assert get_json(client, f"{API}/territories?page_size={MAX_PAGE_SIZE}")["page_size"] == MAX_PAGE_SIZE


def populate(count: int, epcis: list[str]) -> None:
    """`count` territories each with two phases, a protocol, two plan versions and a perimeter."""
    old, new = phase("2018-2022"), phase("2023-2027")
    for number in range(count):
        territory = make_territory(f"ti-44{number:02d}", f"Territoire {number:02d}", "44", epcis, [old.code, new.code])
        Contract.objects.create(territory=territory, phase=old, kind="protocol", signed_on=datetime.date(2019, 5, 1))
        for version in (1, 2):
            ActionPlan.objects.create(territory=territory, phase=old, version=version, status="submitted")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/territories?page_size=500", "/territories.geojson"])
def test_a_list_costs_the_same_queries_for_5_or_30_territories(client, geo_slice, django_assert_max_num_queries, path):
    counts = []
    for size in (5, 30):
        Territory.objects.all().delete()
        populate(size, NORD_LORRAINE_EPCIS)
        with django_assert_max_num_queries(MAX_LIST_QUERIES), CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}{path}")
        assert response.status_code == 200
        body = response.json()
        assert len(body.get("results", body.get("features"))) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Detail


@pytest.mark.django_db
def test_detail_shows_governance_contracts_plans_and_perimeter(client, territories):
    body = get_json(client, f"{API}/territories/ti-4401")

    assert body["code"] == "ti-4401"
    assert body["region"] == {"code": "44", "name": "Grand Est"}
    assert body["governance"]["installed_on"] == "2019-03-15"
    members = body["governance"]["members"]
    assert [(m["role"], m["full_name"]) for m in members] == [
        ("elected_lead", "Jean Élu"),
        ("industrial_lead", "Claire Industrie"),
    ]
    assert members[0]["role_label"] == str(GovernanceMember.Role.ELECTED_LEAD.label)
    assert members[0]["organisation"] == "Metz Métropole"
    assert members[0]["starts_on"] == "2019-03-15" and members[0]["ends_on"] is None
    assert [(c["phase"], c["kind"], c["signed_on"]) for c in body["contracts"]] == [
        ("2018-2022", "protocol", "2019-06-03"),
        ("2018-2022", "contract", None),
    ]
    assert body["contracts"][0]["signatories"] == ["Préfet de la Moselle", "Président de la Région Grand Est"]
    plans = {p["phase"]: p for p in body["action_plans"]}
    assert (plans["2018-2022"]["version"], plans["2018-2022"]["status"]) == (2, "validated")
    assert plans["2018-2022"]["decided_on"] == "2019-12-12"
    assert (plans["2023-2027"]["status"], plans["2023-2027"]["expected_validation_on"]) == ("draft", "2024-06-30")
    assert sorted(body["epcis"]) == sorted(NORD_LORRAINE_EPCIS)
    names = dict(Epci.objects.filter(siren__in=NORD_LORRAINE_EPCIS).values_list("siren", "name"))
    assert {e["siren"]: e["name"] for e in body["epci_details"]} == names
    assert body["population"] == territories["ti-4401"].population
    assert body["communes_count"] == territories["ti-4401"].communes_count


@pytest.mark.django_db
def test_no_contact_details_of_governance_members_in_any_answer(client, territories):
    members = get_json(client, f"{API}/territories/ti-4401")["governance"]["members"]
    assert {m["full_name"] for m in members} == {"Jean Élu", "Claire Industrie"}  # who they are, not how to reach them

    urls = ["/territories", "/territories/ti-4401", "/territories.geojson", "/territories/ti-4401.geojson"]
    for url in urls:
        text = client.get(f"{API}{url}").content.decode()
        assert EMAIL not in text and PHONE not in text
        assert '"email"' not in text and '"phone"' not in text


@pytest.mark.django_db
def test_detail_carries_an_etag_that_changes_with_the_governance(client, territories):
    first = client.get(f"{API}/territories/ti-4401")
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(f"{API}/territories/ti-4401")["ETag"] == etag

    unchanged = client.get(f"{API}/territories/ti-4401", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    GovernanceMember.objects.create(territory=territories["ti-4401"], role="project_manager", full_name="Chef Projet")
    changed = client.get(f"{API}/territories/ti-4401", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "Chef Projet" in [m["full_name"] for m in changed.json()["governance"]["members"]]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/territories/ti-9999", "/territories/ti-9999.geojson", "/territories/ti-4401.json"])
def test_an_unknown_territory_answers_404_in_the_error_format(client, territories, path):
    response = client.get(f"{API}{path}")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "introuvable" in error["message"]
    assert set(error) == {"code", "message", "details"}


# GeoJSON


def assert_polygon(polygon: list) -> None:
    """A GeoJSON polygon: closed linear rings of [longitude, latitude] positions, here in Grand Est."""
    assert polygon, "a polygon has at least its outer ring"
    for ring in polygon:
        assert len(ring) >= 4
        assert ring[0] == ring[-1]
        for longitude, latitude in ring:
            assert 4 < longitude < 9 and 47 < latitude < 50.5


def polygon_count(geometry: dict) -> int:
    return 1 if geometry["type"] == "Polygon" else len(geometry["coordinates"])


@pytest.mark.django_db
def test_all_perimeters_as_one_multipolygon_feature_per_territory(client, territories):
    response = client.get(f"{API}/territories.geojson")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    features = {f["properties"]["code"]: f for f in body["features"]}
    assert set(features) == set(territories)
    nord = features["ti-4401"]
    assert nord["type"] == "Feature"
    assert nord["properties"]["name"] == "Nord Lorraine"
    assert nord["properties"]["region"] == "44"
    assert sorted(nord["properties"]["epcis"]) == sorted(NORD_LORRAINE_EPCIS)
    assert nord["geometry"]["type"] == "MultiPolygon"
    shapes = [e.geometry for e in Epci.objects.filter(siren__in=NORD_LORRAINE_EPCIS)]
    assert len(nord["geometry"]["coordinates"]) == sum(polygon_count(s) for s in shapes)
    for polygon in nord["geometry"]["coordinates"]:
        assert_polygon(polygon)
    assert features["ti-8401"]["geometry"] is None  # no perimeter yet: a Feature without geometry


@pytest.mark.django_db
def test_all_perimeters_take_the_list_filters(client, territories):
    body = json.loads(client.get(f"{API}/territories.geojson?region=44&q=lorraine").content)

    assert [f["properties"]["code"] for f in body["features"]] == ["ti-4401"]
    assert client.get(f"{API}/territories.geojson?region=toolong").status_code == 400


@pytest.mark.django_db
def test_one_perimeter_is_a_feature_per_epci_with_the_territory_properties(client, territories):
    response = client.get(f"{API}/territories/ti-4401.geojson")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    assert body["properties"]["code"] == "ti-4401"
    assert body["properties"]["name"] == "Nord Lorraine"
    names = dict(Epci.objects.filter(siren__in=NORD_LORRAINE_EPCIS).values_list("siren", "name"))
    assert {f["properties"]["code"]: f["properties"]["name"] for f in body["features"]} == names
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        polygons = feature["geometry"]["coordinates"]
        for polygon in [polygons] if feature["geometry"]["type"] == "Polygon" else polygons:
            assert_polygon(polygon)


@pytest.mark.django_db
def test_geojson_addresses_are_not_taken_for_territory_codes(client, territories):
    collection = client.get(f"{API}/territories.geojson")
    one = client.get(f"{API}/territories/ti-4401.geojson")
    detail = client.get(f"{API}/territories/ti-4401")

    assert collection.status_code == one.status_code == detail.status_code == 200
    assert json.loads(collection.content)["type"] == "FeatureCollection"
    assert "governance" not in json.loads(one.content)
    assert detail["Content-Type"].startswith("application/json")
    assert detail.json()["code"] == "ti-4401"
