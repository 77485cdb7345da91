"""How far a workbook's sheet reaches, measured in its XML before calamine reads it.

calamine lays a sheet out as one rectangle in memory, from its first to its last cell: two cells, A1 and XFD1048576,
are enough to make it ask for 17 billion cells and abort the process. So the sheet's XML is streamed first (the
archive's declared sizes are already checked), and `SheetTooLarge` is raised as soon as the rectangle passes the
limits: more columns than `max_columns`, more rows than `max_rows` + 1 (the header), or more cells than `max_cells`.

The measure errs on the large side: .xlsx cells are placed by their `r="B12"` reference (a cell or row without one
counts as one more column or row beyond the last reference); .ods cells and rows count their `number-*-repeated`
only when they hold something (the empty rows LibreOffice repeats to the bottom of the sheet cost nothing).
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
import zlib
from typing import IO
from xml.etree import ElementTree
from xml.parsers import expat

CHUNK = 1024 * 1024
# A tag longer than this is not a spreadsheet's: refuse it rather than buffer it.
MAX_TAG_BYTES = 16 * 1024 * 1024
# workbook.xml and its relationships list the sheets: anything bigger is not a sheet list.
SMALL_PART_BYTES = 10 * 1024 * 1024

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_CELL = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_CELL_WITH_REF = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br\s*=\s*[\"']")
_ROW = re.compile(rb"<" + _PREFIX + rb"row[\s/>]")
_ROW_WITH_REF = re.compile(rb"<" + _PREFIX + rb"row\s[^>]*?\br\s*=\s*[\"']")
_REF_LETTERS = re.compile(rb"\br\s*=\s*[\"']\s*([A-Za-z]+)[0-9]")
_REF_NUMBER = re.compile(rb"\br\s*=\s*[\"']\s*[A-Za-z]*([0-9]+)\s*[\"']")
# What Excel, LibreOffice and openpyxl write: every cell and row tag starts with its reference. When each cell and row
# tag of a chunk is one of these, two cheap passes measure it; anything else takes the general passes above.
_CELL_OR_ROW = re.compile(rb"<" + _PREFIX + rb"(?:c|row)[\s/>]")
_PLAIN_REF = re.compile(rb'<(?:c|row) r="([A-Z]*)([0-9]+)"')

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class SheetTooLarge(Exception):
    def __init__(self, rows: int, columns: int, sheet: str = "") -> None:
        super().__init__(f"{sheet}: {rows} x {columns}")
        self.rows = rows
        self.columns = columns
        self.sheet = sheet


class UnreadablePart(Exception):
    """The sheet's XML is not what a spreadsheet writes (a tag of several megabytes)."""


def measure_sheet(source: str | os.PathLike | IO[bytes], sheet: str | None, limits) -> None:
    """Raise SheetTooLarge if sheet `sheet` (None: any sheet) of the zipped workbook `source` passes `limits`. A part
    that cannot be found or parsed is left to calamine, which reports the file as unreadable.

    calamine reads every sheet of an .ods as soon as it opens it: an .ods is measured whole, before it is opened."""
    is_file = not isinstance(source, str | os.PathLike)
    if is_file:
        source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if "content.xml" in names:
                _measure_ods(archive, sheet, limits)
            else:
                for part in _xlsx_parts(archive, names, sheet):
                    _measure_xlsx(archive, part, sheet or "", limits)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, KeyError, NotImplementedError, RuntimeError):
        return  # a damaged, encrypted or unusual archive: calamine refuses it in its own words
    except UnreadablePart:
        return
    finally:
        if is_file:
            source.seek(0)


def _check(rows: int, columns: int, limits, sheet: str) -> None:
    if columns > limits.max_columns or rows > limits.max_rows + 1 or rows * columns > limits.max_cells:
        raise SheetTooLarge(rows, columns, sheet)


# --- .xlsx ----------------------------------------------------------------------------------------------------------


def _small_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    info = archive.getinfo(name)
    if info.file_size > SMALL_PART_BYTES:
        return None
    try:
        return ElementTree.fromstring(archive.read(name))
    except ElementTree.ParseError:
        return None


