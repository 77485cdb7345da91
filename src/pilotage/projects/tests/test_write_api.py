"""The write API of projects: POST/PATCH with a token, status transitions, funding lines, indicator values, the
pinned error format, and no lost edit (If-Match / version → 409 showing what changed, nothing written)."""

from decimal import Decimal

import pytest

from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tokens import create_token
from pilotage.core.history import history_of
from pilotage.projects.models import FundingLine, Project

from .builders import build_sample

API = "/api/v1/projects"


@pytest.fixture
def sample(db):
    return build_sample()


def bearer(email: str, role: str, scope: str | None) -> dict:
    user = create_or_update_user(email, role, scope)[0]
    return {"Authorization": f"Bearer {create_token(user)}"}


@pytest.fixture
def team(sample) -> dict:
    return bearer("equipe@nord-lorraine.fr", "territory_team", "ti-4401")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def fields_of(error: dict) -> dict[str, str]:
    return {d["field"]: d["message"] for d in error["details"]}


def patch(client, id_projet: str, body: dict, headers: dict, **extra):
    return client.patch(f"{API}/{id_projet}", body, content_type="application/json", headers={**headers, **extra})


def post(client, path: str, body: dict, headers: dict):
    return client.post(f"{API}{path}", body, content_type="application/json", headers=headers)


# --- create -----------------------------------------------------------------------------------------------------------


def test_a_team_creates_a_project_with_its_token(client, sample, team):
    body = {
        "territory": "ti-4401",
        "title": "Atelier de fabrication additive",
        "themes": ["innover"],
        "owner": {"name": "Fonderie de l'Est", "siren": "732829320"},
        "reported_on": "2024-05-02",
        "total_cost": 150000.5,
        "public": False,
        "reason": "Fiche remontée par le comité de pilotage",
    }
    response = post(client, "", body, team)

    assert response.status_code == 201, response.content
    created = response.json()
    assert response["Location"] == f"{API}/{created['id_projet']}"
    assert created["id_projet"] == "PRJ-ti-4401-0003"
    assert (created["title"], created["themes"], created["total_cost"], created["status"]) == (
        "Atelier de fabrication additive",
        ["innover"],
        150000.5,
        "idea",
    )
    assert created["owner"] == {"name": "Fonderie de l'Est", "siren": "732829320"}
    # The answer's ETag is the one a GET gives, and the new private project is readable with the token only.
    assert client.get(response["Location"], headers=team)["ETag"] == response["ETag"]
    assert client.get(response["Location"]).status_code == 404
    entry = history_of(Project.objects.get(id_projet=created["id_projet"])).get()
    assert (entry.source, entry.user.email, entry.reason) == (
        "api",
        "equipe@nord-lorraine.fr",
        "Fiche remontée par le comité de pilotage",
    )


def test_writes_without_a_token_or_with_a_bad_one_answer_401(client, sample, django_user_model):
    body = {"territory": "ti-4401", "title": "Sans jeton"}
    assert error_of(post(client, "", body, {}), 401)["code"] == "unauthorized"
    assert error_of(post(client, "", body, {"Authorization": "Bearer pil_faux"}), 401)["code"] == "unauthorized"
    # A browser session is not a token.
    user = create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0]
    client.force_login(user)
    assert error_of(patch(client, sample.parc.id_projet, {"title": "Session"}, {}), 401)
    assert not Project.objects.filter(title__in=["Sans jeton", "Session"]).exists()


def test_invalid_input_answers_422_naming_each_field_in_french(client, sample, team):
    response = post(
        client,
        "",
        {"territory": "ti-4401", "title": "X", "themes": ["inconnu"], "start_on": "2024-02-01", "end_on": "2024-01-01"},
        team,
    )
    messages = fields_of(error_of(response, 422))
    assert set(messages) == {"themes", "end_on"}
    assert "inconnu" in messages["themes"] and "antérieure" in messages["end_on"]

    schema_error = error_of(post(client, "", {"territory": "ti-4401", "title": "X", "total_cost": -1}, team), 422)
    assert fields_of(schema_error) == {"total_cost": "Doit être supérieur ou égal à 0."}
    typo = error_of(post(client, "", {"territory": "ti-4401", "title": "X", "titel": "Y"}, team), 422)
    assert fields_of(typo) == {"titel": "Champ inconnu."}
    assert Project.objects.count() == 4


