"""`pilotage export KIND --format csv|xlsx|json|geojson -o FILE`: the published Table Schema, formulas that never run,
and the export → import round trip that changes nothing."""

import csv
import datetime
import json
from decimal import Decimal

import frictionless
import pytest
from django.core.management import CommandError, call_command

from pilotage.opendata.schema import FUNDING, PROJECTS, TERRITORIES, table_schema
from pilotage.opendata.tests.helpers import run_command, table_counts
from pilotage.programme.models import ActionPlan, Contract, ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Organisation, Project
from pilotage.web.tests.factories import make_territory

pytestmark = pytest.mark.django_db

D = datetime.date
FORMULA_TITLE = '=HYPERLINK("http://x")'
FORMULA_DESCRIPTION = "+cmd|' /C calc'!A0\nsur deux lignes ; avec « guillemets » et des virgules, aussi"


@pytest.fixture
def programme(geo_slice):
    """Three territories with their milestones (one in both phases), and projects holding every kind of value a file
    must carry back."""
    first, second = ProgrammePhase.objects.order_by("starts_on")
    nord = make_territory("ti-4401", "=Nord Lorraine", "44", ["200039865", "245701222"], ("2018-2022",),
                          governance_installed_on=D(2019, 3, 15))  # fmt: skip
    epinal = make_territory("ti-4402", "Épinal", "44", ["200068757"], ("2023-2027",))
    Contract.objects.create(territory=nord, phase=first, kind="protocol", signed_on=D(2019, 6, 1))
    Contract.objects.create(territory=nord, phase=first, kind="contract", signed_on=D(2019, 11, 19))
    ActionPlan.objects.create(territory=nord, phase=first, status="validated", decided_on=D(2019, 9, 30))
    ActionPlan.objects.create(territory=epinal, phase=second, expected_validation_on=D(2025, 6, 30))
    strasbourg = make_territory("ti-4403", "Strasbourg", "44", ["246700488"], ("2018-2022", "2023-2027"))
    Contract.objects.create(territory=strasbourg, phase=first, kind="contract", signed_on=D(2020, 1, 10))
    Contract.objects.create(territory=strasbourg, phase=second, kind="contract", signed_on=D(2024, 2, 1))
    fonderie = Organisation.objects.create(name="@Fonderie de l'Est", siren="732829320", kind="company")
    parc = Project.objects.create(
        id_projet="PRJ-ti-4401-0001", territory=nord, phase=first, title=FORMULA_TITLE,
        description=FORMULA_DESCRIPTION, owner=fonderie, commune_id="57463", status="in_progress",
        reported_on=D(2019, 5, 2), start_on=D(2019, 9, 1), end_on=D(2021, 12, 31), total_cost=Decimal("1200000.50"),
    )  # fmt: skip
    parc.themes.set(Theme.objects.filter(phase=first, code__in=["innover", "attirer"]))
    bpi = Organisation.objects.create(name="Bpifrance", kind="funder")
    FundingLine.objects.create(project=parc, funder=bpi, instrument="-10 % sur le prêt", requested=Decimal("300000"),
                               granted=Decimal("250000.50"), decided_on=D(2020, 2, 15), status="granted")  # fmt: skip
    FundingLine.objects.create(project=parc, funder=fonderie, instrument="", requested=Decimal("0.10"))
    friche = Project.objects.create(
        id_projet="PRJ-ti-4402-0001", territory=epinal, phase=second, title="Friche", status="abandoned",
        abandon_reason="Terrain vendu", public=False,
    )  # fmt: skip
    friche.themes.set(Theme.objects.filter(phase=second, code="foncier"))
    agglo = Organisation.objects.create(name="-Agglomération d'Épinal", kind="local_authority")
    campus = Project.objects.create(
        id_projet="PRJ-ti-4402-0002", territory=epinal, phase=second, title="Campus", owner=agglo,
        commune_id="88160", status="idea", total_cost=Decimal("85000"),
    )  # fmt: skip
    campus.themes.set(Theme.objects.filter(phase=second, code__in=["competences", "innovation"]))
    return {"nord": nord, "parc": parc}


def export(kind: str, fmt: str, path):
    code, _, stderr = run_command("export", kind, "--format", fmt, "-o", path)
    assert code == 0, stderr
    return path


def reimport(command: str, path) -> dict:
    code, stdout, _ = run_command(command, path, "--report", "json")
    assert code == 0, stdout
    return json.loads(stdout)


def schema_errors(path, resource, sheet: str | None = None) -> list[str]:
    """What frictionless finds wrong in a file against the published Table Schema of `resource`."""
    schema = frictionless.Schema.from_descriptor(table_schema(resource))
    options = {}
    if sheet:
        options["dialect"] = frictionless.Dialect(controls=[frictionless.formats.ExcelControl(sheet=sheet)])
    resource = frictionless.Resource(path=path.name, basepath=str(path.parent), schema=schema, **options)
    report = frictionless.validate(resource)
    return [f"{error.type}: {error.message}" for task in report.tasks for error in task.errors]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("kind", "command"), [("projects", "import_projects"), ("territories", "import_territories")])
