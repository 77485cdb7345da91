"""Reading an import file (.xlsx, .xls, .ods or .csv) into rows keyed by canonical column names.

What every import can rely on:
- column names are matched case-, accent- and punctuation-insensitively (`Date Contrat` is `date_contrat`); columns
  the caller did not ask for are ignored; a missing required column is an error on the header row;
- the header is the first row naming a requested column (a title may stand above it); each row keeps the number a
  spreadsheet shows (header = row 1 in a plain file, blank lines counted); fully empty rows are skipped;
- cells come trimmed, empty ones as None; spreadsheet dates as date/datetime, numbers as int (when integral) or float;
- CSV in UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252, separated by `;`, `,` or a tab (sniffed on the
  header line); a CSV text cell our export neutralised (`'=…`, `'+…`, `'-…`, `'@…`) comes back as the original text;
- memory stays bounded: files over `max_bytes`, zipped workbooks inflating past `max_uncompressed_bytes` (or with a
  part compressed more than `MAX_COMPRESSION_RATIO` times), sheets wider than `max_columns`, longer than `max_rows` or
  spanning more than `max_cells` are refused. A workbook's sheet is measured in its XML before calamine lays it out
  in memory (a single far cell such as XFD1048576 would otherwise make it allocate the whole rectangle). Defaults
  come from the settings `PILOTAGE_IMPORT_MAX_*`;
- a CSV mixing UTF-8 and Windows-1252 lines is refused, naming a line of each, rather than read with garbled accents.
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
# A part of a workbook inflating more than this many times its compressed size, past `RATIO_CHECKED_FROM` bytes, is a
# zip bomb: real sheets compress 5 to 30 times.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECKED_FROM = 10 * 1024 * 1024
# How many non-empty rows may stand above the header (titles, notes) before the first one is taken as the header.
HEADER_SEARCH_ROWS = 10

Source = str | os.PathLike | IO[bytes]

# The longest CSV cell read (the csv module's default limit, which other libraries may raise for the whole process).
MAX_CSV_CELL = 131_072


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
    # Rows × columns of the rectangle a workbook's sheet spans (calamine holds it whole in memory, ~32 bytes a cell).
    max_cells: int = 5_000_000

    @classmethod
    def from_settings(cls) -> Limits:
        max_bytes = getattr(settings, "PILOTAGE_IMPORT_MAX_BYTES", cls.max_bytes)
        return cls(
            max_bytes=max_bytes,
            max_uncompressed_bytes=getattr(settings, "PILOTAGE_IMPORT_MAX_UNCOMPRESSED_BYTES", 10 * max_bytes),
            max_columns=getattr(settings, "PILOTAGE_IMPORT_MAX_COLUMNS", cls.max_columns),
            max_rows=getattr(settings, "PILOTAGE_IMPORT_MAX_ROWS", cls.max_rows),
            max_cells=getattr(settings, "PILOTAGE_IMPORT_MAX_CELLS", cls.max_cells),
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
    """A zipped workbook is refused before calamine inflates it if its parts add up to too much, or if one of them is
    compressed far more than any real sheet (a zip bomb). The sizes are those the archive declares: calamine's zip
    reader, like Python's, stops with an error at a part's declared size, so a part cannot lie about it."""
    try:
        if not isinstance(source, str | os.PathLike):
            source.seek(0)
        with zipfile.ZipFile(source) as archive:
            parts = archive.infolist()
    except Exception:  # BadZipFile, OSError, EOFError, struct or value errors: any damaged directory of the archive
        raise ReadError(_("Le fichier est illisible : l'archive du classeur est corrompue.")) from None
    inflated = sum(info.file_size for info in parts)
    if inflated > limits.max_uncompressed_bytes:
        raise ReadError(
            _("Le classeur décompressé ferait %(size).0f Mo : la limite est de %(limit).0f Mo.")
            % {"size": inflated / MEGABYTE, "limit": limits.max_uncompressed_bytes / MEGABYTE}
        )
    for info in parts:
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise ReadError(
                _(
                    "Le classeur est anormalement compressé (une partie de %(size).0f Mo tient en %(packed).0f ko) : "
                    "il n'a pas été ouvert."
                )
                % {"size": info.file_size / MEGABYTE, "packed": info.compress_size / 1024}
            )
    if any(info.filename == "content.xml" for info in parts):
        _measure(source, None, limits)  # calamine reads every sheet of an .ods when it opens it


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
    if _peek(source, 4).startswith(_ZIP_MAGIC):
        _measure(source, name, limits)
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


def _measure(source: Source, sheet: str | None, limits: Limits) -> None:
    """Refuse a zipped workbook's sheet (None: any sheet) too large to be laid out in memory (see sheet_extent)."""
    from .sheet_extent import SheetTooLarge, measure_sheet

    try:
        measure_sheet(source, sheet, limits)
    except SheetTooLarge as error:
        raise ReadError(_too_large_sheet(error.sheet or sheet or "", error, limits)) from None


