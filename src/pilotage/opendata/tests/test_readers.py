"""Reading import files: formats, encodings, separators, headers, row numbers and every refusal in French."""

import datetime
import io
import os
import zipfile

import pytest

from pilotage.opendata.readers import Limits, MissingColumnsError, MissingSheetError, ReadError, read_table, sheet_names
from pilotage.opendata.tests.helpers import write_csv, write_ods, write_xlsx

COLUMNS = ["id_ti", "lib_ti", "date_contrat"]
ROWS = [
    ["id_ti", "lib_ti", "date_contrat"],
    ["ti-4401", "Vallée de la Fensch", "12/03/2019"],
    ["ti-4402", "Épinal", ""],
]


def values(table, *columns):
    return [(row.number, *(row.get(column) for column in columns)) for row in table.rows]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ";"), ("utf-8", ";"), ("utf-8", ","), ("cp1252", ";"), ("cp1252", ","), ("utf-16", "\t")],
)
def test_csv_in_every_common_encoding_and_separator(tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "territoires.csv", ROWS, encoding=encoding, delimiter=delimiter)
    table = read_table(path, COLUMNS)
    assert table.sheet is None
    assert values(table, "id_ti", "lib_ti", "date_contrat") == [
        (2, "ti-4401", "Vallée de la Fensch", "12/03/2019"),
        (3, "ti-4402", "Épinal", None),
    ]


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    path = write_csv(tmp_path / "t.csv", ROWS, encoding="utf-8-sig")
    assert read_table(path, COLUMNS, required=["id_ti"]).columns == ("id_ti", "lib_ti", "date_contrat")


def test_excel_separator_line_is_obeyed_and_not_counted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("sep=,\r\nid_ti,lib_ti\r\nti-4401,Nom ; avec point-virgule\r\n".encode("cp1252"))
    assert values(read_table(path, COLUMNS), "id_ti", "lib_ti") == [(2, "ti-4401", "Nom ; avec point-virgule")]


def test_headers_match_whatever_their_case_accents_and_spacing_and_extra_columns_are_ignored(tmp_path):
    rows = [["Commentaire", " ID_TI ", "Lib Ti", "Dâte-Contrat"], ["à voir", "ti-4401", " Fensch ", "2019-03-12"]]
    table = read_table(write_csv(tmp_path / "t.csv", rows), COLUMNS, required=COLUMNS)
    assert table.columns == ("id_ti", "lib_ti", "date_contrat")
    assert table.rows[0].as_dict() == {"id_ti": "ti-4401", "lib_ti": "Fensch", "date_contrat": "2019-03-12"}


def test_aliases_name_the_same_column(tmp_path):
    table = read_table(
        write_csv(tmp_path / "t.csv", [["Code INSEE"], ["57463"]]), ["insee_com"], aliases={"insee_com": ["code_insee"]}
    )
    assert values(table, "insee_com") == [(2, "57463")]


def test_row_numbers_are_those_a_spreadsheet_shows_and_empty_rows_are_skipped(tmp_path):
    rows = [ROWS[0], ROWS[1], [], ["", " ", ""], ["ti-4403", 'Nom "avec ; point-virgule"\net saut de ligne', ""]]
    table = read_table(write_csv(tmp_path / "t.csv", rows), COLUMNS)
    assert values(table, "id_ti", "lib_ti") == [
        (2, "ti-4401", "Vallée de la Fensch"),
        (5, "ti-4403", 'Nom "avec ; point-virgule"\net saut de ligne'),
    ]


def test_xlsx_keeps_date_cells_numbers_and_row_numbers_below_a_title(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        {
            "Territoires": [
                ["Liste des territoires"],
                [],
                ["id_ti", "date_contrat", "montant", "siren"],
                ["ti-4401", datetime.date(2019, 3, 12), 1200.5, 200039865],
                [None, None, None, None],
                ["ti-4402", datetime.datetime(2020, 1, 2, 10, 30), 3, None],
            ]
        },
    )
    table = read_table(path, ["id_ti", "date_contrat", "montant", "siren"])
    assert table.sheet == "Territoires"
    assert table.header_row == 3  # a title above the table does no harm
    assert values(table, "date_contrat", "montant", "siren") == [
        (4, datetime.date(2019, 3, 12), 1200.5, 200039865),
        (6, datetime.datetime(2020, 1, 2, 10, 30), 3, None),
    ]


