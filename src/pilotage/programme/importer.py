"""Reading and validating a territories file (PRODUCT.md, "Files — Territories"), before anything is written.

Two shapes of the ANCT open data are accepted as they are:
- one row per (territory, EPCI): `id_ti`, `lib_ti`, `siren_groupement` (`lib_groupement` is informative);
- one row per (commune, territory): `insee_com`, `id_ti`, `lib_ti`, where `id_ti` may hold several codes separated
  by `;` (a commune in two territories). The perimeter is then the set of EPCI of the territory's communes.
When a file has both `siren_groupement` and `insee_com`, the EPCI column decides.

Optional programme columns, repeated on each row of a territory: `phase`, `date_gouvernance`, `date_protocole`,
`date_contrat`, `date_validation_plan`, `date_prevue_validation_plan`. An empty cell gives nothing; the values given
for one territory must agree (each disagreeing row is reported, naming the row it disagrees with). On a row listing
several territories, a cell holds either one value for all of them or one value per territory, `;`-separated, in
the order of `id_ti`. Without any `phase` for a territory, the phase is `DEFAULT_PHASE_CODE`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from pilotage.core.progress import EVERY_ROWS, Progress
from pilotage.core.text import fold
from pilotage.geo.models import Commune, Epci, Region
from pilotage.opendata.parsing import (
    ParseError,
    is_empty,
    parse_date,
    parse_id_ti,
    parse_insee_commune,
    parse_siren,
    split_codes,
)
from pilotage.opendata.readers import MissingColumnsError, Row, Table

from .models import ProgrammePhase

# The ANCT files without a phase column are the lists of the programme's first phase.
DEFAULT_PHASE_CODE = "2018-2022"

ID_TI, LIB_TI, SIREN, LIB_EPCI, INSEE = "id_ti", "lib_ti", "siren_groupement", "lib_groupement", "insee_com"
PHASE = "phase"
DATE_COLUMNS = (
    "date_gouvernance",
    "date_protocole",
    "date_contrat",
    "date_validation_plan",
    "date_prevue_validation_plan",
)
# Columns whose value belongs to the territory, so must agree across its rows.
TERRITORY_VALUE_COLUMNS = (LIB_TI, PHASE, *DATE_COLUMNS)
COLUMNS = (ID_TI, LIB_TI, SIREN, LIB_EPCI, INSEE, PHASE, *DATE_COLUMNS)
REQUIRED_COLUMNS = (ID_TI, LIB_TI)


@dataclass
class TerritoryDraft:
    """What the file says of one territory: its perimeter and the values of its programme columns."""

    code: str
    region: str
    first_row: int
    epcis: set[str] = field(default_factory=set)
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)  # column → (value, row that first gave it)

    def value(self, column: str) -> Any:
        return self.values[column][0] if column in self.values else None

    @property
    def name(self) -> str:
        return self.value(LIB_TI) or ""

    @property
    def phase_code(self) -> str:
        return self.value(PHASE) or DEFAULT_PHASE_CODE


@dataclass
class Referential:
    """The codes the file is checked against, loaded in a fixed number of queries."""

    regions: set[str]
    phases: dict[str, str]  # folded code or name → code
    epcis: set[str]
    commune_epci: dict[str, str | None]

    @classmethod
    def for_table(cls, table: Table) -> Referential:
        sirens, communes = set(), set()
        for row in table.rows:
            for column, values, parse in ((SIREN, sirens, parse_siren), (INSEE, communes, parse_insee_commune)):
                try:
                    if code := parse(row.get(column)):
                        values.add(code)
                except ParseError:
                    pass
        phases: dict[str, str] = {}
        for code, name in ProgrammePhase.objects.values_list("code", "name"):
            phases[phase_key(code)] = code
            phases.setdefault(phase_key(name), code)
        epcis: set[str] = set()
        commune_epci: dict[str, str | None] = {}
        # In chunks: a whole country's communes would exceed some engines' limit on query parameters.
        for chunk in _chunks(sorted(sirens)):
            epcis.update(Epci.objects.filter(siren__in=chunk).values_list("siren", flat=True))
        for chunk in _chunks(sorted(communes)):
            commune_epci.update(Commune.objects.filter(insee__in=chunk).values_list("insee", "epci_id"))
        return cls(
            regions=set(Region.objects.values_list("code", flat=True)),
            phases=phases,
            epcis=epcis,
            commune_epci=commune_epci,
        )


def _chunks(codes: list[str], size: int = 5000) -> list[list[str]]:
    return [codes[start : start + size] for start in range(0, len(codes), size)]


def phase_key(value: str) -> str:
    """`2018–2022`, `2018 - 2022` and `2018-2022` are one phase."""
    return re.sub(r"[^a-z0-9]+", "-", fold(value)).strip("-")


def display(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


class RowChecker:
    """Turns the rows of a table into territory drafts, collecting every error with its row and column."""

    def __init__(self, table: Table, referential: Referential) -> None:
        if not (table.has(SIREN) or table.has(INSEE)):
            raise MissingColumnsError([f"{SIREN} / {INSEE}"], list(table.columns), row=table.header_row)
        self.table = table
        self.referential = referential
        self.by_epci = table.has(SIREN)
        self.drafts: dict[str, TerritoryDraft] = {}
        self.errors: list[tuple[int, str, str]] = []
        self.parsed: dict[tuple, Any] = {}

    def error(self, row: Row, column: str, message: str) -> None:
        self.errors.append((row.number, column, message))

    def check(self, progress: Progress | None = None) -> dict[str, TerritoryDraft]:
        total = len(self.table.rows)
        for index, row in enumerate(self.table.rows, start=1):
            self.check_row(row)
            if progress and index % EVERY_ROWS == 0:
                progress(_("Vérification des lignes"), done=index, total=total)
        for draft in self.drafts.values():
            if draft.value(PHASE) is None:
                draft.values[PHASE] = (DEFAULT_PHASE_CODE, draft.first_row)
        return self.drafts

    def check_row(self, row: Row) -> None:
        codes = self.territory_codes(row)
        epci = self.epci_of(row)
        values = self.territory_values(row, len(codes))
        if not codes or epci is None or values is None:
            return
        for position, code in enumerate(codes):
            draft = self.drafts.get(code.code)
            if draft is None:
                draft = self.drafts[code.code] = TerritoryDraft(code.code, code.region, row.number)
            draft.epcis.add(epci)
            for column, column_values in values.items():
                self.merge(draft, row, column, column_values[position])

    def territory_codes(self, row: Row) -> list:
        raw = row.get(ID_TI)
        if is_empty(raw):
            self.error(row, ID_TI, _("L'identifiant du territoire (id_ti) est vide."))
            return []
        codes, valid = [], True
        for part in split_codes(raw):
            try:
                code = parse_id_ti(part, self.referential.regions)
            except ParseError as error:
                self.error(row, ID_TI, error.message)
                valid = False
            else:
                if code not in codes:
                    codes.append(code)
        return codes if valid else []

    def epci_of(self, row: Row) -> str | None:
        column = SIREN if self.by_epci else INSEE
        raw = row.get(column)
        try:
            code = parse_siren(raw) if self.by_epci else parse_insee_commune(raw)
        except ParseError as error:
            self.error(row, column, error.message)
            return None
        if code is None:
            self.error(
                row,
                column,
                _("Le code de l'EPCI (siren_groupement) est vide.")
                if self.by_epci
                else _("Le code INSEE de la commune (insee_com) est vide."),
            )
            return None
        if self.by_epci:
            if code not in self.referential.epcis:
                self.error(row, column, _("L'EPCI de SIREN %(siren)s est inconnu du référentiel.") % {"siren": code})
                return None
            return code
        if code not in self.referential.commune_epci:
            self.error(row, column, _("La commune %(insee)s est inconnue du référentiel.") % {"insee": code})
            return None
        epci = self.referential.commune_epci[code]
        if epci is None:
            self.error(row, column, _("La commune %(insee)s n'appartient à aucun EPCI.") % {"insee": code})
        return epci

    def territory_values(self, row: Row, count: int) -> dict[str, list] | None:
        """Each programme column's parsed value, one per territory of the row; None if a cell is wrong."""
        result: dict[str, list] = {}
        valid = True
        for column in TERRITORY_VALUE_COLUMNS:
            raw = row.get(column)
            parts = [part.strip() for part in raw.split(";")] if isinstance(raw, str) and count > 1 else [raw]
            if len(parts) not in (1, count):
                self.error(
                    row,
                    column,
                    _(
                        "%(values)s valeurs pour %(count)s territoires : mettez-en une seule ou "
                        "une par territoire, dans l'ordre de id_ti."
                    )
                    % {"values": len(parts), "count": count},
                )
                valid = False
                continue
            try:
                parsed = [self.parse(column, part) for part in parts]
            except ParseError as error:
                self.error(row, column, error.message)
                valid = False
                continue
            if column == LIB_TI and any(value is None for value in parsed):
                self.error(row, column, _("Le nom du territoire (lib_ti) est vide."))
                valid = False
                continue
            result[column] = parsed * count if len(parsed) == 1 else parsed
        return result if valid else None

    def parse(self, column: str, value: Any) -> Any:
        # Territory values repeat on every row of a territory: parse each distinct cell once.
        key = (column, type(value), value)
        if key not in self.parsed:
            try:
                self.parsed[key] = self.parse_cell(column, value)
            except ParseError as error:
                self.parsed[key] = error
        result = self.parsed[key]
        if isinstance(result, ParseError):
            raise ParseError(result.message)  # a fresh one: re-raising one instance would grow its traceback
        return result

    def parse_cell(self, column: str, value: Any) -> Any:
        if is_empty(value):
            return None
        if column == LIB_TI:
            return " ".join(str(value).split())
        if column == PHASE:
            code = self.referential.phases.get(phase_key(str(value)))
            if code is None:
                raise ParseError(
                    _("La phase « %(value)s » est inconnue (phases : %(known)s).")
                    % {"value": value, "known": ", ".join(sorted(set(self.referential.phases.values())))}
                )
            return code
        return parse_date(value)

    def merge(self, draft: TerritoryDraft, row: Row, column: str, value: Any) -> None:
        if value is None:
            return
        if column not in draft.values:
            draft.values[column] = (value, row.number)
            return
        known, known_row = draft.values[column]
        same = known == value or (column == LIB_TI and fold(known) == fold(value))
        if not same:
            self.error(
                row,
                column,
                _("Valeur en conflit pour le territoire %(code)s : « %(value)s » ici, « %(known)s » ligne %(row)s.")
                % {"code": draft.code, "value": display(value), "known": display(known), "row": known_row},
            )