def _too_large_sheet(name: str, error, limits: Limits) -> str:
    if error.columns > limits.max_columns:
        return _too_wide(error.columns, limits)
    if error.rows > limits.max_rows + 1:
        return _too_long(limits)
    return _(
        "La feuille « %(sheet)s » s'étend sur %(rows)s lignes et %(columns)s colonnes, soit plus de %(limit)s cellules "
        ": supprimez les lignes et colonnes inutiles (une cellule isolée loin du tableau suffit)."
    ) % {"sheet": name, "rows": error.rows, "columns": error.columns, "limit": limits.max_cells}


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
        try:
            return _text_only(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            pass
        if mixed := _mixed_encoding_lines(data):
            raise ReadError(
                _(
                    "Le fichier mélange deux encodages : la ligne %(utf8)s est en UTF-8, la ligne %(cp1252)s en "
                    "Windows-1252. Enregistrez tout le fichier au format CSV UTF-8, sinon ses accents seraient mal lus."
                )
                % {"utf8": mixed[0], "cp1252": mixed[1]}
            )
        try:
            return _text_only(data.decode("cp1252"))
        except UnicodeDecodeError:
            pass
    raise ReadError(_not_text())


def _not_text() -> str:
    return _("Le fichier n'est pas un texte CSV lisible : enregistrez-le au format CSV UTF-8 ou Windows-1252.")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text_only(text: str) -> str:
    """Binary content that happens to decode (random bytes, an image renamed .csv) is full of control characters."""
    controls = len(_CONTROL.findall(text, 0, 1_000_000))
    if controls >= 3 and controls * 100 > min(len(text), 1_000_000):
        raise ReadError(_not_text())
    return text


def _mixed_encoding_lines(data: bytes) -> tuple[int, int] | None:
    """The first line valid in UTF-8 only and the first line valid in Windows-1252 only, if the file has both."""
    utf8 = cp1252 = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 = utf8 or number
        except UnicodeDecodeError:
            cp1252 = cp1252 or number
        if utf8 and cp1252:
            return utf8, cp1252
    return None


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


_LINE_END = re.compile(r"\r\n|\r|\n")


def _lines(text: str, delimiter: str, limits: Limits) -> Iterator[str]:
    """The physical lines of the text, as csv.reader wants them, a line with too many separators (outside quotes)
    refused before csv.reader makes a list of its cells (a million-column line would take gigabytes)."""
    start, quoted, record = 0, False, 1
    ends = itertools.chain(_LINE_END.finditer(text), [None])
    for match in ends:
        end = match.end() if match else len(text)
        if end == start:
            break
        line = text[start:end]
        start = end
        if line.count(delimiter) >= limits.max_columns:
            parts = line.split('"')
            count = sum(part.count(delimiter) for part in parts[1 if quoted else 0 :: 2]) + 1
            if count > limits.max_columns:
                raise ReadError(_too_wide(count, limits), row=record)
        if line.count('"') % 2:
            quoted = not quoted
        if not quoted:
            record += 1
        yield line


def _read_csv(source: Source, limits: Limits) -> Iterator[tuple[int, list]]:
    text = _decode(_read_bytes(source, limits))
    # Excel may write a first line `sep=;`: it uses it as the separator and does not show it as a row.
    if hint := re.match(r"sep=([;,\t|])\r?\n", text):
        text, delimiter = text[hint.end() :], hint.group(1)
    else:
        delimiter = _sniff_delimiter(text)
    reader = csv.reader(_lines(text, delimiter, limits), delimiter=delimiter)
    from .schema import restore  # here: the schema module needs the models, this one must not at import time

    def records() -> Iterator[tuple[int, list]]:
        number = 0
        try:
            # A spreadsheet opening the file shows one row per record (a quoted line break stays in its cell).
            for number, record in enumerate(reader, start=1):  # noqa: B007 (number is read in the except clause)
                if len(record) > limits.max_columns:
                    raise ReadError(_too_wide(len(record), limits), row=number)
                if record and max(map(len, record)) > MAX_CSV_CELL:
                    raise csv.Error("field larger than field limit")
                # Our CSV export neutralises formulas with a leading apostrophe: read the text it stands for.
                yield number, [restore(cell) if cell[:1] == "'" else cell for cell in record]
        except csv.Error as error:
            if "field limit" in str(error):
                message = _("Une cellule dépasse %(limit)s caractères : le fichier est-il bien un CSV ?") % {
                    "limit": MAX_CSV_CELL
                }
            else:
                message = _("Ligne CSV illisible (%(error)s).") % {"error": error}
            raise ReadError(message, row=number + 1) from None

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
    records: Iterator[tuple[int, list]], columns: list[str], aliases: Mapping[str, Iterable[str]], sheet: str | None
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
        if sheet is not None:
            raise ReadError(_("La feuille « %(sheet)s » du classeur est vide.") % {"sheet": sheet})
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
    header_row, header, records = _find_header(records, columns, aliases, sheet)
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
