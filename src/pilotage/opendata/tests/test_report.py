"""The import report: the JSON shape PRODUCT.md pins, and the French text an operator reads."""

import json

from pilotage.opendata.report import ImportReport


def test_json_has_exactly_the_pinned_shape_with_errors_in_row_order():
    report = ImportReport(rows=5, created=1, updated=2, unchanged=0)
    report.add_error(4, "date_contrat", "La date « 31/02/2019 » n'existe pas.")
    report.add_error(2, "id_ti", "L'identifiant « x » n'est pas de la forme ti-RRNN (ex. ti-4405).")
    data = json.loads(report.to_json())
    assert data == {
        "ok": False,
        "rows": 5,
        "created": 1,
        "updated": 2,
        "unchanged": 0,
        "errors": [
            {
                "row": 2,
                "column": "id_ti",
                "message": "L'identifiant « x » n'est pas de la forme ti-RRNN (ex. ti-4405).",
            },
            {"row": 4, "column": "date_contrat", "message": "La date « 31/02/2019 » n'existe pas."},
        ],
    }
    assert "«" in report.to_json()  # French text stays readable in the JSON


def test_text_names_each_bad_row_and_column_and_says_nothing_was_written():
    report = ImportReport(rows=3)
    report.add_error(4, "date_contrat", "La date « 31/02/2019 » n'existe pas.")
    report.add_error(0, "", "Le fichier est vide.")
    report.add_error(3, "", "Ligne en double.")
    assert report.to_text().splitlines() == [
        "Fichier : Le fichier est vide.",
        "Ligne 3 : Ligne en double.",
        "Ligne 4, colonne date_contrat : La date « 31/02/2019 » n'existe pas.",
        "Import refusé : 3 erreurs (3 lignes lues) ; rien n'a été enregistré.",
    ]


def test_text_of_a_successful_import_and_of_a_dry_run():
    report = ImportReport(rows=1, created=1)
    assert report.ok
    assert report.to_text() == "1 ligne lue ; créations : 1 ; mises à jour : 0 ; sans changement : 0."
    report.dry_run = True
    assert report.to_text().endswith("Simulation (--dry-run) : rien n'a été enregistré.")
    assert "dry_run" not in json.loads(report.to_json())
