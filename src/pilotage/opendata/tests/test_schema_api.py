"""GET /api/v1/schema/{key}.json publishes Table Schemas that frictionless accepts."""

import frictionless
import pytest

from pilotage.opendata.schema import RESOURCES


def metadata_errors(descriptor: dict) -> list[str]:
    """What frictionless finds wrong with a Table Schema descriptor (empty when valid)."""
    report = frictionless.Schema.validate_descriptor(descriptor)
    return [error.message for error in report.errors]


def example_row_errors(schema: frictionless.Schema) -> list[str]:
    """Errors found when the documented example of each column is read as one data row."""
    rows = [schema.field_names, [field.example or "" for field in schema.fields]]
    report = frictionless.validate(frictionless.Resource(data=rows, schema=schema))
    return [error.message for task in report.tasks for error in task.errors]


@pytest.mark.parametrize("key", sorted(RESOURCES))
def test_schema_is_a_valid_table_schema(client, db, key):
    response = client.get(f"/api/v1/schema/{key}.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    descriptor = response.json()
    assert metadata_errors(descriptor) == []
    schema = frictionless.Schema.from_descriptor(descriptor)
    assert schema.field_names == RESOURCES[key].names
    assert descriptor["path"] == f"/api/v1/schema/{key}.json"
    assert descriptor["licenses"] and descriptor["title"] and descriptor["description"]
    assert example_row_errors(schema) == []


def test_the_validity_check_catches_a_broken_schema(client, db):
    descriptor = client.get("/api/v1/schema/projects.json").json()
    descriptor["fields"][0]["type"] = "texte"
    assert metadata_errors(descriptor)
    descriptor = client.get("/api/v1/schema/projects.json").json()
    schema = frictionless.Schema.from_descriptor(descriptor)
    schema.get_field("cout_total").example = "-5"
    assert example_row_errors(schema)


def test_projects_schema_matches_the_pinned_columns(client, db):
    names = [f["name"] for f in client.get("/api/v1/schema/projects.json").json()["fields"]]
    assert names == [
        "id_projet",
        "id_ti",
        "titre",
        "description",
        "themes",
        "statut",
        "porteur_nom",
        "porteur_siren",
        "commune_insee",
        "date_remontee",
        "date_debut",
        "date_fin",
        "cout_total",
        "public",
    ]


def test_unknown_schema_is_404_in_the_error_format(client, db):
    response = client.get("/api/v1/schema/budgets.json")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "projects.json" in error["message"]
