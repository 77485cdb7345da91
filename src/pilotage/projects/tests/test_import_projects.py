"""`pilotage import_projects FILE [--dry-run] [--report json] [--financements FILE]`, on the real referential of five
Grand Est departments (the `geo_slice` fixture), with files shaped like those the Regions send."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.core.models import ChangeLog
from pilotage.opendata.tests.helpers import run_command, table_counts, write_csv, write_ods, write_xlsx
from pilotage.programme.models import Theme
from pilotage.projects import services
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatusChange
from pilotage.web.tests.factories import make_territory

pytestmark = pytest.mark.django_db

METZ_METROPOLE, FENSCH, EPINAL_AGGLO, STRASBOURG_EURO = "200039865", "245701222", "200068757", "246700488"
METZ, HAYANGE, EPINAL, STRASBOURG = "57463", "57306", "88160", "67482"
FONDERIE_SIREN = "732829320"  # a valid Luhn key; 732829321 is not
D = datetime.date

HEADER = ["ID projet", "ID TI", "Titre", "Description", "Thèmes", "Statut", "Porteur nom", "Porteur SIREN",
          "Commune INSEE", "Date remontée", "Date début", "Date fin", "Coût total", "Public"]  # fmt: skip
FUNDING_HEADER = ["id_projet", "financeur", "dispositif", "montant_demande", "montant_accorde", "date_decision"]

# What a Region's French spreadsheet exports as CSV (Windows-1252, `;`): labels, French amounts and dates, oui/non.
CSV_PROJECTS = [
    HEADER,
    ["P-4401-001", "ti-4401", "Parc'Innov : écologie industrielle", "Un parc d'activités ; bio-ressources",
     "Innover ; Attirer", "Engagé", "Fonderie de l'Est", FONDERIE_SIREN, METZ, "02/05/2019", "01/09/2019",
     "31/12/2021", "1\xa0200\xa0000,50 €", "oui"],
    ["P-4401-002", "ti-4401", "Campus des métiers", "", "recruter", "Idée", "Agglomération du Val de Fensch", "",
     HAYANGE, "15/01/2020", "", "", "85 000 €", "non"],
    ["P-4402-001", "ti-4402", "Foncier industriel d'Épinal", "Requalifier une friche", "Foncier", "Abandonné", "",
     "", EPINAL, "12/03/2024", "01/04/2024", "30/06/2026", "0", "OUI"],
]  # fmt: skip
CSV_FUNDING = [
    FUNDING_HEADER,
    ["P-4401-001", "Bpifrance", "Prêt d'amorçage", "300 000", "250 000,50", "15/02/2020"],
    ["P-4401-001", "Région Grand Est", "Fonds régional", "150 000", "", ""],
    ["P-4402-001", "Banque des Territoires", "", "40 000", "45 000", "01/06/2024"],  # more granted than asked: allowed
]
# The same projects as a workbook holds them: real date and number cells.
SHEET_PROJECTS = [
    [column.lower() for column in HEADER],
    ["P-4401-001", "ti-4401", "Parc'Innov : écologie industrielle", "Un parc d'activités ; bio-ressources",
     "innover;attirer", "in_progress", "Fonderie de l'Est", int(FONDERIE_SIREN), int(METZ), D(2019, 5, 2),
     D(2019, 9, 1), D(2021, 12, 31), 1200000.5, "oui"],
    ["P-4401-002", "ti-4401", "Campus des métiers", None, "Recruter", "idea", "Agglomération du Val de Fensch", None,
     int(HAYANGE), D(2020, 1, 15), None, None, 85000, "non"],
    ["P-4402-001", "ti-4402", "Foncier industriel d'Épinal", "Requalifier une friche", "foncier", "abandoned", None,
     None, int(EPINAL), D(2024, 3, 12), D(2024, 4, 1), D(2026, 6, 30), 0, "oui"],
]  # fmt: skip
SHEET_FUNDING = [
    FUNDING_HEADER,
    ["P-4401-001", "Bpifrance", "Prêt d'amorçage", 300000, 250000.5, D(2020, 2, 15)],
    ["P-4401-001", "Région Grand Est", "Fonds régional", 150000, None, None],
    ["P-4402-001", "Banque des Territoires", None, 40000, 45000, D(2024, 6, 1)],
]


@pytest.fixture
def territories(geo_slice):
    """Nord Lorraine (first phase), Épinal (second phase) and Strasbourg (both phases)."""
    return {
        "nord": make_territory("ti-4401", "Nord Lorraine", "44", [METZ_METROPOLE, FENSCH], ("2018-2022",)),
        "epinal": make_territory("ti-4402", "Épinal", "44", [EPINAL_AGGLO], ("2023-2027",)),
        "strasbourg": make_territory("ti-4403", "Strasbourg", "44", [STRASBOURG_EURO], ("2018-2022", "2023-2027")),
    }


def run(path, *args) -> tuple[int, str, str]:
    return run_command("import_projects", path, *args)


def run_json(path, *args) -> tuple[int, dict]:
    code, stdout, _ = run(path, "--report", "json", *args)
    return code, json.loads(stdout)


def import_csv(tmp_path, projects=CSV_PROJECTS, funding=CSV_FUNDING) -> tuple[int, dict]:
    path = write_csv(tmp_path / "projets.csv", projects)
    if funding is None:
        return run_json(path)
    return run_json(path, "--financements", write_csv(tmp_path / "financements.csv", funding))


def db_state() -> dict:
    """Everything an import writes, as plain values, to compare two imports."""
    projects = {}
    for p in Project.objects.select_related("territory", "phase", "owner").prefetch_related("themes"):
        projects[p.id_projet] = {
            "territory": p.territory.code,
            "phase": p.phase.code,
            "values": (p.title, p.description, p.status, p.commune_id, p.reported_on, p.start_on, p.end_on),
            "cost": p.total_cost,
            "public": p.public,
            "themes": sorted(t.code for t in p.themes.all()),
            "owner": (p.owner.name, p.owner.siren, p.owner.kind) if p.owner else None,
            "statuses": list(p.status_changes.values_list("status", flat=True)),
            "search_text": p.search_text,
        }
    funding = sorted(
        FundingLine.objects.values_list(
            "project__id_projet", "funder__name", "funder__kind", "instrument", "requested", "granted", "decided_on",
            "status",
        )
    )  # fmt: skip
    return {"projects": projects, "funding": funding}


def forget_imports() -> None:
    FundingLine.objects.all().delete()
    Project.objects.all().delete()
    Organisation.objects.all().delete()
    ChangeLog.objects.all().delete()


def test_csv_xlsx_and_ods_from_a_region_import_the_same_projects(territories, tmp_path):
    code, report = import_csv(tmp_path)
    assert (code, report["created"], report["rows"]) == (0, 3, 3), report
    from_csv = db_state()
    sheets = {"Notice": [["Projets 2024 de la Région"]], "Projets": SHEET_PROJECTS, "Financements": SHEET_FUNDING}
    for path in (write_xlsx(tmp_path / "region.xlsx", sheets), write_ods(tmp_path / "region.ods", sheets)):
        forget_imports()
        code, report = run_json(path)
        assert (code, report["created"]) == (0, 3), (path.name, report)
        assert db_state() == from_csv, path.name

    parc = from_csv["projects"]["P-4401-001"]
    assert parc["values"] == ("Parc'Innov : écologie industrielle", "Un parc d'activités ; bio-ressources",
                              "in_progress", METZ, D(2019, 5, 2), D(2019, 9, 1), D(2021, 12, 31))  # fmt: skip
    assert (parc["cost"], parc["public"], parc["phase"]) == (Decimal("1200000.50"), True, "2018-2022")
    assert parc["themes"] == ["attirer", "innover"]
    assert parc["owner"] == ("Fonderie de l'Est", FONDERIE_SIREN, "company")
    assert "fonderie de l'est" in parc["search_text"]
    campus = from_csv["projects"]["P-4401-002"]
    assert (campus["owner"], campus["public"], campus["cost"]) == (
        ("Agglomération du Val de Fensch", "", "other"),
        False,
        Decimal("85000.00"),
    )
    friche = from_csv["projects"]["P-4402-001"]
    assert (friche["phase"], friche["themes"], friche["statuses"], friche["owner"]) == (
        "2023-2027",
        ["foncier"],
        ["abandoned"],
        None,
    )
    assert Project.objects.get(id_projet="P-4402-001").abandon_reason == "Import du fichier region.ods"
    assert from_csv["funding"] == [
        ("P-4401-001", "Bpifrance", "funder", "Prêt d'amorçage", Decimal("300000.00"), Decimal("250000.50"),
         D(2020, 2, 15), "granted"),
        ("P-4401-001", "Région Grand Est", "funder", "Fonds régional", Decimal("150000.00"), None, None, "requested"),
        ("P-4402-001", "Banque des Territoires", "funder", "", Decimal("40000.00"), Decimal("45000.00"),
         D(2024, 6, 1), "granted"),
    ]  # fmt: skip


def test_every_created_record_has_its_history_and_first_status(territories, tmp_path):
    import_csv(tmp_path)
    parc = Project.objects.get(id_projet="P-4401-001")
    entry = history_of(parc).get()
    assert (entry.action, entry.source, entry.before, entry.user_label) == (
        "create",
        "import",
        None,
        "pilotage import_projects",
    )
    assert entry.reason == "Import du fichier projets.csv"
    assert (entry.after["title"], entry.after["total_cost"]) == (parc.title, "1200000.50")
    change = parc.status_changes.get()
    assert (change.status, change.by_label, change.reason) == (
        "in_progress",
        "pilotage import_projects",
        "Import du fichier projets.csv",
    )
    for line in FundingLine.objects.all():
        assert history_of(line).get().action == "create"
    assert history_of(Organisation.objects.get(siren=FONDERIE_SIREN)).get().after["kind"] == "company"


def test_reimporting_the_same_files_changes_nothing(territories, tmp_path):
    import_csv(tmp_path)
    counts, stamps = table_counts(), dict(Project.objects.values_list("id_projet", "updated_at"))

    code, report = import_csv(tmp_path)

    assert code == 0
    assert report == {"ok": True, "rows": 3, "created": 0, "updated": 0, "unchanged": 3, "errors": []}
    assert table_counts() == counts
    assert dict(Project.objects.values_list("id_projet", "updated_at")) == stamps


def test_changing_one_value_updates_that_project_only_with_its_history(territories, tmp_path):
    import_csv(tmp_path)
    statuses = ProjectStatusChange.objects.count()
    rows = [list(row) for row in CSV_PROJECTS]
    rows[2][2] = "Campus des métiers de l'industrie"

    code, report = import_csv(tmp_path, rows, CSV_FUNDING)

    assert (code, report["updated"], report["unchanged"]) == (0, 1, 2)
    campus = Project.objects.get(id_projet="P-4401-002")
    assert (campus.title, campus.version) == ("Campus des métiers de l'industrie", 2)
    assert "industrie" in campus.search_text
    update = history_of(campus).get(action="update")
    assert (update.before["title"], update.after["title"]) == ("Campus des métiers", campus.title)
    assert ProjectStatusChange.objects.count() == statuses
    assert history_of(Project.objects.get(id_projet="P-4401-001")).count() == 1


def test_a_status_change_is_a_transition_and_abandoning_needs_no_reason(territories, tmp_path):
    import_csv(tmp_path)
    rows = [list(row) for row in CSV_PROJECTS]
    rows[1][5] = "abandonné"

    code, report = import_csv(tmp_path, rows, CSV_FUNDING)

    assert (code, report["updated"]) == (0, 1)
    parc = Project.objects.get(id_projet="P-4401-001")
    assert (parc.status, parc.abandon_reason) == ("abandoned", "Import du fichier projets.csv")
    assert list(parc.status_changes.values_list("status", flat=True)) == ["in_progress", "abandoned"]
    transition = history_of(parc).get(action="transition")
    assert (transition.before["status"], transition.after["status"]) == ("in_progress", "abandoned")


def test_funding_lines_are_upserted_by_funder_and_instrument_and_never_deleted(territories, tmp_path):
    import_csv(tmp_path)
    funding = [FUNDING_HEADER, ["P-4401-001", "  bpifrance ", "Prêt d'amorçage", "300000", "280000", "15/02/2020"]]

    code, report = run_json(
        write_xlsx(tmp_path / "financements.xlsx", {"projets": CSV_PROJECTS, "financements": funding})
    )

    assert (code, report["updated"], report["unchanged"]) == (0, 1, 2), report
    lines = FundingLine.objects.filter(project__id_projet="P-4401-001")
    assert sorted(lines.values_list("funder__name", "granted")) == [
        ("Bpifrance", Decimal("280000.00")),
        ("Région Grand Est", None),  # absent from the file: kept
    ]
    assert Organisation.objects.filter(kind="funder").count() == 3
    update = history_of(lines.get(funder__name="Bpifrance")).get(action="update")
    assert (update.before["granted"], update.after["granted"]) == ("250000.50", "280000.00")


def test_owners_are_found_by_siren_or_by_exact_name_without_siren(territories, tmp_path):
    renamed = Organisation.objects.create(name="Fonderie de l'Est SAS", siren=FONDERIE_SIREN, kind="company")
    agglo = Organisation.objects.create(name="Agglomération du Val de Fensch", kind="local_authority")
    Organisation.objects.create(name="Agglomération du Val de Fensch", siren="200039865", kind="local_authority")

    import_csv(tmp_path, funding=None)

    assert Project.objects.get(id_projet="P-4401-001").owner == renamed  # the SIREN decides, the name is kept
    assert Project.objects.get(id_projet="P-4401-002").owner == agglo
    assert Organisation.objects.count() == 3


def test_a_file_with_a_dozen_defects_writes_nothing_and_names_each_row_and_column(territories, tmp_path):
    import_csv(tmp_path)
    before = table_counts()
    valid = ["P-NEW", "ti-4401", "Nouveau", "", "innover", "idée", "", "", METZ, "", "01/01/2020", "", "10", "oui"]

    def row(**changes):
        values = dict(zip(HEADER, valid, strict=True)) | changes
        return [values[column] for column in HEADER]

    projects = [
        HEADER,
        valid,  # 2
        row(**{"ID projet": "P-3", "ID TI": "ti-4499"}),  # 3: unknown territory
        row(**{"ID projet": "P-4", "Date début": "31/02/2020"}),  # 4: no such date
        row(**{"ID projet": "P-5", "Coût total": "-5 €"}),  # 5: negative cost
        row(**{"ID projet": "P-6", "Titre": "  "}),  # 6: no title
        row(**{"ID projet": "P-7", "Statut": "En cours"}),  # 7: unknown status
        row(**{"ID projet": "P-8", "Thèmes": "innover;décarboner"}),  # 8: unknown theme
        row(
            **{"ID projet": "P-9", "Thèmes": "Compétences"}
        ),  # 9: a theme of the second phase in a first-phase territory
        row(**{"ID projet": "P-10", "Porteur nom": "X", "Porteur SIREN": "732829321"}),  # 10: Luhn key
        row(**{"ID projet": "P-11", "Date fin": "31/12/2019"}),  # 11: ends before it starts
        row(**{"ID projet": "P-12", "Commune INSEE": STRASBOURG}),  # 12: outside the perimeter
        row(**{"ID projet": "P-13", "Commune INSEE": "57999"}),  # 13: no such commune
        row(**{"Titre": "Encore"}),  # 14: P-NEW again
        row(**{"ID projet": "P-15", "ID TI": "ti-4403", "Thèmes": "innover;innovation", "Commune INSEE": STRASBOURG}),
        row(**{"ID projet": "P-16", "ID TI": "ti-4403", "Thèmes": "", "Commune INSEE": STRASBOURG}),  # 16
        row(**{"ID projet": "P-17", "Public": "peut-être"}),  # 17: not a boolean
    ]
    funding = [
        FUNDING_HEADER,
        ["P-NOWHERE", "Bpifrance", "", "10", "", ""],  # 2: no such project
        ["P-4401-002", "Bpifrance", "", "-10", "", ""],  # 3: negative amount (project only in the database: fine)
        ["P-NEW", "Bpifrance", "Prêt", "10", "-1", "2020-13-01"],  # 4: negative granted amount, no such date
        ["P-NEW", "BPIFRANCE", "Prêt", "20", "", ""],  # 5: the same line as row 4
        ["P-NEW", "Ademe", "", "10", "20", ""],  # 6: more granted than requested: fine
    ]
    path = write_xlsx(tmp_path / "erreurs.xlsx", {"projets": projects, "financements": funding})

    code, stdout, _ = run(path)

    assert code == 1
    assert table_counts() == before
    found = [line.split(" : ", 1)[0] for line in stdout.splitlines()[:-1]]
    assert found == [
        "Ligne 2, colonne id_projet",
        "Ligne 3, colonne id_ti",
        "Ligne 3, colonne montant_demande",
        "Ligne 4, colonne date_debut",
        "Ligne 4, colonne montant_accorde",
        "Ligne 4, colonne date_decision",
        "Ligne 5, colonne cout_total",
        "Ligne 5, colonne dispositif",
        "Ligne 6, colonne titre",
        "Ligne 7, colonne statut",
        "Ligne 8, colonne themes",
        "Ligne 9, colonne themes",
        "Ligne 10, colonne porteur_siren",
        "Ligne 11, colonne date_fin",
        "Ligne 12, colonne commune_insee",
        "Ligne 13, colonne commune_insee",
        "Ligne 14, colonne id_projet",
        "Ligne 15, colonne themes",
        "Ligne 16, colonne themes",
        "Ligne 17, colonne public",
    ]
    messages = dict(zip(found, (line.split(" : ", 1)[1] for line in stdout.splitlines()[:-1]), strict=True))
    assert messages["Ligne 2, colonne id_projet"] == (
        "Feuille financements : Le projet « P-NOWHERE » n'est ni dans le fichier ni sur la plateforme."
    )
    assert messages["Ligne 14, colonne id_projet"] == (
        "Le projet « P-NEW » figure déjà ligne 2 : une seule ligne par projet."
    )
    assert messages["Ligne 3, colonne id_ti"].startswith("Le territoire « ti-4499 » est inconnu")
    assert messages["Ligne 9, colonne themes"] == (
        "Le thème « Compétences » est de la phase 2023-2027, qui n'est pas une phase du territoire ti-4401 (2018-2022)."
    )
    assert messages["Ligne 12, colonne commune_insee"] == (
        "La commune 67482 (Strasbourg) n'est pas dans le périmètre du territoire ti-4401."
    )
    assert messages["Ligne 11, colonne date_fin"] == (
        "La date de fin (31/12/2019) est antérieure à la date de début (01/01/2020)."
    )
    assert "phases différentes" in messages["Ligne 15, colonne themes"]
    assert "plusieurs phases (2018-2022, 2023-2027)" in messages["Ligne 16, colonne themes"]
    assert stdout.splitlines()[-1] == "Import refusé : 20 erreurs (16 lignes lues) ; rien n'a été enregistré."


def test_themes_of_a_multi_phase_territory_choose_the_project_phase(territories, tmp_path):
    rows = [HEADER, ["P-1", "ti-4403", "Campus", "", "Innovation;foncier", "prêt", "", "", STRASBOURG, "", "", "",
                     "", ""]]  # fmt: skip
    code, report = import_csv(tmp_path, rows, None)
    assert code == 0, report
    project = Project.objects.get(id_projet="P-1")
    assert (project.phase.code, project.status, project.public) == ("2023-2027", "ready", True)


def test_dry_run_counts_what_would_change_and_writes_nothing(territories, tmp_path):
    import_csv(tmp_path, CSV_PROJECTS[:3], None)
    before = table_counts()
    rows = [list(row) for row in CSV_PROJECTS]
    rows[1][3] = "Nouvelle description"

    code, stdout, _ = run(write_csv(tmp_path / "v2.csv", rows), "--dry-run")

    assert code == 0
    assert "3 lignes lues ; créations : 1 ; mises à jour : 1 ; sans changement : 1." in stdout
    assert "Simulation (--dry-run) : rien n'a été enregistré." in stdout
    assert table_counts() == before
    assert Project.objects.get(id_projet="P-4401-001").description == "Un parc d'activités ; bio-ressources"


def test_json_report_is_the_only_output_and_has_the_pinned_shape(territories, tmp_path):
    bad = [list(row) for row in CSV_PROJECTS]
    bad[3][12] = "-1"
    for rows, ok in ((CSV_PROJECTS, True), (bad, False)):
        code, stdout, _ = run(write_csv(tmp_path / "p.csv", rows), "--report", "json", "--dry-run")
        report = json.loads(stdout)
        assert code == (0 if ok else 1)
        assert list(report) == ["ok", "rows", "created", "updated", "unchanged", "errors"]
        assert report["ok"] is ok
    assert report["errors"] == [
        {"row": 4, "column": "cout_total", "message": "Le coût total ne peut pas être négatif (« -1 »)."}
    ]


def test_missing_columns_sheets_and_unreadable_files_are_reported(territories, tmp_path):
    code, report = run_json(write_csv(tmp_path / "p.csv", [["id_projet", "titre"], ["P-1", "x"]]))
    assert code == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(1, "id_ti"), (1, "themes"), (1, "statut")]
    sheets = {"Notice": [["lisez-moi"]], "Données": CSV_PROJECTS}
    code, report = run_json(write_xlsx(tmp_path / "p.xlsx", sheets))
    assert report["errors"][0]["message"] == "Le classeur n'a pas de feuille « projets » (feuilles : Notice, Données)."
    code, report = run_json(write_xlsx(tmp_path / "p.xlsx", {"Feuil1": CSV_PROJECTS}))  # a single sheet: that one
    assert (code, report["created"]) == (0, 3), report
    code, report = run_json(tmp_path / "absent.xlsx")
    assert (code, report["errors"][0]["row"]) == (1, 0)
    assert "introuvable" in report["errors"][0]["message"]


def test_an_out_of_scope_project_is_a_row_error_for_a_territory_team(territories, tmp_path):
    import_csv(tmp_path, funding=None)
    team, *_ = create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")
    rows = [list(row) for row in CSV_PROJECTS]
    rows[1][2] = "Parc'Innov 2"  # ti-4401: theirs
    rows[3][2] = "Friche d'Épinal"  # ti-4402: not theirs
    rows.append(["P-4402-002", "ti-4402", "Nouveau", "", "foncier", "idée", "", "", EPINAL, "", "", "", "", ""])
    path = write_csv(tmp_path / "equipe.csv", rows)
    counts = table_counts()

    report = services.import_projects(path, user=team)

    assert [(e.row, e.column) for e in report.sorted_errors()] == [(4, "id_projet"), (5, "id_ti")]
    assert report.sorted_errors()[0].message == "Le projet « P-4402-001 » est hors de votre périmètre."
    assert table_counts() == counts
    assert Project.objects.get(id_projet="P-4402-001").title == "Foncier industriel d'Épinal"
    report = services.import_projects(write_csv(tmp_path / "nord.csv", rows[:3]), user=team)
    assert (report.ok, report.updated, report.unchanged) == (True, 1, 1)
    assert history_of(Project.objects.get(id_projet="P-4401-001")).last().user_label == "equipe@nord-lorraine.fr"


def test_checking_a_file_costs_the_same_queries_whatever_its_length(territories, tmp_path):
    import_csv(tmp_path)
    extra = [[f"P-X-{n}", "ti-4401", f"Projet {n}", "", "innover", "idée", f"Entreprise {n}", "", METZ, "", "", "",
              "", ""] for n in range(30)]  # fmt: skip
    funding = [*CSV_FUNDING, *[[f"P-X-{n}", "Ademe", "", "10", "", ""] for n in range(30)]]
    counts = []
    for name, rows, lines in (("small", CSV_PROJECTS, CSV_FUNDING[:2]), ("large", CSV_PROJECTS + extra, funding)):
        path = write_xlsx(tmp_path / f"{name}.xlsx", {"projets": rows, "financements": lines})
        with CaptureQueriesContext(connection) as queries:
            assert run(path, "--dry-run")[0] == 0
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_progress_goes_to_stderr_for_long_files(territories, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "LONG_FILE_ROWS", 2)
    code, stdout, stderr = run(write_csv(tmp_path / "p.csv", CSV_PROJECTS), "--report", "json")
    assert code == 0
    assert "3 lignes lues" in stderr
    assert json.loads(stdout)["created"] == 3


def test_save_project_records_history_and_status_like_an_import(territories):
    nord = territories["nord"]
    themes = Theme.objects.filter(phase__code="2018-2022", code__in=["innover", "attirer"])
    project = Project(id_projet="P-WEB-1", territory=nord, phase=themes[0].phase, title="Atelier", status="idea")

    assert services.save_project(project, theme_ids=[t.pk for t in themes], user_label="Claire", reason="création")
    assert services.save_project(project, user_label="Claire") is False  # nothing changed: nothing written
    project.total_cost = Decimal("85000")
    assert services.save_project(project, user_label="Claire", reason="budget")
    project = Project.objects.get(pk=project.pk)
    project.total_cost = Decimal("85000")  # as a form gives it: the same as the stored 85000.00
    assert services.save_project(project, user_label="Claire") is False

    project.status = "abandoned"
    with pytest.raises(ValidationError):
        services.save_project(project, user_label="Claire")
    project.abandon_reason = "Financement refusé"
    assert services.save_project(project, user_label="Claire", reason="arrêt")
    project.refresh_from_db()
    assert (project.version, sorted(project.themes.values_list("code", flat=True))) == (3, ["attirer", "innover"])
    assert list(project.status_changes.values_list("status", "reason")) == [
        ("idea", "création"),
        ("abandoned", "arrêt"),
    ]
    assert list(history_of(project).values_list("action", flat=True)) == ["create", "update", "transition"]


def test_save_project_refuses_what_is_outside_the_users_scope(territories):
    team, *_ = create_or_update_user("equipe@epinal.fr", "territory_team", "ti-4402")
    phase = territories["nord"].phases.get()
    project = Project(id_projet="P-WEB-2", territory=territories["nord"], phase=phase, title="Hors champ")
    with pytest.raises(PermissionDenied):
        services.save_project(project, user=team)
    services.save_project(project)  # the operator
    project.title = "Modifié"
    with pytest.raises(PermissionDenied):
        services.save_project(project, user=team)
    assert not Project.objects.filter(title="Modifié").exists()
