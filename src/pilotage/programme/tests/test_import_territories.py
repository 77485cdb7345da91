"""`pilotage import_territories FILE [--dry-run] [--report json]`, on the real referential of five Grand Est
departments (the `geo_slice` fixture) and ANCT-shaped files built in each test."""

import datetime
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilotage.core.history import history_of
from pilotage.core.models import ChangeLog
from pilotage.geo.models import Commune, Epci
from pilotage.opendata.tests.helpers import write_csv, write_ods, write_xlsx
from pilotage.programme import services
from pilotage.programme.models import ActionPlan, Contract, ProgrammePhase, Territory

METZ, FENSCH, THIONVILLE, RIVES = "200039865", "245701222", "245701362", "200039949"
OUTSIDE_SLICE = "200000172"  # CC Faucigny - Glières (Haute-Savoie): a real EPCI, absent from the loaded slice

pytestmark = pytest.mark.django_db

PER_EPCI = [
    ["id_ti", "lib_ti", "siren_groupement", "lib_groupement"],
    ["ti-4405", "Vallée de la Fensch", FENSCH, "CA du Val de Fensch"],
    ["ti-4405", "Vallée de la Fensch", THIONVILLE, "CA Portes de France-Thionville"],
    ["ti-4406", "Metz Métropole et Rives de Moselle", METZ, "Metz Métropole"],
    ["ti-4406", "Metz Métropole et Rives de Moselle", RIVES, "CC Rives de Moselle"],
]


def run(path, *args) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import_territories", str(path), *args, stdout=stdout, stderr=stderr)
    except SystemExit as exit_:
        return exit_.code, stdout.getvalue(), stderr.getvalue()
    return 0, stdout.getvalue(), stderr.getvalue()


def run_json(path, *args) -> tuple[int, dict]:
    code, stdout, _ = run(path, "--report", "json", *args)
    return code, json.loads(stdout)


def perimeter(code: str) -> set[str]:
    return set(Territory.objects.get(code=code).epcis.values_list("siren", flat=True))


def table_counts() -> dict[str, int]:
    """Rows of every table, many-to-many ones included."""
    return {model._meta.label: model.objects.count() for model in apps.get_models(include_auto_created=True)}


def test_per_epci_file_creates_territories_in_the_region_of_their_code_with_their_epci(geo_slice, tmp_path):
    code, stdout, _ = run(write_csv(tmp_path / "territoires.csv", PER_EPCI))

    assert code == 0
    assert "4 lignes lues ; créations : 2 ; mises à jour : 0 ; sans changement : 0." in stdout
    fensch = Territory.objects.get(code="ti-4405")
    assert (fensch.name, fensch.region.name) == ("Vallée de la Fensch", "Grand Est")
    assert perimeter("ti-4405") == {FENSCH, THIONVILLE}
    assert perimeter("ti-4406") == {METZ, RIVES}
    assert list(fensch.phases.values_list("code", flat=True)) == ["2018-2022"]  # no phase column: the first phase
    epcis = Epci.objects.filter(siren__in=[FENSCH, THIONVILLE])
    assert fensch.population == sum(epci.population for epci in epcis)
    assert fensch.communes_count == Commune.objects.filter(epci__in=epcis).count()
    assert "metz metropole" in Territory.objects.get(code="ti-4406").search_text
    entry = history_of(fensch).get()
    assert (entry.action, entry.source, entry.before) == ("create", "import", None)
    assert entry.after["epcis"] == sorted([FENSCH, THIONVILLE])
    assert entry.reason == "Import du fichier territoires.csv"


def test_per_commune_file_gives_the_epci_of_the_communes_and_a_commune_may_be_in_two_territories(geo_slice, tmp_path):
    fensch = list(Commune.objects.filter(epci_id=FENSCH).values_list("insee", flat=True)[:3])
    thionville = list(Commune.objects.filter(epci_id=THIONVILLE).values_list("insee", flat=True)[:2])
    metz_shared, *metz = Commune.objects.filter(epci_id=METZ).values_list("insee", flat=True)[:4]
    rows = [["INSEE_COM", "lib_com", "ID_TI", "LIB_TI"]]
    rows += [[insee, "", "ti-4405", "Vallée de la Fensch"] for insee in fensch + thionville]
    rows += [[metz_shared, "", "ti-4405 ; ti-4406", "Vallée de la Fensch ; Metz"]]
    rows += [[insee, "", "ti-4406", "Metz"] for insee in metz]

    code, report = run_json(write_csv(tmp_path / "communes.csv", rows, encoding="utf-8-sig", delimiter=","))

    assert code == 0, report
    assert (report["rows"], report["created"]) == (len(rows) - 1, 2)
    assert perimeter("ti-4405") == {FENSCH, THIONVILLE, METZ}
    assert perimeter("ti-4406") == {METZ}
    assert Territory.objects.get(code="ti-4406").name == "Metz"