def test_header_is_the_first_non_empty_row(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", {"Feuil1": [[], [], [None, "id_ti", "lib_ti"], [None, "ti-4401", "Fensch"]]})
    table = read_table(path, COLUMNS, required=["id_ti"])
    assert table.header_row == 3
    assert values(table, "id_ti", "lib_ti") == [(4, "ti-4401", "Fensch")]


def test_sheet_is_chosen_by_name_whatever_its_case_and_accents(tmp_path):
    sheets = {"Notice": [["lisez-moi"]], "PROJETS": [["id_ti"], ["ti-4401"]], "Financements": [["id_ti"], ["ti-4402"]]}
    for path in (write_xlsx(tmp_path / "t.xlsx", sheets), write_ods(tmp_path / "t.ods", sheets)):
        assert sheet_names(path) == ["Notice", "PROJETS", "Financements"]
        assert values(read_table(path, ["id_ti"], sheet="projets"), "id_ti") == [(2, "ti-4401")]
        assert values(read_table(path, ["id_ti"], sheet="Financéments"), "id_ti") == [(2, "ti-4402")]


def test_ods_cells_keep_their_types(tmp_path):
    path = write_ods(tmp_path / "t.ods", {"Feuille": [["id", "date"], [1, datetime.date(2020, 1, 2)], ["x", None]]})
    assert values(read_table(path, ["id", "date"]), "id", "date") == [(2, 1, datetime.date(2020, 1, 2)), (3, "x", None)]


def test_first_visible_sheet_is_read_by_default(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Cachée"
    workbook.active.append(["id_ti"])
    workbook.active.sheet_state = "hidden"
    visible = workbook.create_sheet("Visible")
    visible.append(["id_ti"])
    visible.append(["ti-4401"])
    workbook.save(tmp_path / "t.xlsx")
    table = read_table(tmp_path / "t.xlsx", ["id_ti"])
    assert table.sheet == "Visible"
    assert values(table, "id_ti") == [(2, "ti-4401")]


def test_a_file_object_is_read_like_a_path(tmp_path):
    data = write_xlsx(tmp_path / "t.xlsx", {"A": [["id_ti"], ["ti-4401"]]}).read_bytes()
    assert values(read_table(io.BytesIO(data), ["id_ti"], filename="envoi.xlsx"), "id_ti") == [(2, "ti-4401")]
    csv_data = "id_ti;lib_ti\nti-4401;Été\n".encode("cp1252")
    assert values(read_table(io.BytesIO(csv_data), COLUMNS, filename="envoi.CSV"), "lib_ti") == [(2, "Été")]


def test_missing_sheet(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", {"Feuil1": [["id_ti"], ["ti-4401"]]})
    with pytest.raises(MissingSheetError, match="pas de feuille « projets » \\(feuilles : Feuil1\\)"):
        read_table(path, ["id_ti"], sheet="projets")


def test_missing_required_columns_are_reported_on_the_header_row(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["", "Nom"], ["", "x"], ["", "y"]])
    with pytest.raises(MissingColumnsError) as caught:
        read_table(path, COLUMNS, required=["id_ti", "lib_ti"])
    assert "Colonnes obligatoires absentes : id_ti, lib_ti" in caught.value.message
    assert [(e.row, e.column) for e in caught.value.as_errors()] == [(1, "id_ti"), (1, "lib_ti")]


def test_a_column_given_twice_is_refused(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["id_ti", "ID TI"], ["ti-4401", "ti-4402"]])
    with pytest.raises(ReadError, match="« id_ti » apparaît plusieurs fois") as caught:
        read_table(path, COLUMNS)
    assert (caught.value.row, caught.value.column) == (1, "id_ti")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vide.csv", b"", "Le fichier est vide."),
        ("blancs.csv", b" \r\n;;\r\n\r\n", "Le fichier est vide."),
        ("entete.csv", b"id_ti;lib_ti\r\n", "aucune ligne de données"),
        ("vide.xlsx", b"", "Le fichier est vide."),
        ("hasard.xlsx", os.urandom(4096), "illisible"),
        ("hasard.ods", b"PK\x03\x04" + os.urandom(4096), "illisible"),
        ("hasard.xls", os.urandom(4096), "illisible"),
        ("binaire.csv", b"id\x00;\x00lib\n\x00\x01", "n'est pas un texte CSV lisible"),
        ("notes.txt", b"id_ti\nti-4401\n", "Format de fichier non pris en charge \\(« .txt »\\)"),
        ("sans-extension", b"id_ti\nti-4401\n", "Format de fichier non pris en charge"),
    ],
)
def test_unusable_files_get_a_french_message_not_a_traceback(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError, match=message) as caught:
        read_table(path, COLUMNS)
    assert caught.value.row == 0 or name == "entete.csv"


