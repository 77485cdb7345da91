"""A corpus of hostile import files, built in a directory at test time (nothing big is committed).

Each `Case` is a file and the French message (a regular expression) every import path must answer with: the two
commands (`import_projects`, `import_territories`) and the web upload. Used by tests/test_hostile_imports.py and by
`scripts/fuzz_imports.py` (`make fuzz-imports`).
"""

from __future__ import annotations

import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from pilotage.opendata.tests.helpers import write_csv, write_ods, write_xlsx

# A header both imports accept as theirs (each ignores the other's columns), so that only the defect speaks.
HEADER = ["id_projet", "id_ti", "lib_ti", "titre", "themes", "statut", "siren_groupement"]
ROW = ["P-4401-900", "ti-4401", "Nord Lorraine", "Usine", "innover", "idea", "200039865"]
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str  # the file's name, which tells the defect
    message: str  # regular expression of the French message
    what: str  # the defect, for the report


def _workbook_bytes(path: Path) -> bytes:
    return write_xlsx(path, {"projets": [HEADER, ROW] * 40}).read_bytes()


def raw_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip written by hand: (name, deflated bytes, crc, declared inflated size) per part, sizes as given."""
    out = bytearray()
    central = bytearray()
    for name, packed, crc, size in entries:
        encoded = name.encode()
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(packed), size, len(encoded), 0, 0, 0, 0, 0,
            len(out),
        ) + encoded  # fmt: skip
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed), size, len(encoded), 0)
        out += encoded + packed
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _repeated_spaces(megabytes: int) -> bytes:
    """Deflated `megabytes` MB of spaces, built in milliseconds: after a full flush, each identical 1 MB block
    compresses to identical bytes, so one block's bytes are repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b" " * MEGABYTE
    compressor.compress(block)
    compressor.flush(zlib.Z_FULL_FLUSH)
    packed = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return packed * megabytes + compressor.flush()


def bomb_workbook(path: Path, megabytes: int, *, declared: int | None = None) -> Path:
    """A real workbook whose sheet XML is followed by `megabytes` MB of spaces (a zip bomb).

    `declared` (bytes) makes the archive lie about the sheet's inflated size."""
    valid = zipfile.ZipFile(_write_plain_workbook(path.with_suffix(".base.xlsx")))
    entries = []
    for info in valid.infolist():
        data = valid.read(info.filename)
        if info.filename == "xl/worksheets/sheet1.xml":
            head, tail = data[: data.rindex(b"</worksheet>")], b"</worksheet>"
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
            packed += _repeated_spaces(megabytes)[:-2]  # without the final empty block
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed += compressor.compress(tail) + compressor.flush()
            size = len(head) + megabytes * MEGABYTE + len(tail)
            entries.append((info.filename, packed, 0, declared if declared is not None else size))
        else:
            entries.append((info.filename, _deflate(data), zlib.crc32(data), len(data)))
    valid.close()
    path.with_suffix(".base.xlsx").unlink()
    return raw_zip(path, entries)


def _write_plain_workbook(path: Path) -> Path:
    return write_xlsx(path, {"projets": [HEADER, ROW]})


