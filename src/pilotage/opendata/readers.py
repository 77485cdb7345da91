"""Reading an import file (.xlsx, .xls, .ods or .csv) into rows keyed by canonical column names.

What every import can rely on:
- column names are matched case-, accent- and punctuation-insensitively (`Date Contrat` is `date_contrat`); columns
  the caller did not ask for are ignored; a missing required column is an error on the header row;
- the header is the first row naming a requested column (a title may stand above it); each row keeps the number a
  spreadsheet shows (header = row 1 in a plain file, blank lines counted); fully empty rows are skipped;
- cells come trimmed, empty ones as None; spreadsheet dates as date/datetime, numbers as int (when integral) or float;
- CSV in UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252, separated by `;`, `,` or a tab (sniffed on the
  header line); a CSV text cell our export neutralised (`'=…`, `'+…`, `'-…`, `'@…`) comes back as the original text;
- memory stays bounded: files over `max_bytes`, zipped workbooks inflating past `max_uncompressed_bytes`, sheets wider
  than `max_columns` or longer than `max_rows` are refused. Defaults come from the settings `PILOTAGE_IMPORT_MAX_*`.
Every problem raises `ReadError` (or a subclass) with a French message, never a traceback.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from pilotage.core.text import fold

from .report import RowError

SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_EXTENSIONS = (".csv",)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_DELIMITERS = (";", ",", "\t")
MEGABYTE = 1024 * 1024
# How many non-empty rows may stand above the header (titles, notes) before the first one is taken as the header.
HEADER_SEARCH_ROWS = 10

Source = str | os.PathLike | IO[bytes]


class ReadError(Exception):
    """The file cannot be used as a whole. Row 0 is the file itself; `column` is empty when no column is at fault."""

    def __init__(self, message: str, *, row: int = 0, column: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column

    def as_errors(self) -> list[RowError]:
        return [RowError(self.row, self.column, self.message)]


class MissingSheetError(ReadError):
    """The named sheet is absent: a caller reading an optional sheet catches this one."""


class MissingColumnsError(ReadError):
    def __init__(self, columns: Sequence[str], found: Sequence[str], *, row: int = 1) -> None:
        self.columns = list(columns)
        message = _("Colonnes obligatoires absentes : %(missing)s (colonnes trouvées : %(found)s).") % {
            "missing": ", ".join(self.columns),
            "found": ", ".join(found) or "—",
        }
        super().__init__(message, row=row)

    def as_errors(self) -> list[RowError]:
        return [RowError(self.row, column, _("Colonne obligatoire absente.")) for column in self.columns]


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * MEGABYTE
    max_uncompressed_bytes: int = 500 * MEGABYTE
    max_columns: int = 500
    max_rows: int = 200_000

    @classmethod
    def from_settings(cls) -> Limits:
        max_bytes = getattr(settings, "PILOTAGE_IMPORT_MAX_BYTES", cls.max_bytes)
        return cls(
            max_bytes=max_bytes,
            max_uncompressed_bytes=getattr(settings, "PILOTAGE_IMPORT_MAX_UNCOMPRESSED_BYTES", 10 * max_bytes),
            max_columns=getattr(settings, "PILOTAGE_IMPORT_MAX_COLUMNS", cls.max_columns),
            max_rows=getattr(settings, "PILOTAGE_IMPORT_MAX_ROWS", cls.max_rows),
        )


def column_key(header: Any) -> str:
    """`Date Contrat`, `date-contrat` and `DATE_CONTRAT` are all `date_contrat`."""
    return re.sub(r"[^a-z0-9]+", "_", fold(str(header) if header is not None else "")).strip("_")


class Row:
    """One data row: its spreadsheet number and its cells, by canonical column name."""

    __slots__ = ("number", "_index", "_values")

    def __init__(self, number: int, index: Mapping[str, int], values: tuple) -> None:
        self.number = number
        self._index = index
        self._values = values

    def get(self, column: str, default: Any = None) -> Any:
        position = self._index.get(column)
        if position is None:
            return default
        value = self._values[position]
        return default if value is None else value

    def __getitem__(self, column: str) -> Any:
        return self.get(column)

    def as_dict(self) -> dict[str, Any]:
        return {column: self._values[position] for column, position in self._index.items()}

    def __repr__(self) -> str:
        return f"Row({self.number}, {self.as_dict()!r})"


@dataclass
class Table:
    columns: tuple[str, ...]  # the requested columns the file has, canonical names, in file order
    rows: list[Row]
    header_row: int
    sheet: str | None = None  # None for a CSV file

    def has(self, column: str) -> bool:
        return column in self.columns


def read_table(
    source: Source,
    columns: Iterable[str],
    *,
    required: Iterable[str] = (),
    aliases: Mapping[str, Iterable[str]] | None = None,
    sheet: str | None = None,
    filename: str | None = None,
    limits: Limits | None = None,
    allow_no_rows: bool = False,
) -> Table:
    """Read the columns `columns` (canonical names, plus `aliases` of them) of a file.

    `source` is a path or a binary file object (then `filename` gives the extension). `sheet` names the sheet of a
    workbook (case- and accent-insensitive); None reads the first visible sheet. A CSV file is its own single sheet.
    """
    limits = limits or Limits.from_settings()
    name = filename or _source_name(source)
    extension = Path(name).suffix.lower()
    if extension not in SPREADSHEET_EXTENSIONS + CSV_EXTENSIONS:
        raise ReadError(
            _("Format de fichier non pris en charge (« %(extension)s ») : utilisez un fichier .xlsx, .ods ou .csv.")
            % {"extension": extension or name}
        )
    _check_size(source, limits)
    magic = _peek(source, 8)
    if not magic:
        raise ReadError(_("Le fichier est vide."))
    if extension in SPREADSHEET_EXTENSIONS or magic.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        sheet_name, records = _read_workbook(source, sheet, extension, limits)
    else:
        sheet_name, records = None, _read_csv(source, limits)
    return _build_table(records, columns, required, aliases or {}, sheet_name, limits, allow_no_rows)


def sheet_names(source: Source, *, filename: str | None = None) -> list[str]:
    """The sheets of a workbook, in order; a CSV file has none."""
    name = filename or _source_name(source)
    _check_size(source, Limits.from_settings())  # a missing or oversized file is refused in French, as by read_table
    if Path(name).suffix.lower() in CSV_EXTENSIONS and not _peek(source, 4).startswith(_ZIP_MAGIC):
        return []
    if _peek(source, 4).startswith(_ZIP_MAGIC):
        _check_inflated_size(source, Limits.from_settings())
    return list(_open_workbook(source).sheet_names)


# --- file access --------------------------------------------------------------------------------------------------


def _source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "") or "")


def _size(source: Source) -> int:
    if isinstance(source, str | os.PathLike):
        try:
            if os.path.isdir(source):
                raise ReadError(_("« %(name)s » est un dossier, pas un fichier.") % {"name": os.fspath(source)})
            return os.path.getsize(source)
        except FileNotFoundError:
            raise ReadError(_("Le fichier « %(name)s » est introuvable.") % {"name": os.fspath(source)}) from None
        except OSError:
            raise ReadError(_("Le fichier « %(name)s » ne peut pas être lu.") % {"name": os.fspath(source)}) from None
    position = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(position)
    return size


def _check_size(source: Source, limits: Limits) -> None:
    size = _size(source)
    if size > limits.max_bytes:
        raise ReadError(
            _("Le fichier fait %(size).1f Mo : la limite est de %(limit).1f Mo.")
            % {"size": size / MEGABYTE, "limit": limits.max_bytes / MEGABYTE}
        )


def _peek(source: Source, count: int) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return handle.read(count)
    position = source.tell()
    data = source.read(count)
    source.seek(position)
    return data


def _read_bytes(source: Source, limits: Limits) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return handle.read(limits.max_bytes + 1)
    source.seek(0)
    return source.read(limits.max_bytes + 1)


# --- workbooks ----------------------------------------------------------------------------------------------------


def _open_workbook(source: Source):
    from python_calamine import CalamineWorkbook

    try:
        if isinstance(source, str | os.PathLike):
            return CalamineWorkbook.from_path(os.fspath(source))
        source.seek(0)
        return CalamineWorkbook.from_filelike(source)
    except Exception:  # calamine raises a different class per format and per defect: all mean the same to a user
        raise ReadError(
            _("Le fichier est illisible : ce n'est pas un classeur .xlsx, .xls ou .ods valide (fichier corrompu ?).")
        ) from None


def _check_inflated_size(source: Source, limits: Limits) -> None:
    """A zipped workbook is refused before calamine inflates it if its parts add up to too much (a zip bomb)."""
    try:
        if not isinstance(source, str | os.PathLike):
            source.seek(0)
        with zipfile.ZipFile(source) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ReadError(_("Le fichier est illisible : l'archive du classeur est corrompue.")) from None
    if inflated > limits.max_uncompressed_bytes:
        raise ReadError(
            _("Le classeur décompressé ferait %(size).0f Mo : la limite est de %(limit).0f Mo.")
            % {"size": inflated / MEGABYTE, "limit": limits.max_uncompressed_bytes / MEGABYTE}
        )


def _choose_sheet(workbook, wanted: str | None) -> str:
    names = list(workbook.sheet_names)
    if wanted is not None:
        for name in names:
            if column_key(name) == column_key(wanted):
                return name
        raise MissingSheetError(
            _("Le classeur n'a pas de feuille « %(sheet)s » (feuilles : %(names)s).")
            % {"sheet": wanted, "names": ", ".join(names) or "—"}
        )
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    visible = [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
    ]
    if not (visible or names):
        raise ReadError(_("Le classeur ne contient aucune feuille."))
    return (visible or names)[0]


def _read_workbook(
    source: Source, wanted: str | None, extension: str, limits: Limits
) -> tuple[str, Iterator[tuple[int, list]]]:
    if _peek(source, 4).startswith(_ZIP_MAGIC):
        _check_inflated_size(source, limits)
    workbook = _open_workbook(source)
    name = _choose_sheet(workbook, wanted)
    try:
        sheet = workbook.get_sheet_by_name(name)
    except Exception:
        raise ReadError(_("La feuille « %(sheet)s » est illisible.") % {"sheet": name}) from None
    end = sheet.end
    if end is not None:
        if end[1] + 1 > limits.max_columns:
            raise ReadError(_too_wide(end[1] + 1, limits))
        if end[0] + 1 > limits.max_rows + 1:
            raise ReadError(_too_long(limits))
    # calamine yields rows from the sheet's first row (A1), so the index is the number a spreadsheet shows.
    return name, ((number, row) for number, row in enumerate(sheet.iter_rows(), start=1))


def _too_wide(count: int, limits: Limits) -> str:
    return _("Trop de colonnes (%(count)s, limite %(limit)s) : supprimez les colonnes inutiles.") % {
        "count": count,
        "limit": limits.max_columns,
    }


def _too_long(limits: Limits) -> str:
    return _("Trop de lignes : la limite est de %(limit)s lignes de données.") % {"limit": limits.max_rows}


# --- CSV ----------------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ReadError(
        _("Le fichier n'est pas un texte CSV lisible : enregistrez-le au format CSV UTF-8 ou Windows-1252.")
    )


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _read_csv(source: Source, limits: Limits) -> Iterator[tuple[int, list]]:
    text = _decode(_read_bytes(source, limits))
    # Excel may write a first line `sep=;`: it uses it as the separator and does not show it as a row.
    if hint := re.match(r"sep=([;,\t|])\r?\n", text):
        text, delimiter = text[hint.end() :], hint.group(1)
    else:
        delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    from .schema import restore  # here: the schema module needs the models, this one must not at import time

    def records() -> Iterator[tuple[int, list]]:
        number = 0
        try:
            # A spreadsheet opening the file shows one row per record (a quoted line break stays in its cell).
            for number, record in enumerate(reader, start=1):  # noqa: B007 (number is read in the except clause)
                if len(record) > limits.max_columns:
                    raise ReadError(_too_wide(len(record), limits), row=number)
                # Our CSV export neutralises formulas with a leading apostrophe: read the text it stands for.
                yield number, [restore(cell) if cell[:1] == "'" else cell for cell in record]
        except csv.Error as error:
            raise ReadError(_("Ligne CSV illisible (%(error)s).") % {"error": error}, row=number + 1) from None

    return records()


# --- rows ---------------------------------------------------------------------------------------------------------


def clean_cell(value: Any) -> Any:
    """Trimmed text, None for an empty cell, int for an integral number, dates and booleans as they are."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime.datetime | datetime.date | bool | int | float):
        return value
    text = str(value).strip()  # times, durations: left to the column's parser to refuse
    return text or None