def test_a_truncated_xlsx_is_unreadable(tmp_path):
    data = write_xlsx(tmp_path / "t.xlsx", {"A": [["id_ti"], ["ti-4401"]] * 50}).read_bytes()
    (tmp_path / "tronque.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError, match="illisible"):
        read_table(tmp_path / "tronque.xlsx", COLUMNS)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ReadError, match="introuvable"):
        read_table(tmp_path / "absent.csv", COLUMNS)
    (tmp_path / "dossier.csv").mkdir()
    with pytest.raises(ReadError, match="est un dossier"):
        read_table(tmp_path / "dossier.csv", COLUMNS)


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["id_ti"], *([["ti-4401"]] * 200)])
    with pytest.raises(ReadError, match="Le fichier fait 0.0 Mo : la limite est de 0.0 Mo"):
        read_table(path, COLUMNS, limits=Limits(max_bytes=1000))
    assert len(read_table(path, COLUMNS, limits=Limits(max_bytes=path.stat().st_size)).rows) == 200


def test_size_limit_comes_from_the_settings(tmp_path, settings):
    settings.PILOTAGE_IMPORT_MAX_BYTES = 10
    with pytest.raises(ReadError, match="la limite est de"):
        read_table(write_csv(tmp_path / "t.csv", ROWS), COLUMNS)


def test_absurdly_wide_rows_are_refused(tmp_path):
    wide = [["id_ti", *["x"] * 20], ["ti-4401"]]
    limits = Limits(max_columns=10)
    with pytest.raises(ReadError, match="Trop de colonnes \\(21, limite 10\\)"):
        read_table(write_csv(tmp_path / "t.csv", wide), COLUMNS, limits=limits)
    with pytest.raises(ReadError, match="Trop de colonnes \\(21, limite 10\\)"):
        read_table(write_xlsx(tmp_path / "t.xlsx", {"A": wide}), COLUMNS, limits=limits)
    late = [["id_ti", "lib_ti"], ["ti-4401"], ["ti-4402", *["x"] * 20]]
    with pytest.raises(ReadError) as caught:
        read_table(write_csv(tmp_path / "late.csv", late), COLUMNS, limits=limits)
    assert caught.value.row == 3


def test_too_many_rows_are_refused(tmp_path):
    rows = [["id_ti"], *([["ti-4401"]] * 30)]
    with pytest.raises(ReadError, match="limite est de 20 lignes"):
        read_table(write_csv(tmp_path / "t.csv", rows), COLUMNS, limits=Limits(max_rows=20))
    with pytest.raises(ReadError, match="limite est de 20 lignes"):
        read_table(write_xlsx(tmp_path / "t.xlsx", {"A": rows}), COLUMNS, limits=Limits(max_rows=20))


def test_a_workbook_inflating_past_the_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "bombe.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", " " * 5_000_000)
    assert path.stat().st_size < 100_000
    with pytest.raises(ReadError, match="Le classeur décompressé ferait 5 Mo : la limite est de 1 Mo"):
        read_table(path, COLUMNS, limits=Limits(max_uncompressed_bytes=1024 * 1024))


def test_a_csv_that_is_really_a_workbook_is_read_as_one(tmp_path):
    data = write_xlsx(tmp_path / "t.xlsx", {"A": [["id_ti"], ["ti-4401"]]}).read_bytes()
    (tmp_path / "export.csv").write_bytes(data)
    assert values(read_table(tmp_path / "export.csv", ["id_ti"]), "id_ti") == [(2, "ti-4401")]