def test_an_export_reimports_unchanged(programme, tmp_path, fmt, kind, command):
    path = export(kind, fmt, tmp_path / f"{kind}.{fmt}")
    counts = table_counts()

    report = reimport(command, path)

    records = Project.objects.count() if kind == "projects" else Territory.objects.count()
    rows = records if kind == "projects" else Territory.epcis.through.objects.count()  # one row per (territory, EPCI)
    assert report == {"ok": True, "rows": rows, "created": 0, "updated": 0, "unchanged": records, "errors": []}
    assert table_counts() == counts


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_come_back_as_typed(programme, tmp_path):
    path = export("projects", "csv", tmp_path / "projets.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        rows = {row["id_projet"]: row for row in csv.DictReader(handle)}

    parc = rows["PRJ-ti-4401-0001"]
    assert (parc["titre"], parc["description"]) == ("'" + FORMULA_TITLE, "'" + FORMULA_DESCRIPTION)
    assert parc["porteur_nom"] == "'@Fonderie de l'Est"
    assert rows["PRJ-ti-4402-0002"]["porteur_nom"] == "'-Agglomération d'Épinal"
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows.values() for value in row.values())
    Project.objects.filter(pk=programme["parc"].pk).update(title="Autre titre")

    assert reimport("import_projects", path)["updated"] == 1
    assert Project.objects.get(pk=programme["parc"].pk).title == FORMULA_TITLE
    territories = export("territories", "csv", tmp_path / "territoires.csv").read_text(encoding="utf-8")
    assert ",'=Nord Lorraine," in territories


def test_xlsx_cells_are_text_never_formulas(programme, tmp_path):
    from openpyxl import load_workbook

    workbook = load_workbook(export("projects", "xlsx", tmp_path / "projets.xlsx"))

    assert workbook.sheetnames == ["projets", "financements"]
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    titles = {cell.value: cell.data_type for cell in workbook["projets"]["C"]}
    assert titles[FORMULA_TITLE] == "s"
    dates = [cell for cell in workbook["projets"]["J"][1:] if cell.value is not None]
    assert dates and all(cell.is_date for cell in dates)
    assert [c.value for c in workbook["financements"][2]] == ["PRJ-ti-4401-0001", "@Fonderie de l'Est", None, 0.1,
                                                              None, None]  # fmt: skip


def test_csv_and_xlsx_exports_follow_the_published_table_schema(programme, tmp_path):
    assert schema_errors(export("projects", "csv", tmp_path / "projets.csv"), PROJECTS) == []
    workbook = export("projects", "xlsx", tmp_path / "projets.xlsx")
    assert schema_errors(workbook, PROJECTS, sheet="projets") == []
    assert schema_errors(workbook, FUNDING, sheet="financements") == []
    assert schema_errors(export("territories", "csv", tmp_path / "territoires.csv"), TERRITORIES) == []
    assert schema_errors(export("territories", "xlsx", tmp_path / "territoires.xlsx"), TERRITORIES) == []


def test_the_schema_check_catches_a_file_that_breaks_it(programme, tmp_path):
    path = export("projects", "csv", tmp_path / "projets.csv")
    text = path.read_text(encoding="utf-8").replace(",in_progress,", ",en cours,").replace("2019-05-02", "02/05/2019")
    path.write_text(text, encoding="utf-8")
    assert sorted(error.split(":")[0] for error in schema_errors(path, PROJECTS)) == ["constraint-error", "type-error"]


def test_json_exports_parse_with_funding_nested_in_projects(programme, tmp_path):
    projects = json.loads(export("projects", "json", tmp_path / "projets.json").read_text(encoding="utf-8"))
    assert [p["id_projet"] for p in projects] == ["PRJ-ti-4401-0001", "PRJ-ti-4402-0001", "PRJ-ti-4402-0002"]
    parc = projects[0]
    assert list(parc) == [*PROJECTS.names, "financements"]
    assert (parc["titre"], parc["cout_total"], parc["date_debut"]) == (FORMULA_TITLE, 1200000.5, "2019-09-01")
    assert {line["financeur"]: line["montant_accorde"] for line in parc["financements"]} == {
        "Bpifrance": 250000.5,
        "@Fonderie de l'Est": None,
    }
    territories = json.loads(export("territories", "json", tmp_path / "t.json").read_text(encoding="utf-8"))
    assert sorted({(t["id_ti"], t["phase"], t["date_contrat"]) for t in territories}) == [
        ("ti-4401", "2018-2022", "2019-11-19"),
        ("ti-4402", "2023-2027", None),
        ("ti-4403", "2023-2027", "2024-02-01"),  # a territory in both phases: its latest one, as the import reads it
    ]


def test_geojson_export_of_territories_is_a_feature_collection_of_their_perimeters(programme, tmp_path):
    collection = json.loads(export("territories", "geojson", tmp_path / "t.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    features = {feature["properties"]["id_ti"]: feature for feature in collection["features"]}
    assert sorted(features) == sorted(Territory.objects.values_list("code", flat=True))
    nord = features["ti-4401"]
    assert nord["type"] == "Feature"
    assert nord["geometry"]["type"] == "MultiPolygon" and nord["geometry"]["coordinates"]
    assert nord["properties"]["epci"] == ["200039865", "245701222"]
    with pytest.raises(CommandError, match="geojson"):
        call_command("export", "projects", "--format", "geojson", "-o", str(tmp_path / "p.geojson"))