# --- update, status ---------------------------------------------------------------------------------------------------


def test_patch_changes_the_given_fields_with_the_current_etag(client, sample, team):
    url = f"{API}/{sample.parc.id_projet}"
    etag = client.get(url, headers=team)["ETag"]

    response = patch(client, sample.parc.id_projet, {"description": "Nouvelle description", "commune": None}, team,
                     **{"If-Match": etag})  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["description"], body["commune"], body["title"], body["version"]) == (
        "Nouvelle description",
        None,
        "Parc'Innov : écologie industrielle territoriale",
        2,
    )
    assert response["ETag"] != etag and response["ETag"] == client.get(url)["ETag"]


def test_two_clients_patching_with_the_same_etag_the_second_gets_409_and_nothing_is_lost(client, sample, team):
    other = bearer("cheffe@nord-lorraine.fr", "territory_team", "ti-4401")
    etag = client.get(f"{API}/{sample.parc.id_projet}", headers=team)["ETag"]

    first = patch(client, sample.parc.id_projet, {"title": "Titre de Claire"}, team, **{"If-Match": etag})
    second = patch(client, sample.parc.id_projet, {"title": "Titre de Marc"}, other, **{"If-Match": etag})

    assert first.status_code == 200
    error = error_of(second, 409)
    assert error["code"] == "conflict"
    details = error["details"]
    assert details["changed"]["title"] == {
        "read": "Parc'Innov : écologie industrielle territoriale",
        "current": "Titre de Claire",
    }
    assert details["current"]["title"] == "Titre de Claire"
    [change] = details["changes"]
    assert (change["by"], change["fields"]["title"]["after"]) == ("equipe@nord-lorraine.fr", "Titre de Claire")
    assert second["ETag"] == first["ETag"]  # the version to read again before retrying
    parc = Project.objects.get(pk=sample.parc.pk)
    assert (parc.title, parc.version) == ("Titre de Claire", 2)
    [entry] = history_of(parc)  # the rejected attempt wrote nothing
    assert (entry.before["title"], entry.after["title"]) == (
        "Parc'Innov : écologie industrielle territoriale",
        "Titre de Claire",
    )


def test_a_stale_version_in_the_body_is_a_conflict_too(client, sample, team):
    assert patch(client, sample.parc.id_projet, {"title": "A", "version": 1}, team).status_code == 200
    error = error_of(patch(client, sample.parc.id_projet, {"description": "B", "version": 1}, team), 409)
    assert (error["details"]["expected_version"], error["details"]["current_version"]) == (1, 2)
    assert Project.objects.get(pk=sample.parc.pk).description.startswith("Un parc")


def test_an_unknown_etag_is_a_conflict(client, sample, team):
    error = error_of(patch(client, sample.parc.id_projet, {"title": "Z"}, team, **{"If-Match": '"autre"'}), 409)
    assert error["details"]["current"]["title"] == sample.parc.title
    assert Project.objects.get(pk=sample.parc.pk).title == sample.parc.title


def test_a_cost_change_needs_a_reason_and_status_has_its_own_endpoint(client, sample, team):
    no_reason = error_of(patch(client, sample.parc.id_projet, {"total_cost": 1300000}, team), 422)
    assert "reason" in fields_of(no_reason)
    status = error_of(patch(client, sample.parc.id_projet, {"status": "completed"}, team), 422)
    assert "/status" in fields_of(status)["status"]
    ok = patch(client, sample.parc.id_projet, {"total_cost": 1300000, "reason": "Devis actualisé"}, team)
    assert ok.json()["total_cost"] == 1300000
    assert history_of(sample.parc).get().reason == "Devis actualisé"


def test_status_transitions_through_the_api(client, sample, team):
    url = f"/{sample.secret.id_projet}/status"
    done = post(client, url, {"status": "in_progress", "reason": "Financement bouclé"}, team)
    assert done.status_code == 200 and done.json()["status"] == "in_progress"
    backwards = error_of(post(client, url, {"status": "idea", "reason": "Retour"}, team), 422)
    assert "non permis" in fields_of(backwards)["status"]
    no_reason = error_of(post(client, url, {"status": "abandoned", "reason": " "}, team), 422)
    assert "reason" in fields_of(no_reason)
    abandoned = post(client, url, {"status": "abandoned", "reason": "Porteur en liquidation"}, team)
    assert abandoned.json()["status"] == "abandoned"
    assert list(sample.secret.status_changes.values_list("status", "reason")) == [
        ("in_progress", "Financement bouclé"),
        ("abandoned", "Porteur en liquidation"),
    ]