@pytest.mark.parametrize("writer", [write_xlsx, write_ods], ids=["xlsx", "ods"])
def test_spreadsheet_date_cells_set_the_milestones_of_the_phase(geo_slice, tmp_path, writer):
    header = ["id_ti", "lib_ti", "phase", "siren_groupement", "date_gouvernance", "date_protocole", "date_contrat",
              "date_validation_plan", "date_prevue_validation_plan"]  # fmt: skip
    fensch = ["ti-4405", "Fensch", "2023-2027", None, datetime.date(2023, 3, 15), datetime.datetime(2023, 6, 1),
              datetime.date(2024, 1, 10), datetime.date(2024, 2, 20), None]  # fmt: skip
    metz = ["ti-4406", "Metz", "2023–2027", METZ, None, None, None, None, datetime.date(2025, 6, 30)]
    path = writer(tmp_path / f"territoires{'.xlsx' if writer is write_xlsx else '.ods'}", {
        "Territoires": [header, [*fensch[:3], FENSCH, *fensch[4:]], [*fensch[:3], THIONVILLE, *fensch[4:]], metz]
    })  # fmt: skip

    code, stdout, _ = run(path)

    assert code == 0, stdout
    phase = ProgrammePhase.objects.get(code="2023-2027")
    territory = Territory.objects.get(code="ti-4405")
    assert territory.governance_installed_on == datetime.date(2023, 3, 15)
    assert list(territory.phases.all()) == [phase]
    contracts = {c.kind: c.signed_on for c in Contract.objects.filter(territory=territory, phase=phase)}
    assert contracts == {"protocol": datetime.date(2023, 6, 1), "contract": datetime.date(2024, 1, 10)}
    plan = ActionPlan.objects.get(territory=territory, phase=phase)
    assert (plan.status, plan.decided_on) == ("validated", datetime.date(2024, 2, 20))
    metz_plan = ActionPlan.objects.get(territory__code="ti-4406", phase=phase)
    assert (metz_plan.status, metz_plan.expected_validation_on) == ("draft", datetime.date(2025, 6, 30))
    assert Territory.objects.get(code="ti-4406").governance_installed_on is None


def test_reimporting_the_same_file_changes_nothing(geo_slice, tmp_path):
    rows = [[*PER_EPCI[0], "date_gouvernance", "date_contrat", "date_validation_plan"]]
    rows += [[*row, "12/03/2019", "2019-11-05", "01/02/2020"] for row in PER_EPCI[1:]]
    path = write_csv(tmp_path / "territoires.csv", rows)
    assert run_json(path)[1]["created"] == 2
    counts, history = table_counts(), ChangeLog.objects.count()
    stamps = dict(Territory.objects.values_list("code", "updated_at"))

    code, report = run_json(path)

    assert code == 0
    assert report == {"ok": True, "rows": 4, "created": 0, "updated": 0, "unchanged": 2, "errors": []}
    assert ChangeLog.objects.count() == history
    assert table_counts() == counts
    assert dict(Territory.objects.values_list("code", "updated_at")) == stamps


def test_a_new_perimeter_replaces_the_old_one_and_is_an_update_with_its_history(geo_slice, tmp_path):
    run(write_csv(tmp_path / "v1.csv", PER_EPCI))
    rows = [PER_EPCI[0], PER_EPCI[1], ["ti-4405", "Vallée de la Fensch", RIVES, ""], *PER_EPCI[3:]]

    code, report = run_json(write_csv(tmp_path / "v2.csv", rows))

    assert (code, report["updated"], report["unchanged"]) == (0, 1, 1)
    assert perimeter("ti-4405") == {FENSCH, RIVES}
    territory = Territory.objects.get(code="ti-4405")
    assert territory.population == sum(
        Epci.objects.filter(siren__in=[FENSCH, RIVES]).values_list("population", flat=True)
    )
    update = history_of(territory).get(action="update")
    assert (update.before["epcis"], update.after["epcis"]) == (sorted([FENSCH, THIONVILLE]), sorted([FENSCH, RIVES]))


def test_an_empty_or_absent_date_never_erases_a_recorded_one(geo_slice, tmp_path):
    dated = [[*PER_EPCI[0], "date_gouvernance", "date_protocole"]]
    dated += [[*row, "12/03/2019", "2019-06-01"] for row in PER_EPCI[1:]]
    run(write_csv(tmp_path / "dates.csv", dated))
    blank = [[*PER_EPCI[0], "date_gouvernance", "date_protocole"]] + [[*row, "", ""] for row in PER_EPCI[1:]]

    for path in (write_csv(tmp_path / "vides.csv", blank), write_csv(tmp_path / "sans.csv", PER_EPCI)):
        code, report = run_json(path)
        assert (code, report["unchanged"]) == (0, 2)
    territory = Territory.objects.get(code="ti-4405")
    assert territory.governance_installed_on == datetime.date(2019, 3, 12)
    assert territory.contracts.get().signed_on == datetime.date(2019, 6, 1)


