"""What every import shares beyond reading cells: choosing the sheet, querying codes in bulk, progress and the reason
written in the history."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.utils.translation import gettext as _

from pilotage.core.progress import Progress

from .readers import MissingSheetError, Source, column_key, sheet_names

__all__ = ["Progress", "chunks", "import_reason", "named_or_only_sheet", "optional_sheet"]

# Progress is printed (on stderr) only for files long enough to keep someone waiting.
LONG_FILE_ROWS = 1000
# Codes per `IN (…)` query: a whole country's communes would exceed some engines' limit on query parameters.
CHUNK_SIZE = 5000


def chunks(values: Iterable, size: int = CHUNK_SIZE) -> list[list]:
    """The values, sorted, in lists of at most `size` (for `field__in` queries)."""
    ordered = sorted(values)
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def import_reason(source: str | Path, filename: str | None = None) -> str:
    """The reason every history entry of an import carries: the file it came from."""
    return _("Import du fichier %(name)s") % {"name": Path(filename or str(source)).name}


def named_or_only_sheet(source: Source, wanted: str, *, filename: str | None = None) -> str | None:
    """The sheet to read in a workbook: the one named `wanted` (case- and accent-insensitive), else its only sheet.

    None for a CSV file (its own single sheet). A workbook with several sheets, none of them `wanted`, raises
    `MissingSheetError`.
    """
    names = sheet_names(source, filename=filename)
    if not names:
        return None
    for name in names:
        if column_key(name) == column_key(wanted):
            return name
    if len(names) == 1:
        return names[0]
    raise MissingSheetError(
        _("Le classeur n'a pas de feuille « %(sheet)s » (feuilles : %(names)s).")
        % {"sheet": wanted, "names": ", ".join(names)}
    )


def optional_sheet(source: Source, wanted: str, *, filename: str | None = None) -> str | None:
    """The sheet named `wanted` in a workbook, or None when it has none (or the file is a CSV)."""
    for name in sheet_names(source, filename=filename):
        if column_key(name) == column_key(wanted):
            return name
    return None