def _header_index(
    header: list, number: int, columns: Iterable[str], aliases: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    """Canonical column → position in the file, for the requested columns present."""
    wanted: dict[str, str] = {}
    for column in columns:
        wanted[column_key(column)] = column
        for alias in aliases.get(column, ()):
            wanted[column_key(alias)] = column
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        column = wanted.get(column_key(cell))
        if column is None:
            continue
        if column in index:
            raise ReadError(
                _("La colonne « %(column)s » apparaît plusieurs fois.") % {"column": column}, row=number, column=column
            )
        index[column] = position
    return index


def _find_header(
    records: Iterator[tuple[int, list]], columns: list[str], aliases: Mapping[str, Iterable[str]]
) -> tuple[int, list, Iterator[tuple[int, list]]]:
    """The header is the first row naming a requested column, so that a title above the table does no harm; failing
    that within the first rows, the first non-empty row (whose missing columns will then be reported)."""
    keys = {column_key(name) for column in columns for name in (column, *aliases.get(column, ()))}
    seen: list[tuple[int, list]] = []
    for number, record in records:
        if all(clean_cell(cell) is None for cell in record):
            continue
        if any(column_key(cell) in keys for cell in record if isinstance(cell, str)):
            return number, record, records
        seen.append((number, record))
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if not seen:
        raise ReadError(_("Le fichier est vide."))
    (number, record), rest = seen[0], seen[1:]
    return number, record, itertools.chain(rest, records)


def _build_table(
    records: Iterator[tuple[int, list]],
    columns: Iterable[str],
    required: Iterable[str],
    aliases: Mapping[str, Iterable[str]],
    sheet: str | None,
    limits: Limits,
    allow_no_rows: bool,
) -> Table:
    columns = list(columns)
    header_row, header, records = _find_header(records, columns, aliases)
    index = _header_index(header, header_row, columns, aliases)
    missing = [column for column in required if column not in index]
    if missing:
        raise MissingColumnsError(
            missing, [str(clean_cell(cell)) for cell in header if clean_cell(cell) is not None], row=header_row
        )
    present = tuple(sorted(index, key=index.__getitem__))
    positions = [index[column] for column in present]
    row_index = {column: slot for slot, column in enumerate(present)}
    rows: list[Row] = []
    for number, record in records:
        cells = [clean_cell(cell) for cell in record]
        if all(cell is None for cell in cells):
            continue
        if len(rows) >= limits.max_rows:
            raise ReadError(_too_long(limits), row=number)
        values = tuple(cells[position] if position < len(cells) else None for position in positions)
        rows.append(Row(number, row_index, values))
    if not rows and not allow_no_rows:
        raise ReadError(_("Le fichier ne contient aucune ligne de données sous l'en-tête."))
    return Table(columns=present, rows=rows, header_row=header_row, sheet=sheet)