def test_a_changed_date_updates_the_record_and_a_validation_moves_the_latest_plan(geo_slice, tmp_path):
    run(write_csv(tmp_path / "v1.csv", PER_EPCI))
    territory = Territory.objects.get(code="ti-4405")
    phase = ProgrammePhase.objects.get(code="2018-2022")
    ActionPlan.objects.create(territory=territory, phase=phase, version=1, status="returned", decided_on="2019-05-01")
    draft = ActionPlan.objects.create(territory=territory, phase=phase, version=2, status="submitted")
    rows = [[*PER_EPCI[0], "date_validation_plan"], *[[*row, "03/02/2020"] for row in PER_EPCI[1:3]]]

    code, report = run_json(write_csv(tmp_path / "v2.csv", rows))

    assert (code, report["updated"]) == (0, 1)
    draft.refresh_from_db()
    assert (draft.status, draft.decided_on) == ("validated", datetime.date(2020, 2, 3))
    assert ActionPlan.objects.get(version=1).status == "returned"
    entry = history_of(draft).get()
    assert (entry.action, entry.before["status"], entry.after["status"]) == ("transition", "submitted", "validated")


def test_a_file_with_bad_rows_writes_nothing_and_reports_each_row_and_column(geo_slice, tmp_path):
    run(write_csv(tmp_path / "v1.csv", PER_EPCI))
    before, history = table_counts(), ChangeLog.objects.count()
    rows = [
        ["id_ti", "lib_ti", "siren_groupement", "phase", "date_gouvernance"],
        ["ti-4405", "Fensch", FENSCH, "", "12/03/2019"],  # 2: fine, and changes the name
        ["ti-4405", "Fensch", THIONVILLE, "", "15/04/2019"],  # 3: conflicts with row 2
        ["ti-4405", "Fensch", OUTSIDE_SLICE, "", "12/03/2019"],  # 4: unknown EPCI, agreeing date
        ["ti-44O6", "Metz", METZ, "", ""],  # 5: letter O in the code
        ["ti-4406", "Metz", RIVES, "", "31/02/2019"],  # 6: no such date
        ["ti-9901", "Nulle part", METZ, "", ""],  # 7: no region 99
        ["ti-4407", " ", METZ, "", ""],  # 8: no name
        ["ti-4408", "Clé", "200039866", "", ""],  # 9: SIREN key wrong
        ["ti-4409", "Phase", FENSCH, "2030-2034", ""],  # 10: unknown phase
        ["ti-4405", "Fensch", FENSCH, "", "2019-04-16"],  # 11: conflicts with row 2 too
    ]

    code, stdout, _ = run(write_csv(tmp_path / "erreurs.csv", rows))

    assert code == 1
    assert table_counts() == before
    assert ChangeLog.objects.count() == history
    assert Territory.objects.get(code="ti-4405").name == "Vallée de la Fensch"
    lines = stdout.splitlines()
    assert lines[:-1] == [
        "Ligne 3, colonne date_gouvernance : Valeur en conflit pour le territoire ti-4405 : « 15/04/2019 » ici, "
        "« 12/03/2019 » ligne 2.",
        f"Ligne 4, colonne siren_groupement : L'EPCI de SIREN {OUTSIDE_SLICE} est inconnu du référentiel.",
        "Ligne 5, colonne id_ti : L'identifiant « ti-44O6 » n'est pas de la forme ti-RRNN (ex. ti-4405).",
        "Ligne 6, colonne date_gouvernance : La date « 31/02/2019 » n'existe pas.",
        "Ligne 7, colonne id_ti : L'identifiant « ti-9901 » désigne une région inconnue (code INSEE 99).",
        "Ligne 8, colonne lib_ti : Le nom du territoire (lib_ti) est vide.",
        "Ligne 9, colonne siren_groupement : Le SIREN « 200039866 » est invalide (clé de contrôle erronée).",
        "Ligne 10, colonne phase : La phase « 2030-2034 » est inconnue (phases : 2018-2022, 2023-2027).",
        "Ligne 11, colonne date_gouvernance : Valeur en conflit pour le territoire ti-4405 : « 16/04/2019 » ici, "
        "« 12/03/2019 » ligne 2.",
    ]
    assert lines[-1] == "Import refusé : 9 erreurs (10 lignes lues) ; rien n'a été enregistré."


