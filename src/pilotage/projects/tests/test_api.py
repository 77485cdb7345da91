"""GET /api/v1/projects and /api/v1/projects/{id_projet}: filters, search, pagination, visibility, ETag."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.projects.models import FundingLine, Organisation, Project

from .builders import add_projects, build_sample

LIST = "/api/v1/projects"


@pytest.fixture
def sample(db):
    return build_sample()


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["id_projet"] for item in response.json()["results"]}


def test_list_shows_public_projects_only(client, sample):
    body = client.get(LIST).json()
    assert body["count"] == 3
    assert {p["id_projet"] for p in body["results"]} == {
        sample.parc.id_projet,
        sample.campus.id_projet,
        sample.mobilite.id_projet,
    }
    # Most recently reported first.
    assert [p["id_projet"] for p in body["results"]][0] == sample.mobilite.id_projet


def test_list_item_carries_the_pinned_fields(client, sample):
    item = next(p for p in client.get(LIST).json()["results"] if p["id_projet"] == sample.parc.id_projet)
    assert item["territory"] == "ti-4401"
    assert item["title"] == "Parc'Innov : écologie industrielle territoriale"
    assert item["themes"] == ["attirer", "innover"]  # the phase's order
    assert item["status"] == "in_progress"
    assert item["owner"] == {"name": "Fonderie de l'Est", "siren": "732829320"}
    assert item["commune"] == "57463"
    assert item["total_cost"] == 1200000
    assert item["public"] is True
    assert {line["funder"] for line in item["funding"]} == {"Bpifrance", "Région Grand Est"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"territory": "ti-4401"}, {"parc"}),
        ({"region": "53"}, {"campus"}),
        ({"region": "44"}, {"parc", "mobilite"}),
        ({"theme": "innover"}, {"parc"}),
        ({"theme": "recruter"}, {"campus"}),
        ({"status": "ready"}, {"mobilite"}),
        ({"owner_siren": "732829320"}, {"parc", "mobilite"}),
        ({"owner_siren": "200 065 928"}, {"campus"}),
        ({"phase": "2023-2027"}, {"mobilite"}),
        ({"region": "44", "phase": "2018-2022"}, {"parc"}),
    ],
)
def test_each_filter_narrows_the_list(client, sample, params, expected):
    assert ids(client.get(LIST, params)) == {getattr(sample, name).id_projet for name in expected}


@pytest.mark.parametrize(
    "params",
    [{"territory": "ti-9999"}, {"region": "99"}, {"theme": "inconnu"}, {"phase": "1990-1995"}, {"q": "zzzz"}],
)
def test_unknown_values_give_an_empty_list(client, sample, params):
    response = client.get(LIST, params)
    assert ids(response) == set()
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "foo"}, "status"), ({"owner_siren": "12345"}, "owner_siren"), ({"page_size": "501"}, "page_size")],
)
def test_malformed_values_answer_400_in_the_error_format(client, sample, params, field):
    response = client.get(LIST, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"]
    assert field in {d["field"] for d in error["details"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ecologie", {"parc", "campus"}),  # "écologie" in Parc's title, "ecologie" in Campus' description
        ("écologie", {"parc", "campus"}),
        ("ÉCOLOGIE industrielle", {"parc"}),  # every word must match
        ("mobilite", {"mobilite"}),
        ("fonderie", {"parc", "mobilite"}),  # the owner's name
        ("Tregor", {"campus"}),  # "Lannion-Trégor Communauté" owns it
    ],
)
def test_q_is_accent_and_case_insensitive(client, sample, q, expected):
    assert ids(client.get(LIST, {"q": q})) == {getattr(sample, name).id_projet for name in expected}


def test_search_follows_edits_renames_and_bulk_loads(client, sample):
    sample.campus.title = "Campus de la plasturgie"
    sample.campus.save(update_fields=["title"])
    assert ids(client.get(LIST, {"q": "plasturgie"})) == {sample.campus.id_projet}

    owner = Organisation.objects.get(pk=sample.agglo.pk)
    owner.name = "Communauté d'agglomération du Trégor"
    owner.save()
    assert ids(client.get(LIST, {"q": "agglomeration"})) == {sample.campus.id_projet}

    Project.objects.bulk_create(
        [Project(id_projet="BULK-1", territory=sample.lannion, phase=sample.phase1, title="Hydrogène vert")]
    )
    assert ids(client.get(LIST, {"q": "hydrogene"})) == set()
    assert Project.objects.filter(id_projet="BULK-1").refresh_search_text() == 1
    assert ids(client.get(LIST, {"q": "hydrogene"})) == {"BULK-1"}


def test_pagination_walks_every_project_once(client, sample):
    add_projects(sample.lannion, sample.phase1, 3)
    first = client.get(LIST, {"page_size": 2, "region": "53"}).json()
    assert (first["count"], first["page"], first["page_size"], first["previous"]) == (4, 1, 2, None)
    assert "region=53" in first["next"] and "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert second["next"] is None
    assert second["previous"] is not None
    seen = [p["id_projet"] for p in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 4
    assert client.get(LIST, {"page": 9, "page_size": 2}).json()["results"] == []


def test_private_project_is_hidden_from_visitors(client, sample):
    assert sample.secret.id_projet not in ids(client.get(LIST, {"q": "confidentiel"}))
    response = client.get(f"{LIST}/{sample.secret.id_projet}")
    unknown = client.get(f"{LIST}/PRJ-inconnu")
    assert response.status_code == unknown.status_code == 404
    assert response.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"
    assert sample.secret.title not in response.content.decode()


def test_private_project_is_visible_to_a_superuser(client, sample, django_user_model):
    boss = django_user_model.objects.create_superuser("anct@example.fr", "anct@example.fr", "x" * 16)
    client.force_login(boss)
    assert client.get(f"{LIST}/{sample.secret.id_projet}").json()["public"] is False
    assert sample.secret.id_projet in ids(client.get(LIST, {"q": "confidentiel"}))


def test_detail_has_funding_indicators_and_milestones(client, sample):
    response = client.get(f"{LIST}/{sample.parc.id_projet}")
    assert response.status_code == 200
    body = response.json()
    assert body["id_projet"] == sample.parc.id_projet
    assert body["territory"] == "ti-4401"
    assert body["phase"] == "2018-2022"
    assert body["description"].startswith("Un parc d'activités")
    assert (body["reported_on"], body["start_on"], body["end_on"]) == ("2019-05-02", "2019-09-01", "2021-12-31")
    assert body["updated_at"]
    bpi = next(line for line in body["funding"] if line["funder"] == "Bpifrance")
    assert bpi == {
        "id": FundingLine.objects.get(project=sample.parc, funder__name="Bpifrance").pk,
        "funder": "Bpifrance",
        "instrument": "Prêt d'amorçage",
        "requested": 300000,
        "granted": 250000.5,
        "paid": None,
        "decided_on": "2020-02-15",
        "status": "granted",
    }
    jobs = next(i for i in body["indicators"] if i["code"] == "emplois_crees")
    assert (jobs["label"], jobs["unit"]) == ("Emplois créés", "emplois")
    assert jobs["values"] == [
        {"on": "2020-12-31", "target": 20, "measured": 17},
        {"on": "2021-12-31", "target": 40, "measured": None},
    ]
    assert [m["label"] for m in body["milestones"]] == ["Permis de construire", "Mise en service"]
    assert body["milestones"][0] == {
        "label": "Permis de construire",
        "planned_on": "2019-12-01",
        "actual_on": "2020-01-10",
    }


def test_detail_of_a_project_without_owner_nor_lines(client, sample):
    Project.objects.filter(pk=sample.campus.pk).update(owner=None, commune=None)
    body = client.get(f"{LIST}/{sample.campus.id_projet}").json()
    assert body["owner"] is None and body["commune"] is None and body["total_cost"] is None
    assert body["funding"] == body["indicators"] == body["milestones"] == []


def test_etag_and_conditional_get(client, sample):
    url = f"{LIST}/{sample.parc.id_projet}"
    etag = client.get(url)["ETag"]
    assert etag
    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"autre"'}).status_code == 200

    # A change in a funding line changes what the answer shows, hence its ETag.
    FundingLine.objects.filter(project=sample.parc, granted__isnull=True).update(granted=Decimal("100000"))
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def count_queries(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_costs_a_fixed_number_of_queries(client, sample, django_assert_max_num_queries):
    params = {"page_size": 100}
    add_projects(sample.nord_lorraine, sample.phase1, 2)
    assert client.get(LIST, params).json()["count"] == 5
    small = count_queries(client, LIST, params)
    add_projects(sample.nord_lorraine, sample.phase1, 35, start=200)
    assert client.get(LIST, params).json()["count"] == 40
    with django_assert_max_num_queries(small):
        client.get(LIST, params)
    with django_assert_max_num_queries(4):  # count, page, themes, funding lines
        client.get(LIST, {**params, "theme": "innover", "q": "projet"})


def test_openapi_documents_the_filters_and_the_error_choice(client, db):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/projects"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"territory", "region", "theme", "status", "owner_siren", "q", "phase", "page", "page_size"} <= names
    assert "400" in operation["description"] and "liste vide" in operation["description"]
