"""The API's contract as a whole: the pinned error format everywhere under /api/v1/, the OpenAPI document and
the interactive docs served without any CDN."""

import json
import re

import pytest
from django.test import RequestFactory
from ninja.errors import ValidationError
from openapi_spec_validator import validate

from pilotage.api import api, on_server_error, on_validation_error

API = "/api/v1"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/nope", "/territories/", "/territories/ti-4401/projets", "/v2/territories"])
def test_an_unknown_address_under_the_api_answers_a_json_404(client, method, path):
    error = assert_error(getattr(client, method)(f"{API}{path}"), 404, "not_found")

    assert path in error["message"]


@pytest.mark.django_db
def test_a_method_the_address_does_not_take_answers_a_json_405(client):
    response = client.delete(f"{API}/territories")

    error = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    assert error["details"] == {"allowed": ["GET"]}
    assert "DELETE" in error["message"]


@pytest.mark.django_db
def test_head_answers_like_get_without_the_body(client):
    get, head = client.get(f"{API}/territories"), client.head(f"{API}/territories")

    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]
    assert head["Content-Length"] == str(len(get.content))
    assert_error(client.get(f"{API}/nope"), 404, "not_found")
    assert client.head(f"{API}/nope").status_code == 404


@pytest.mark.django_db
def test_a_bad_parameter_answers_400_with_a_french_message_per_parameter(client):
    error = assert_error(client.get(f"{API}/territories?page=abc&page_size=100000"), 400, "bad_request")

    assert {d["field"]: d["message"] for d in error["details"]} == {
        "page": "Doit être un nombre entier.",
        "page_size": "Doit être inférieur ou égal à 500.",
    }


def test_an_invalid_body_answers_422_naming_the_field_as_the_client_sent_it():
    request = RequestFactory().post(f"{API}/projects")
    errors = [
        {"type": "missing", "loc": ("body", "payload", "title"), "msg": "Field required"},
        {"type": "value_error", "loc": ("body", "payload", "end_on"), "msg": "Value error, Fin avant le début."},
    ]

    response = on_validation_error(request, ValidationError(errors))

    assert response.status_code == 422
    error = json.loads(response.content)["error"]
    assert error["code"] == "validation_error"
    assert [(d["location"], d["field"], d["message"]) for d in error["details"]] == [
        ("body", "title", "Ce champ est obligatoire."),
        ("body", "end_on", "Fin avant le début."),
    ]


def test_an_unexpected_failure_answers_a_json_500_without_the_trace(settings):
    settings.DEBUG = False
    request = RequestFactory().get(f"{API}/territories")

    response = on_server_error(request, RuntimeError("secret internals"))

    assert response.status_code == 500
    assert b"secret internals" not in response.content
    assert b'"server_error"' in response.content


@pytest.mark.django_db
def test_a_bad_token_answers_401_and_is_not_treated_as_anonymous(client):
    response = client.get(f"{API}/territories", headers={"Authorization": "Bearer not-a-token"})

    assert_error(response, 401, "unauthorized")


@pytest.mark.django_db
def test_the_api_root_points_to_its_description_and_docs(client):
    body = client.get(f"{API}/").json()

    assert body["openapi"].endswith("/api/v1/openapi.json")
    assert body["docs"].endswith("/api/v1/docs")


# OpenAPI document and docs


def unique_keys(pairs: list[tuple]) -> dict:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicated keys: {keys}"  # Swagger UI refuses such a document
    return dict(pairs)


@pytest.fixture
def openapi(client, db) -> dict:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content, object_pairs_hook=unique_keys)


def test_the_openapi_document_is_valid(openapi):
    validate(openapi)  # raises on any violation of the OpenAPI 3.1 specification
    assert openapi["info"]["title"] == api.title


def test_the_openapi_document_lists_the_territory_endpoints_and_their_answers(openapi):
    paths = openapi["paths"]
    for path in ["/territories", "/territories.geojson", "/territories/{code}", "/territories/{code}.geojson"]:
        assert "get" in paths[f"{API}{path}"], path

    listing = paths[f"{API}/territories"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"region", "phase", "q", "page", "page_size"}
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = openapi["components"]["schemas"][ok.rsplit("/", 1)[1]]
    assert set(page["properties"]) == {"count", "page", "page_size", "next", "previous", "results"}
    shapes = paths[f"{API}/territories/{{code}}.geojson"]["get"]["responses"]["200"]["content"]
    assert set(shapes) == {"application/geo+json"}


def test_every_operation_documents_its_error_answers_in_the_error_format(openapi):
    error_ref = "#/components/schemas/ErrorOut"
    assert set(openapi["components"]["schemas"]["ErrorOut"]["properties"]) == {"error"}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"401"}
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                expected.add("400")
            if "{" in path:
                expected.add("404")
            for status in expected:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": error_ref}, (method, path, status)


EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.django_db
def test_the_docs_page_loads_nothing_from_another_host(client):
    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise fetch a badge from validator.swagger.io
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()