def far_cell_workbook(path: Path, cell: str) -> Path:
    """A small workbook with one more cell far from the table (calamine lays out the whole rectangle)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "projets"
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet[cell] = "x"
    workbook.save(path)
    return path


def repeated_ods(path: Path) -> Path:
    """An .ods whose one cell, repeated 16,384 columns wide, fills a row repeated a million times."""
    write_ods(path, {"projets": [HEADER, ROW]})
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    wide = (
        b'<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated='
        b'"16384" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>'
    )
    parts["content.xml"] = parts["content.xml"].replace(b"</table:table>", wide, 1)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(
                name, data, compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            )
    return path


def build(directory: Path) -> list[Case]:
    """Write the corpus into `directory`; the cases, in a fixed order (a seeded generator: same bytes every run)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20260)
    cases: list[Case] = []

    def add(name: str, data: bytes | None, message: str, what: str) -> None:
        if data is not None:
            (directory / name).write_bytes(data)
        cases.append(Case(name, message, what))

    workbook = _workbook_bytes(directory / "modele.xlsx")
    (directory / "modele.xlsx").unlink()
    add("tronque.xlsx", workbook[: len(workbook) // 2], "illisible", "classeur .xlsx coupé en son milieu")
    damaged = bytearray(workbook)
    for offset in range(len(damaged) // 3, len(damaged) // 3 + 400):
        damaged[offset] ^= 0x5A
    add("corrompu.xlsx", bytes(damaged), "illisible", "classeur .xlsx dont 400 octets sont altérés")
    ods = write_ods(directory / "modele.ods", {"projets": [HEADER, ROW] * 20}).read_bytes()
    (directory / "modele.ods").unlink()
    add("tronque.ods", ods[: len(ods) * 2 // 3], "illisible", "classeur .ods coupé aux deux tiers")
    with zipfile.ZipFile(directory / "corrompu.ods", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", b"<office:document-content><table:table")
    add("corrompu.ods", None, "illisible", ".ods dont le contenu n'est pas du XML")
    add(
        "hasard.xlsx", b"PK\x03\x04" + rng.randbytes(20_000), "illisible", "octets au hasard derrière une signature zip"
    )
    bomb_workbook(directory / "bombe.xlsx", 2047)
    add(
        "bombe.xlsx",
        None,
        r"Le classeur décompressé ferait 2047 Mo : la limite est de \d+ Mo",
        "zip bomb : 2 Go de XML",
    )
    bomb_workbook(directory / "bombe-compacte.xlsx", 400)
    add(
        "bombe-compacte.xlsx",
        None,
        r"anormalement compressé \(une partie de 400 Mo tient en \d+ ko\)",
        "zip bomb sous la limite de taille : 400 Mo compressés plus de 1000 fois",
    )
    bomb_workbook(directory / "bombe-menteuse.xlsx", 64, declared=2000)
    add("bombe-menteuse.xlsx", None, "illisible", "zip bomb qui déclare 2 ko pour 64 Mo de XML")
    far_cell_workbook(directory / "cellule-lointaine.xlsx", "XFD1048576")
    add(
        "cellule-lointaine.xlsx",
        None,
        r"Trop de colonnes \(16384, limite 500\)",
        "deux cellules, A1 et XFD1048576 (faisait avorter le processus)",
    )
    far_cell_workbook(directory / "trop-de-cellules.xlsx", "SF12000")
    add(
        "trop-de-cellules.xlsx",
        None,
        r"s'étend sur 12000 lignes et 500 colonnes, soit plus de 5000000 cellules",
        "une cellule en SF12000 : 6 millions de cellules à réserver",
    )
    repeated_ods(directory / "repetitions.ods")
    add(
        "repetitions.ods",
        None,
        r"Trop de colonnes \(16384, limite 500\)",
        ".ods : une cellule répétée sur 16 384 colonnes et un million de lignes",
    )
    with open(directory / "enorme.csv", "wb") as handle:  # sparse: 100 Mo announced, nothing on disk
        handle.truncate(100 * MEGABYTE)
    add("enorme.csv", None, r"Le fichier fait 100\.0 Mo : la limite est de \d+\.\d Mo", "fichier de 100 Mo")
    add(
        "binaire.csv",
        rng.randbytes(64 * 1024),
        "n'est pas un texte CSV lisible",
        "64 ko d'octets au hasard nommés .csv",
    )
    text_like = bytes(b for b in rng.randbytes(80_000) if b not in b"\x00\x81\x8d\x8f\x90\x9d")
    add(
        "binaire-sans-nul.csv",
        text_like,
        "n'est pas un texte CSV lisible",
        "octets au hasard décodables en Windows-1252 (sans octet nul)",
    )
    add(
        "un-million-de-colonnes.csv",
        (";".join(HEADER) + "\r\n" + ";" * 1_000_000 + "\r\n").encode(),
        r"Trop de colonnes \(1000001, limite 500\)",
        "une ligne d'un million de colonnes",
    )
    add(
        "cellule-geante.csv",
        (";".join(HEADER) + "\r\n" + '"' + "x" * 200_000 + '"' + "\r\n").encode(),
        "Une cellule dépasse 131072 caractères",
        "une cellule de 200 000 caractères",
    )
    utf8 = (";".join(HEADER) + "\r\n" + ";".join([*ROW[:3], "Scierie éco", *ROW[4:]]) + "\r\n").encode()
    cp1252 = ";".join(["P-4401-901", *ROW[1:3], "Fonderie à l'Est", *ROW[4:]]).encode("cp1252") + b"\r\n"
    add(
        "encodages-melanges.csv",
        utf8 + cp1252,
        "mélange deux encodages : la ligne 2 est en UTF-8, la ligne 3 en Windows-1252",
        "moitié UTF-8, moitié Windows-1252",
    )
    add(
        "utf16-sans-bom.csv",
        (";".join(HEADER) + "\r\n").encode("utf-16-le"),
        "n'est pas un texte CSV lisible",
        "UTF-16 sans BOM",
    )
    add("vide.csv", b"", "Le fichier est vide", "fichier de 0 octet")
    add("blanc.csv", b"\r\n ; ; \r\n\r\n", "Le fichier est vide", "lignes blanches seulement")
    add(
        "entete-seul.csv",
        (";".join(HEADER) + "\r\n").encode(),
        "aucune ligne de données sous l'en-tête",
        "CSV avec l'en-tête seul",
    )
    write_xlsx(directory / "feuille-vide.xlsx", {"projets": []})
    add("feuille-vide.xlsx", None, "La feuille « projets » du classeur est vide", "classeur dont la feuille est vide")
    write_xlsx(directory / "entete-seul.xlsx", {"projets": [HEADER]})
    add("entete-seul.xlsx", None, "aucune ligne de données sous l'en-tête", "classeur avec l'en-tête seul")
    write_ods(directory / "entete-seul.ods", {"projets": [HEADER]})
    add("entete-seul.ods", None, "aucune ligne de données sous l'en-tête", ".ods avec l'en-tête seul")
    write_csv(directory / "sans-colonnes.csv", [["a", "b"], ["1", "2"]], encoding="utf-8")
    add("sans-colonnes.csv", None, "Colonnes? obligatoires? absentes?", "aucune colonne attendue")
    return cases
