"""The API fuzzed with Schemathesis against its own OpenAPI document, in a short version of `make fuzz`
(scripts/fuzz_api.py): the real server on loopback over a throwaway database (a SQLite file, or a new database on
the PostgreSQL server of DATABASE_URL), anonymously and with the tokens of three roles. No answer may be a server
error, every answer must match the document and every error the pinned format."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROLES = ["anonymous", "territory_team", "funder", "national"]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    summary = tmp_path_factory.mktemp("fuzz") / "summary.json"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "fuzz_api.py"),
            "--roles",
            ",".join(ROLES),
            "--max-examples",
            "6",
            "--phases",
            "examples,fuzzing,stateful",
            "--max-time",
            "240",
            "--json",
            str(summary),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert summary.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return run, json.loads(summary.read_text())


def test_every_role_fuzzed_without_any_failure(fuzzed):
    run, summary = fuzzed

    failures = {role: result["failures"] for role, result in summary["roles"].items() if result["failures"]}
    assert failures == {}, run.stdout[-5000:]
    assert summary["server_errors"] == []
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]


def test_each_role_played_its_share_of_generated_requests(fuzzed):
    _, summary = fuzzed

    assert set(summary["roles"]) == set(ROLES)
    assert all(result["cases"] >= 60 for result in summary["roles"].values()), summary["roles"]
    assert summary["total"] >= 300


# --- what the fuzzer found, kept as plain examples (both engines, no server) ------------------------------------------

API = "/api/v1"


@pytest.fixture
def sample(db):
    from pilotage.projects.tests.builders import build_sample

    return build_sample()


@pytest.fixture
def team(sample) -> dict:
    from pilotage.accounts.services import create_or_update_user
    from pilotage.accounts.tokens import create_token

    user = create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0]
    return {"Authorization": f"Bearer {create_token(user)}"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.fixture
def openapi(client, db) -> dict:
    return client.get(f"{API}/openapi.json").json()


@pytest.mark.parametrize("as_of", ["1e3", "-1.5e-166", "2024-02-30", "2024-1-1", "20240101", "2024-01-01T10:00"])
def test_stats_take_a_date_written_yyyy_mm_dd_only(client, db, as_of):
    error = error_of(client.get(f"{API}/stats", {"as_of": as_of}), 400)

    assert error["details"][0]["field"] == "as_of"
    assert client.get(f"{API}/stats", {"as_of": "2024-02-29"}).json()["as_of"] == "2024-02-29"


def test_an_unknown_territory_in_the_stats_is_a_documented_404(client, db, openapi):
    error_of(client.get(f"{API}/stats", {"territory": "ti-9999"}), 404)

    assert "404" in openapi["paths"][f"{API}/stats"]["get"]["responses"]


def test_a_project_as_of_a_moment_is_documented_and_bad_moments_answer_400(client, sample, openapi):
    url = f"{API}/projects/{sample.parc.id_projet}"
    answer = openapi["paths"][f"{API}/projects/{{id_projet}}"]["get"]["responses"]["200"]
    refs = {option["$ref"].rsplit("/", 1)[1] for option in answer["content"]["application/json"]["schema"]["anyOf"]}

    assert refs == {"ProjectDetailOut", "ProjectAsOfOut"}
    assert "version" in client.get(url).json()
    assert client.get(url, {"as_of": "0001-01-01T00:00"}).status_code == 404  # before anything existed: no overflow
    for bad in ("2023-02-29", "yesterday", "2024-01-01T24:00"):
        error_of(client.get(url, {"as_of": bad}), 400)


@pytest.mark.parametrize(
    ("field", "value"),
    [("public", "yes"), ("public", 1), ("total_cost", "12"), ("total_cost", 1e12), ("start_on", 0), ("version", "3")],
)
def test_a_write_takes_json_types_as_documented_not_lookalikes(client, sample, team, field, value):
    response = client.patch(
        f"{API}/projects/{sample.parc.id_projet}", {field: value}, content_type="application/json", headers=team
    )

    error = error_of(response, 422)
    assert [d["field"] for d in error["details"]] == [field]


def test_the_nul_character_is_refused_everywhere_in_the_pinned_format(client, sample, team, openapi):
    """PostgreSQL cannot store it: without this, a 500 there."""
    error = error_of(client.get(f"{API}/projects", {"q": "usine\x00"}), 400)
    assert error["details"][0]["field"] == "q"
    error_of(client.get(f"{API}/projects/PRJ%00"), 404)
    response = client.patch(
        f"{API}/projects/{sample.parc.id_projet}",
        {"title": "Parc\x00", "owner": {"name": "A\x00"}},
        content_type="application/json",
        headers=team,
    )
    error = error_of(response, 422)
    assert {d["field"] for d in error["details"]} == {"title", "owner.name"}
    assert client.get(f"{API}/projects/{sample.parc.id_projet}").json()["title"] == sample.parc.title
    title = openapi["components"]["schemas"]["ProjectPatchIn"]["properties"]["title"]
    assert {"type": "string", "maxLength": 300, "pattern": r"^[^\x00]*$"}.items() <= title["anyOf"][0].items()


def test_query_parameters_are_never_documented_as_null(openapi):
    for path, operations in openapi["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                assert {"type": "null"} not in schema.get("anyOf", []), (path, parameter["name"])


def test_every_operation_documents_401_and_429_in_the_pinned_format(openapi):
    for operations in openapi["paths"].values():
        for operation in operations.values():
            for status in ("401", "429"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def test_too_many_parameters_answer_400_in_the_pinned_format(client, db, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    error_of(client.get(f"{API}/territories?" + "&".join(f"q{i}=x" for i in range(20))), 400)


def test_a_funding_line_id_is_documented_within_the_database_integers(client, sample, team, openapi):
    path = openapi["paths"][f"{API}/projects/{{id_projet}}/funding/{{line_id}}"]["delete"]
    line_id = next(p for p in path["parameters"] if p["name"] == "line_id")["schema"]

    assert (line_id["minimum"], line_id["maximum"]) == (1, 2**63 - 1)
    error_of(client.delete(f"{API}/projects/{sample.parc.id_projet}/funding/{2**63}", headers=team), 400)