def _xlsx_parts(archive: zipfile.ZipFile, names: set[str], sheet: str | None) -> list[str]:
    """The worksheet part of `sheet`; every worksheet part when the workbook does not say which one it is."""
    worksheets = sorted(name for name in names if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    if sheet is None or "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return worksheets
    workbook, rels = _small_xml(archive, "xl/workbook.xml"), _small_xml(archive, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return worksheets
    ids = [s.get(f"{{{_DOC_RELS}}}id") for s in workbook.iter(f"{{{_MAIN}}}sheet") if s.get("name") == sheet]
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{_RELS}}}Relationship")}
    if len(ids) != 1 or ids[0] not in targets:
        return worksheets
    target = targets[ids[0]]
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return [part] if part in names else worksheets


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _measure_xlsx(archive: zipfile.ZipFile, part: str, sheet: str, limits) -> None:
    last_column = last_row = cells_without_ref = rows_without_ref = 0
    carry = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(CHUNK)
            data = carry + chunk
            # Complete tags only: everything before the last "<" (a "<" never stands inside a tag).
            cut = len(data) if not chunk else data.rfind(b"<")
            if cut < 0:  # text only: nothing to count
                carry = b""
                continue
            if cut == 0:
                if len(data) > MAX_TAG_BYTES:
                    raise UnreadablePart
                carry = data
                if not chunk:
                    break
                continue
            done, carry = data[:cut], data[cut:]
            plain = _PLAIN_REF.findall(done)
            if len(plain) == len(_CELL_OR_ROW.findall(done)):
                columns = {item for item, _number in plain if item}
                if columns:
                    longest = max(len(item) for item in columns)
                    last_column = max(last_column, *(_column_number(c) for c in columns if len(c) == longest))
                if plain:
                    last_row = max(last_row, max(int(number) for _item, number in plain))
                _check(last_row + rows_without_ref, last_column + cells_without_ref, limits, sheet)
                if not chunk:
                    break
                continue
            letters = set(_REF_LETTERS.findall(done))
            if letters:
                longest = max(len(item) for item in letters)
                last_column = max(last_column, *(_column_number(item) for item in letters if len(item) == longest))
            numbers = set(_REF_NUMBER.findall(done))
            if numbers:
                last_row = max(last_row, max(map(int, numbers)))
            cells_without_ref += len(_CELL.findall(done)) - len(_CELL_WITH_REF.findall(done))
            rows_without_ref += len(_ROW.findall(done)) - len(_ROW_WITH_REF.findall(done))
            _check(last_row + rows_without_ref, last_column + cells_without_ref, limits, sheet)
            if not chunk:
                break


# --- .ods -----------------------------------------------------------------------------------------------------------


class _OdsMeasure:
    """Expat handlers following the rows and cells of one table of content.xml."""

    def __init__(self, sheet: str | None, limits) -> None:
        self.sheet, self.limits = sheet, limits
        self.inside = False  # in a table being measured
        self.name = ""
        self.row = self.row_repeat = self.column = 0
        self.row_used = False
        self.cell: list | None = None  # [first column, repeat, holds something, depth]
        self.rows = self.columns = 0

    def start(self, name: str, attrs: dict) -> None:
        if name == f"{_TABLE} table":
            self.name = attrs.get(f"{_TABLE} name", "")
            self.inside = self.sheet is None or self.name == self.sheet
            self.row = self.rows = self.columns = 0
        elif not self.inside:
            return
        elif self.cell is not None:
            self.cell[2] = True  # a paragraph, a link, an annotation: the cell holds something
            self.cell[3] += 1
        elif name == f"{_TABLE} table-row":
            self.row_repeat = _repeat(attrs.get(f"{_TABLE} number-rows-repeated"))
            self.column, self.row_used = 0, False
        elif name in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            repeat = _repeat(attrs.get(f"{_TABLE} number-columns-repeated"))
            self.cell = [self.column, repeat, f"{_OFFICE} value-type" in attrs, 0]
            self.column += repeat

    def end(self, name: str) -> None:
        if not self.inside:
            return
        if self.cell is not None:
            if self.cell[3]:
                self.cell[3] -= 1
                return
            first, repeat, used, _depth = self.cell
            self.cell = None
            if used:
                self.row_used = True
                self.columns = max(self.columns, first + repeat)
        elif name == f"{_TABLE} table-row":
            if self.row_used:
                self.rows = max(self.rows, self.row + self.row_repeat)
                _check(self.rows, self.columns, self.limits, self.name)
            self.row += self.row_repeat
        elif name == f"{_TABLE} table":
            self.inside = False

    def text(self, data: str) -> None:
        if self.cell is not None and data.strip():
            self.cell[2] = True


def _repeat(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def _measure_ods(archive: zipfile.ZipFile, sheet: str | None, limits) -> None:
    measure = _OdsMeasure(sheet, limits)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = measure.start
    parser.EndElementHandler = measure.end
    parser.CharacterDataHandler = measure.text
    try:
        with archive.open("content.xml") as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError:
        raise UnreadablePart from None
