"""The report every import prints: counts, and every rejected row with its number, column and a French message.

Its JSON form is pinned by PRODUCT.md: {"ok": bool, "rows": N, "created": N, "updated": N, "unchanged": N,
"errors": [{"row": N, "column": "…", "message": "…"}]}
`rows` counts the data rows read; created/updated/unchanged count the records the import is about (territories,
projects). An error about the whole file (unreadable, too big) has row 0 and an empty column; a missing column is
reported on the header, row 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def to_text(self) -> str:
        if self.row <= 0:
            return _("Fichier : %(message)s") % {"message": self.message}
        if not self.column:
            return _("Ligne %(row)s : %(message)s") % {"row": self.row, "message": self.message}
        return _("Ligne %(row)s, colonne %(column)s : %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Not part of the JSON: whether the counts describe what *would* have been written.
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, *, created: bool, changed: bool) -> None:
        """Count one record the import is about: created, else updated when it changed, else unchanged."""
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    def add_error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    def sorted_errors(self) -> list[RowError]:
        # Stable: errors of one row keep the order of the columns they were found in.
        return sorted(self.errors, key=lambda error: error.row)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [error.to_dict() for error in self.sorted_errors()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_text(self) -> str:
        lines = [error.to_text() for error in self.sorted_errors()]
        rows = ngettext("%(count)s ligne lue", "%(count)s lignes lues", self.rows) % {"count": self.rows}
        if not self.ok:
            count = len(self.errors)
            lines.append(
                ngettext(
                    "Import refusé : %(count)s erreur (%(rows)s) ; rien n'a été enregistré.",
                    "Import refusé : %(count)s erreurs (%(rows)s) ; rien n'a été enregistré.",
                    count,
                )
                % {"count": count, "rows": rows}
            )
            return "\n".join(lines)
        counts = _(
            "%(rows)s ; créations : %(created)s ; mises à jour : %(updated)s ; sans changement : %(unchanged)s."
        ) % {
            "rows": rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }
        lines.append(counts)
        if self.dry_run:
            lines.append(_("Simulation (--dry-run) : rien n'a été enregistré."))
        return "\n".join(lines)