def test_per_commune_file_errors(geo_slice, tmp_path):
    metz = Commune.objects.filter(epci_id=METZ).values_list("insee", flat=True).first()
    assert not Commune.objects.filter(insee="57999").exists()
    rows = [
        ["insee_com", "id_ti", "lib_ti"],
        ["57999", "ti-4405", "Fensch"],
        ["5746", "ti-4405", "Fensch"],
        [metz, "ti-4405;ti-4406", "Fensch;Metz;Autre"],
        [metz, "", "Metz"],
    ]
    code, report = run_json(write_csv(tmp_path / "communes.csv", rows))
    assert code == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (2, "insee_com"),
        (3, "insee_com"),
        (4, "lib_ti"),
        (5, "id_ti"),
    ]
    assert report["errors"][0]["message"] == "La commune 57999 est inconnue du référentiel."
    assert report["errors"][2]["message"].startswith("3 valeurs pour 2 territoires")
    assert not Territory.objects.exists()


def test_dry_run_counts_what_would_change_and_writes_nothing(geo_slice, tmp_path):
    run(write_csv(tmp_path / "v1.csv", PER_EPCI[:3]))
    before = table_counts()
    path = write_csv(tmp_path / "v2.csv", [*PER_EPCI, ["ti-4405", "Vallée de la Fensch", RIVES, ""]])

    code, stdout, _ = run(path, "--dry-run")

    assert code == 0
    assert "créations : 1 ; mises à jour : 1 ; sans changement : 0." in stdout
    assert "Simulation (--dry-run) : rien n'a été enregistré." in stdout
    assert table_counts() == before
    assert perimeter("ti-4405") == {FENSCH, THIONVILLE}
    assert run_json(path)[1]["created"] == 1  # the real run does what the dry run announced


def test_json_report_is_the_only_output_and_has_the_pinned_shape(geo_slice, tmp_path):
    rows = [PER_EPCI[0], PER_EPCI[1], ["ti-4405", "Vallée de la Fensch", "123", ""]]
    for path, ok in ((write_csv(tmp_path / "ok.csv", PER_EPCI), True), (write_csv(tmp_path / "ko.csv", rows), False)):
        code, stdout, _ = run(path, "--report", "json")
        report = json.loads(stdout)
        assert code == (0 if ok else 1)
        assert list(report) == ["ok", "rows", "created", "updated", "unchanged", "errors"]
        assert report["ok"] is ok
        assert all(isinstance(report[key], int) for key in ("rows", "created", "updated", "unchanged"))
        for error in report["errors"]:
            assert list(error) == ["row", "column", "message"]
    assert report["errors"] == [
        {"row": 3, "column": "siren_groupement", "message": "Le SIREN « 123 » doit comporter 9 chiffres."}
    ]


def test_missing_columns_and_unreadable_files_are_reported_like_rows(geo_slice, tmp_path):
    code, report = run_json(write_csv(tmp_path / "t.csv", [["id_ti", "nom"], ["ti-4405", "x"]]))
    assert code == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(1, "lib_ti")]
    code, report = run_json(write_csv(tmp_path / "t.csv", [["id_ti", "lib_ti"], ["ti-4405", "x"]]))
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(1, "siren_groupement / insee_com")]
    (tmp_path / "t.xlsx").write_bytes(b"pas un classeur" * 100)
    code, report = run_json(tmp_path / "t.xlsx")
    assert code == 1
    assert report["errors"][0]["row"] == 0
    assert "illisible" in report["errors"][0]["message"]


def test_without_the_referential_the_import_says_to_load_it(db, tmp_path):
    code, report = run_json(write_csv(tmp_path / "t.csv", PER_EPCI))
    assert code == 1
    assert "pilotage load_referential" in report["errors"][0]["message"]


def test_checking_a_file_costs_the_same_queries_whatever_its_length(geo_slice, tmp_path):
    sirens = list(Epci.objects.order_by("siren").values_list("siren", flat=True)[:12])
    small = [["id_ti", "lib_ti", "siren_groupement"], ["ti-4401", "A", sirens[0]]]
    large = [small[0], *[[f"ti-44{n:02}", f"T{n}", siren] for n, siren in enumerate(sirens, start=1)]]
    counts = []
    for name, rows in (("small.csv", small), ("large.csv", large)):
        with CaptureQueriesContext(connection) as queries:
            assert run(write_csv(tmp_path / name, rows), "--dry-run")[0] == 0
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_progress_goes_to_stderr_for_long_files(geo_slice, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "LONG_FILE_ROWS", 3)
    code, stdout, stderr = run(write_csv(tmp_path / "t.csv", PER_EPCI), "--report", "json")
    assert code == 0
    assert "4 lignes lues" in stderr
    assert json.loads(stdout)["created"] == 2