# --- funding lines, decisions, indicators -----------------------------------------------------------------------------


def test_funding_lines_through_the_api(client, sample, team):
    added = post(client, f"/{sample.parc.id_projet}/funding", {"funder": "Bpifrance", "requested": 50000}, team)
    assert added.status_code == 201, added.content
    line = added.json()
    assert (line["funder"], line["requested"], line["status"]) == ("Bpifrance", 50000, "requested")
    assert added["ETag"] == client.get(f"{API}/{sample.parc.id_projet}")["ETag"]
    url = f"{API}/{sample.parc.id_projet}/funding/{line['id']}"

    changed = client.patch(url, {"requested": 60000, "reason": "Assiette élargie"}, content_type="application/json",
                           headers=team)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["requested"] == 60000
    assert error_of(client.delete(url, headers=team), 422)
    assert client.delete(f"{url}?reason=Doublon", headers=team).status_code == 204
    assert not FundingLine.objects.filter(pk=line["id"]).exists()
    assert [e.action for e in history_of(FundingLine(pk=line["id"]))] == ["create", "update", "delete"]
    # A line of another project is not found under this one.
    other = FundingLine.objects.filter(project=sample.parc).first()
    assert error_of(client.delete(f"{API}/{sample.campus.id_projet}/funding/{other.pk}?reason=x", headers=team), 404)


def test_a_funder_records_its_decision(client, sample, team):
    line = FundingLine.objects.get(project=sample.parc, funder__name="Région Grand Est")
    region = bearer("aides@grandest.fr", "funder", "Région Grand Est")
    decision = {"granted": 120000, "decided_on": "2020-06-30", "status": "granted", "reason": "Commission permanente"}
    url = f"/{sample.parc.id_projet}/funding/{line.pk}/decision"

    assert error_of(post(client, url, decision, team), 403)["code"] == "forbidden"
    response = post(client, url, decision, region)

    assert response.status_code == 200, response.content
    assert (response.json()["granted"], response.json()["decided_on"]) == (120000, "2020-06-30")
    line.refresh_from_db()
    assert (line.granted, line.status) == (Decimal("120000.00"), "granted")


def test_indicator_values_through_the_api(client, sample, team):
    url = f"/{sample.parc.id_projet}/indicators"
    first = post(client, url, {"indicator": "emplois_crees", "on": "2022-12-31", "measured": 38}, team)
    again = post(client, url, {"indicator": "emplois_crees", "on": "2022-12-31", "target": 40}, team)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"indicator": "emplois_crees", "on": "2022-12-31", "target": 40, "measured": 38}
    unknown = error_of(post(client, url, {"indicator": "co2", "on": "2022-12-31", "measured": 1}, team), 422)
    assert "co2" in fields_of(unknown)["indicator"]
    jobs = next(
        i for i in client.get(f"{API}{url.rsplit('/', 1)[0]}").json()["indicators"] if i["code"] == "emplois_crees"
    )
    assert {"on": "2022-12-31", "target": 40, "measured": 38} in jobs["values"]


def test_the_openapi_document_declares_the_writes_and_their_token(client, db):
    document = client.get("/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    operations = {
        ("post", "/api/v1/projects"),
        ("patch", "/api/v1/projects/{id_projet}"),
        ("post", "/api/v1/projects/{id_projet}/status"),
        ("post", "/api/v1/projects/{id_projet}/funding"),
        ("patch", "/api/v1/projects/{id_projet}/funding/{line_id}"),
        ("delete", "/api/v1/projects/{id_projet}/funding/{line_id}"),
        ("post", "/api/v1/projects/{id_projet}/funding/{line_id}/decision"),
        ("post", "/api/v1/projects/{id_projet}/indicators"),
    }
    for method, path in operations:
        operation = document["paths"][path][method]
        assert operation["security"] == [{"BearerToken": []}]
        assert {"401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert "If-Match" in document["paths"]["/api/v1/projects/{id_projet}"]["patch"]["description"]
