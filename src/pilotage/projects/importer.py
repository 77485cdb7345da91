"""Reading and validating a projects file (PRODUCT.md, "Files — Projects"), before anything is written.

The file: sheet `projets` of an .xlsx/.ods (a workbook with a single sheet may name it otherwise), or a CSV file;
funding lines in its optional sheet `financements`, or for a CSV in a second file. Columns are those of
`pilotage.opendata.schema` (`PROJECTS`, `FUNDING`); the required ones must be in the header.

What a row says, and how it is checked (every defect is reported on its row and column, then nothing is written):
- `id_projet` is the key: an existing project is updated, never duplicated; twice in a file is an error;
- `id_ti` must be a known territory; `commune_insee` a commune of its perimeter (the communes of its EPCI);
- `themes` (codes or labels, `;`-separated) must all be of one phase, one of the territory's phases: that is the
  project's phase. Without themes, the project's phase is the territory's only phase (or, for an existing project,
  its current phase when the territory has several);
- `statut` is a code or its French label; `porteur_siren` is checked with its Luhn key; `date_fin` is not before
  `date_debut`; costs and amounts are not negative;
- the owner is the organisation of that SIREN, else (no SIREN) the organisation without SIREN of exactly that
  name, else a new one (a company when a SIREN is given, "other" otherwise); an existing project keeps its owner
  when it still fits the row (same SIREN, or same name when the row gives no SIREN);
- a funder is the organisation of that name (case-insensitive), else a new funder;
- a column the file does not have leaves the field as it is; an empty cell empties it (`public`: left as it is,
  true for a new project);
- with an acting user, a project they may not edit, or a territory they may not create or move projects into,
  is an error ("hors de votre périmètre").
Codes and organisations are loaded in a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from pilotage.accounts.scopes import project_creation
from pilotage.core.progress import EVERY_ROWS
from pilotage.geo.models import Commune
from pilotage.opendata.importing import Progress, chunks, named_or_only_sheet, optional_sheet
from pilotage.opendata.parsing import (
    ParseError,
    is_empty,
    parse_amount,
    parse_bool,
    parse_date,
    parse_id_ti,
    parse_insee_commune,
    parse_siren,
    split_codes,
)
from pilotage.opendata.readers import ReadError, Row, Source, Table, column_key, read_table
from pilotage.opendata.report import RowError
from pilotage.opendata.schema import FUNDING, PROJECTS
from pilotage.programme.models import ProgrammePhase, Territory, Theme

from .models import FundingLine, Organisation, Project, ProjectStatus
from .queries import projects_editable_by

(
    ID_PROJET,
    ID_TI,
    TITLE,
    DESCRIPTION,
    THEMES,
    STATUS,
    OWNER_NAME,
    OWNER_SIREN,
    COMMUNE,
    REPORTED_ON,
    START_ON,
    END_ON,
    TOTAL_COST,
    PUBLIC,
) = PROJECTS.names
FUNDING_ID, FUNDER, INSTRUMENT, REQUESTED, GRANTED, DECIDED_ON = FUNDING.names

DATE_FIELDS = {REPORTED_ON: "reported_on", START_ON: "start_on", END_ON: "end_on"}
AMOUNT_FIELDS = {REQUESTED: "requested", GRANTED: "granted"}
CENTS = Decimal("0.01")
# Lengths of the model fields a cell goes into.
MAX_LENGTHS = {
    ID_PROJET: Project._meta.get_field("id_projet").max_length,
    TITLE: Project._meta.get_field("title").max_length,
    OWNER_NAME: Organisation._meta.get_field("name").max_length,
    FUNDER: Organisation._meta.get_field("name").max_length,
    INSTRUMENT: FundingLine._meta.get_field("instrument").max_length,
}
# Translated only when a message is written: gettext costs as much as checking a cell.
AMOUNT_LABELS = {
    TOTAL_COST: lambda: _("Le coût total"),
    REQUESTED: lambda: _("Le montant demandé"),
    GRANTED: lambda: _("Le montant accordé"),
}
INVALID = object()  # a cell already reported as wrong
KEEP = object()  # the file says nothing of this value: leave it as it is


def required_columns(resource) -> tuple[str, ...]:
    return tuple(column.name for column in resource.columns if column.required)


def name_key(name: str) -> str:
    """Funder names match whatever their case and spacing."""
    return " ".join(name.split()).casefold()


class _Failed(str):
    """A cell value a parser refused: its message."""


class CachedParser:
    """A cell parser run once per distinct value of a file (codes, names, labels and dates repeat from row to row):
    the same value (and type: 1, 1.0 and True are three) gives the same result, or the same `ParseError`."""

    def __init__(self, parse) -> None:
        self.parse = parse
        self.results: dict[tuple, Any] = {}

    def __call__(self, value: Any) -> Any:
        key = (type(value), value)
        try:
            found = self.results.get(key, self)
        except TypeError:  # not hashable
            return self.parse(value)
        if found is self:
            try:
                found = self.parse(value)
            except ParseError as error:
                found = _Failed(error.message)
            self.results[key] = found
        if type(found) is _Failed:
            raise ParseError(str(found))
        return found


class CellParsers:
    """The parsers of the columns whose values repeat, each with its cache, for one file."""

    def __init__(self) -> None:
        self.id_ti = CachedParser(parse_id_ti)
        self.commune = CachedParser(parse_insee_commune)
        self.siren = CachedParser(parse_siren)
        self.date = CachedParser(parse_date)
        self.bool = CachedParser(parse_bool)


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation a row names: an existing one (`pk`), or one to create, identified in the file by `key`."""

    pk: int | None
    name: str
    siren: str = ""
    kind: str = Organisation.Kind.OTHER

    @property
    def key(self) -> tuple[str, str]:
        if self.kind == Organisation.Kind.FUNDER:
            return ("funder", name_key(self.name))
        return ("siren", self.siren) if self.siren else ("name", self.name)


@dataclass
class ProjectDraft:
    """What a valid row says of one project: `fields` holds model attribute names → values, for the columns the file
    has (`themes` and `statut` are required ones)."""

    row: int
    id_projet: str
    existing: Project | None
    fields: dict[str, Any]
    theme_ids: frozenset[int]
    owner: Any  # OrganisationRef, None (no owner) or KEEP


@dataclass
class FundingDraft:
    row: int
    id_projet: str
    funder: OrganisationRef
    instrument: str
    fields: dict[str, Any]  # requested, granted, decided_on: the columns the file has


@dataclass
class TerritoryInfo:
    pk: int
    code: str
    phases: set[int] = field(default_factory=set)
    epcis: set[str] = field(default_factory=set)


@dataclass
class ProjectTables:
    projects: Table
    funding: Table | None
    funding_label: str  # how messages name where the funding lines are ("feuille financements", a file name)


@dataclass
class CheckedFile:
    rows: int
    projects: list[ProjectDraft]
    funding: list[FundingDraft]
    existing: dict[str, Project]  # every project of the database the file names, with its themes and funding lines
    errors: list[RowError]


def read_tables(
    source: Source,
    *,
    filename: str | None = None,
    funding_source: Source | None = None,
    funding_filename: str | None = None,
) -> ProjectTables:
    """The projects table, and the funding table if the file (or the second file) has one. Raises ReadError."""
    sheet = named_or_only_sheet(source, PROJECTS.name, filename=filename)
    projects = read_table(source, PROJECTS.names, required=required_columns(PROJECTS), sheet=sheet, filename=filename)
    funding_sheet = None if sheet is None else optional_sheet(source, FUNDING.name, filename=filename)
    if funding_source is not None:
        if funding_sheet is not None:
            raise ReadError(
                _("Le classeur a déjà une feuille « %(sheet)s » : ne donnez pas en plus un fichier de financements.")
                % {"sheet": funding_sheet}
            )
        name = funding_filename or str(getattr(funding_source, "name", funding_source))
        funding_sheet = named_or_only_sheet(funding_source, FUNDING.name, filename=funding_filename)
        funding = _read_funding(funding_source, funding_sheet, funding_filename)
        return ProjectTables(projects, funding, _("fichier %(name)s") % {"name": Path(name).name})
    if funding_sheet is None:
        return ProjectTables(projects, None, "")
    funding = _read_funding(source, funding_sheet, filename)
    return ProjectTables(projects, funding, _("feuille %(sheet)s") % {"sheet": funding_sheet})


def _read_funding(source: Source, sheet: str | None, filename: str | None) -> Table:
    return read_table(
        source, FUNDING.names, required=required_columns(FUNDING), sheet=sheet, filename=filename, allow_no_rows=True
    )


@dataclass
class Referential:
    """Everything the rows are checked against, loaded in a fixed number of queries."""

    territories: dict[str, TerritoryInfo]
    phases: dict[int, ProgrammePhase]
    themes: dict[str, list[Theme]]  # column_key of a code or label → the themes it names (in any phase)
    statuses: dict[str, str]  # column_key of a code or label → code
    communes: dict[str, tuple[str | None, str]]  # INSEE code → (EPCI SIREN, name)
    owners_by_siren: dict[str, Organisation]
    owners_by_name: dict[str, Organisation]  # organisations without SIREN, by exact name
    funders: dict[str, Organisation]  # name_key → organisation
    existing: dict[str, Project]
    editable_projects: set[str] | None  # None: no restriction (the operator)
    editable_territories: set[str] | None
    parsers: CellParsers = field(default_factory=CellParsers)  # shared with the checks, which parse the same cells

    @classmethod
    def load(cls, tables: ProjectTables, user=None) -> Referential:
        parsers = CellParsers()
        codes = _Codes.of(tables, parsers)
        territories = _territories(codes.territories)
        phases = {phase.pk: phase for phase in ProgrammePhase.objects.all()}
        themes: dict[str, list[Theme]] = defaultdict(list)
        for theme in Theme.objects.order_by("phase__starts_on", "position"):
            for key in {column_key(theme.code), column_key(theme.label)}:
                themes[key].append(theme)
        statuses = {column_key(code): code for code in ProjectStatus.values}
        statuses.update({column_key(label): code for code, label in ProjectStatus.choices})
        communes: dict[str, tuple[str | None, str]] = {}
        for chunk in chunks(codes.communes):
            communes.update((insee, (epci, name)) for insee, epci, name in _commune_rows(chunk))
        existing = _existing_projects(codes.projects)
        editable_projects = editable_territories = None
        if user is not None:
            editable_projects = set()
            for chunk in chunks(existing):
                editable = projects_editable_by(user).filter(id_projet__in=chunk)
                editable_projects.update(editable.values_list("id_projet", flat=True))
            editable_territories = set(
                Territory.objects.filter(project_creation(user), code__in=list(territories)).values_list(
                    "code", flat=True
                )
            )
        return cls(
            territories=territories,
            phases=phases,
            themes=dict(themes),
            statuses=statuses,
            communes=communes,
            owners_by_siren=_oldest_by(Organisation.objects.all(), "siren", codes.sirens),
            owners_by_name=_oldest_by(Organisation.objects.filter(siren=""), "name", codes.owner_names),
            funders=_funders(codes.funder_names),
            existing=existing,
            editable_projects=editable_projects,
            editable_territories=editable_territories,
            parsers=parsers,
        )


def _commune_rows(chunk: list[str]):
    return Commune.objects.filter(insee__in=chunk).values_list("insee", "epci_id", "name")


def _oldest_by(queryset, field_name: str, values: set[str]) -> dict[str, Organisation]:
    """The organisations whose `field_name` is among `values`, the oldest when several share one."""
    found: dict[str, Organisation] = {}
    for chunk in chunks(values):
        for organisation in queryset.filter(**{f"{field_name}__in": chunk}).order_by("pk"):
            found.setdefault(getattr(organisation, field_name), organisation)
    return found


def _funders(names: set[str]) -> dict[str, Organisation]:
    """Funders by name whatever its case: the organisations of kind funder, or named exactly as in the file."""
    found: dict[str, Organisation] = {}
    candidates = list(Organisation.objects.filter(kind=Organisation.Kind.FUNDER))
    for chunk in chunks(names):
        candidates += Organisation.objects.filter(name__in=chunk).exclude(kind=Organisation.Kind.FUNDER)
    # Funders first, then by age: a funder of that name wins over a company that shares it.
    for organisation in sorted(candidates, key=lambda o: (o.kind != Organisation.Kind.FUNDER, o.pk)):
        found.setdefault(name_key(organisation.name), organisation)
    return found


@dataclass
class _Codes:
    """The codes and names a file mentions, read leniently (the checks report the bad ones)."""

    projects: set[str] = field(default_factory=set)
    territories: set[str] = field(default_factory=set)
    communes: set[str] = field(default_factory=set)
    sirens: set[str] = field(default_factory=set)
    owner_names: set[str] = field(default_factory=set)
    funder_names: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, tables: ProjectTables, parsers: CellParsers) -> _Codes:
        codes = cls()
        for row in tables.projects.rows:
            codes.projects.add(text(row.get(ID_PROJET)))
            codes.owner_names.add(text(row.get(OWNER_NAME)))
            for values, column, parse in (
                (codes.territories, ID_TI, lambda value: parsers.id_ti(value).code),
                (codes.communes, COMMUNE, parsers.commune),
                (codes.sirens, OWNER_SIREN, parsers.siren),
            ):
                with contextlib.suppress(ParseError, AttributeError):
                    values.add(parse(row.get(column)))
        for row in tables.funding.rows if tables.funding else ():
            codes.projects.add(text(row.get(FUNDING_ID)))
            codes.funder_names.add(text(row.get(FUNDER)))
        for values in (codes.projects, codes.territories, codes.communes, codes.sirens, codes.owner_names):
            values.discard(None)
            values.discard("")
        codes.funder_names.discard("")
        return codes


def _territories(codes: set[str]) -> dict[str, TerritoryInfo]:
    territories = {
        code: TerritoryInfo(pk, code) for pk, code in Territory.objects.filter(code__in=codes).values_list("pk", "code")
    }
    by_pk = {info.pk: info for info in territories.values()}
    for territory_id, siren in Territory.epcis.through.objects.filter(territory_id__in=list(by_pk)).values_list(
        "territory_id", "epci_id"
    ):
        by_pk[territory_id].epcis.add(siren)
    for territory_id, phase_id in Territory.phases.through.objects.filter(territory_id__in=list(by_pk)).values_list(
        "territory_id", "programmephase_id"
    ):
        by_pk[territory_id].phases.add(phase_id)
    return territories


def _existing_projects(ids: set[str]) -> dict[str, Project]:
    """The projects of these ids, each with `theme_ids` and `loaded_funding` (its lines, funders attached)."""
    projects: dict[str, Project] = {}
    for chunk in chunks(ids):
        for project in Project.objects.filter(id_projet__in=chunk).select_related("owner"):
            project.theme_ids = set()
            project.loaded_funding = []
            projects[project.id_projet] = project
    by_pk = {project.pk: project for project in projects.values()}
    for chunk in chunks(by_pk):
        for project_id, theme_id in Project.themes.through.objects.filter(project_id__in=chunk).values_list(
            "project_id", "theme_id"
        ):
            by_pk[project_id].theme_ids.add(theme_id)
        for line in FundingLine.objects.filter(project_id__in=chunk).select_related("funder").order_by("pk"):
            by_pk[line.project_id].loaded_funding.append(line)
    return projects


def text(value: Any) -> str:
    """A text cell: a number typed in it loses its '.0', an empty cell is ''."""
    if type(value) is str:
        return value.strip()
    if is_empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def display_date(value: datetime.date) -> str:
    return value.strftime("%d/%m/%Y")


class ProjectChecker:
    """Turns the rows of the tables into drafts, collecting every error with its row and column."""

    def __init__(self, tables: ProjectTables, referential: Referential) -> None:
        self.tables = tables
        self.ref = referential
        self.columns = set(tables.projects.columns)
        self.errors: list[RowError] = []
        self.first_row_of: dict[str, int] = {}  # id_projet → the row that gave it first
        self.first_funding_row: dict[tuple, int] = {}
        self.theme_cache: dict[str, tuple] = {}
        self.parsers = referential.parsers
        self.status_of: dict[str, str | None] = {}  # cell text → status code (None: unknown)
        self.themes_named: dict[tuple, list] = {}  # cell → [(token, its themes or None if unknown, their phases)]

    def error(self, row: Row, column: str, message: str) -> None:
        self.errors.append(RowError(row.number, column, message))

    def funding_error(self, row: Row, column: str, message: str) -> None:
        where = self.tables.funding_label
        self.errors.append(RowError(row.number, column, f"{where[:1].upper()}{where[1:]} : {message}"))

    def check(self, progress: Progress | None = None) -> CheckedFile:
        drafts = []
        total = len(self.tables.projects.rows)
        for index, row in enumerate(self.tables.projects.rows, start=1):
            draft = self.check_project(row)
            if draft is not None:
                drafts.append(draft)
            if progress and index % EVERY_ROWS == 0:
                progress(_("Vérification des lignes"), done=index, total=total)
        funding = []
        for row in self.tables.funding.rows if self.tables.funding else ():
            line = self.check_funding(row)
            if line is not None:
                funding.append(line)
        return CheckedFile(total, drafts, funding, self.ref.existing, self.errors)

    # --- a project row --------------------------------------------------------------------------------------------

    def check_project(self, row: Row) -> ProjectDraft | None:
        id_projet = self.id_projet(row)
        existing = self.ref.existing.get(id_projet) if id_projet is not INVALID else None
        if existing is not None and not self.may_edit(id_projet):
            self.error(row, ID_PROJET, self.out_of_scope(id_projet))
            id_projet = INVALID
        territory = self.territory(row, existing)
        fields: dict[str, Any] = {}
        values = [id_projet, territory]
        if territory is not INVALID:
            fields["territory_id"] = territory.pk
        values.append(self.title(row, fields))
        if DESCRIPTION in self.columns:
            fields["description"] = text(row.get(DESCRIPTION))
        values.append(self.status(row, fields))
        theme_ids = self.themes_and_phase(row, territory, existing, fields)
        values.append(theme_ids)
        owner = self.owner(row, existing)
        values.append(owner)
        values.append(self.commune(row, territory, fields))
        values.append(self.dates(row, fields))
        values.append(self.cost(row, fields))
        values.append(self.public(row, fields))
        if any(value is INVALID for value in values):
            return None
        return ProjectDraft(row.number, id_projet, existing, fields, theme_ids, owner)

    def id_projet(self, row: Row) -> Any:
        value = text(row.get(ID_PROJET))
        if not value:
            self.error(row, ID_PROJET, _("L'identifiant du projet (id_projet) est vide."))
            return INVALID
        if len(value) > MAX_LENGTHS[ID_PROJET]:
            self.error(row, ID_PROJET, self.too_long(MAX_LENGTHS[ID_PROJET]))
            return INVALID
        first = self.first_row_of.setdefault(value, row.number)
        if first != row.number:
            self.error(
                row,
                ID_PROJET,
                _("Le projet « %(id)s » figure déjà ligne %(row)s : une seule ligne par projet.")
                % {"id": value, "row": first},
            )
            return INVALID
        return value

    def parsed(self, row: Row, column: str, parse, report=None) -> Any:
        """The cell parsed, or INVALID once its error is reported."""
        try:
            return parse(row.get(column))
        except ParseError as error:
            (report or self.error)(row, column, error.message)
            return INVALID

    def may_edit(self, id_projet: str) -> bool:
        return self.ref.editable_projects is None or id_projet in self.ref.editable_projects

    def out_of_scope(self, id_projet: str) -> str:
        return _("Le projet « %(id)s » est hors de votre périmètre.") % {"id": id_projet}

    def too_long(self, limit: int) -> str:
        return _("Le texte dépasse %(limit)s caractères.") % {"limit": limit}

    def territory(self, row: Row, existing: Project | None) -> Any:
        code = self.parsed(row, ID_TI, self.parsers.id_ti)
        if code is INVALID:
            return INVALID
        if code is None:
            self.error(row, ID_TI, _("L'identifiant du territoire (id_ti) est vide."))
            return INVALID
        territory = self.ref.territories.get(code.code)
        if territory is None:
            self.error(
                row,
                ID_TI,
                _("Le territoire « %(code)s » est inconnu : importez-le d'abord (pilotage import_territories).")
                % {"code": code.code},
            )
            return INVALID
        moved = existing is None or existing.territory_id != territory.pk
        if moved and self.ref.editable_territories is not None and territory.code not in self.ref.editable_territories:
            self.error(
                row,
                ID_TI,
                _(
                    "Le territoire %(code)s est hors de votre périmètre : vous ne pouvez pas y créer ni y déplacer "
                    "de projet."
                )
                % {"code": territory.code},
            )
            return INVALID
        return territory

    def title(self, row: Row, fields: dict) -> Any:
        value = text(row.get(TITLE))
        if not value:
            self.error(row, TITLE, _("Le titre est vide."))
            return INVALID
        if len(value) > MAX_LENGTHS[TITLE]:
            self.error(row, TITLE, self.too_long(MAX_LENGTHS[TITLE]))
            return INVALID
        fields["title"] = value
        return value

    def status(self, row: Row, fields: dict) -> Any:
        value = text(row.get(STATUS))
        code = self.status_of.get(value, INVALID)
        if code is INVALID:
            code = self.status_of[value] = self.ref.statuses.get(column_key(value)) if value else None
        if code is None:
            labels = ", ".join(f"{code} ({label})" for code, label in ProjectStatus.choices)
            message = (
                _("Le statut « %(value)s » est inconnu (statuts : %(labels)s).") % {"value": value, "labels": labels}
                if value
                else _("Le statut est vide (statuts : %(labels)s).") % {"labels": labels}
            )
            self.error(row, STATUS, message)
            return INVALID
        fields["status"] = code
        return code

    def themes_and_phase(self, row: Row, territory: Any, existing: Project | None, fields: dict) -> Any:
        """The theme ids, and the project's phase in `fields["phase_id"]`; INVALID once reported."""
        named: list[tuple[str, list[Theme], set[int]]] = []
        for token, candidates, phases in self.theme_tokens(row.get(THEMES)):
            if not candidates:
                self.error(row, THEMES, self.unknown_theme(token, territory))
                return INVALID
            named.append((token, candidates, phases))
        if territory is INVALID:
            return INVALID
        if not named:
            phase = self.default_phase(row, territory, existing)
            if phase is INVALID:
                return INVALID
            fields["phase_id"] = phase
            return frozenset()
        return self.themes_of_one_phase(row, territory, named, fields)

    def theme_tokens(self, cell: Any) -> list[tuple[str, list[Theme] | None, set[int]]]:
        """The tokens of a `themes` cell, each with the themes it names (None: unknown) and their phases."""
        key = (type(cell), cell)
        try:
            return self.themes_named[key]
        except KeyError:
            pass
        except TypeError:  # not hashable
            key = None
        tokens = []
        for token in split_codes(cell):
            candidates = self.ref.themes.get(column_key(token))
            tokens.append((token, candidates, {theme.phase_id for theme in candidates or ()}))
        if key is not None:
            self.themes_named[key] = tokens
        return tokens

    def themes_of_one_phase(self, row: Row, territory: TerritoryInfo, named: list, fields: dict) -> Any:
        common = set(territory.phases)
        for token, _candidates, phases in named:
            if not phases & territory.phases:
                self.error(
                    row,
                    THEMES,
                    _(
                        "Le thème « %(theme)s » est de la phase %(phase)s, qui n'est pas une phase du territoire "
                        "%(code)s (%(phases)s)."
                    )
                    % {
                        "theme": token,
                        "phase": self.phase_codes(phases),
                        "code": territory.code,
                        "phases": self.phase_codes(territory.phases) or _("aucune phase"),
                    },
                )
                return INVALID
            common &= phases
        if not common:
            self.error(
                row,
                THEMES,
                _("Les thèmes « %(themes)s » sont de phases différentes : un projet relève d'une seule phase.")
                % {"themes": " ; ".join(token for token, _candidates, _phases in named)},
            )
            return INVALID
        # A token naming themes of two phases of the territory (a label reused): the latest phase.
        phase = max(common, key=lambda pk: self.ref.phases[pk].starts_on)
        fields["phase_id"] = phase
        return frozenset(
            theme.pk for _token, candidates, _phases in named for theme in candidates if theme.phase_id == phase
        )

    def default_phase(self, row: Row, territory: Any, existing: Project | None) -> Any:
        """Without themes: the territory's only phase, or the existing project's phase if it is one of them."""
        if territory is INVALID:
            return INVALID
        if existing is not None and existing.phase_id in territory.phases:
            return existing.phase_id
        if len(territory.phases) == 1:
            return next(iter(territory.phases))
        if not territory.phases:
            message = _("Le territoire %(code)s n'a aucune phase du programme : importez d'abord ses phases.") % {
                "code": territory.code
            }
            self.error(row, ID_TI, message)
        else:
            self.error(
                row,
                THEMES,
                _("Le territoire %(code)s a plusieurs phases (%(phases)s) : indiquez les thèmes du projet.")
                % {"code": territory.code, "phases": self.phase_codes(territory.phases)},
            )
        return INVALID

    def phase_codes(self, phase_ids) -> str:
        phases = sorted((self.ref.phases[pk] for pk in phase_ids), key=lambda phase: phase.starts_on)
        return ", ".join(phase.code for phase in phases)

    def unknown_theme(self, token: str, territory: Any) -> str:
        phase_ids = territory.phases if territory is not INVALID and territory.phases else set(self.ref.phases)
        known = sorted(
            {theme.code for themes in self.ref.themes.values() for theme in themes if theme.phase_id in phase_ids}
        )
        return _("Le thème « %(theme)s » est inconnu (thèmes : %(known)s).") % {
            "theme": token,
            "known": ", ".join(known),
        }

    def owner(self, row: Row, existing: Project | None) -> Any:
        if OWNER_NAME not in self.columns and OWNER_SIREN not in self.columns:
            return KEEP
        name = " ".join(text(row.get(OWNER_NAME)).split())
        siren = self.parsed(row, OWNER_SIREN, self.parsers.siren) or ""
        if siren is INVALID:
            return INVALID
        if len(name) > MAX_LENGTHS[OWNER_NAME]:
            self.error(row, OWNER_NAME, self.too_long(MAX_LENGTHS[OWNER_NAME]))
            return INVALID
        if not (name or siren):
            return None
        current = existing.owner if existing is not None else None
        if siren:
            found = current if current is not None and current.siren == siren else self.ref.owners_by_siren.get(siren)
            if found is None and not name:
                self.error(
                    row,
                    OWNER_NAME,
                    _("Le nom du porteur est vide : il faut un nom pour créer l'organisation de SIREN %(siren)s.")
                    % {"siren": siren},
                )
                return INVALID
            if found is None:
                return OrganisationRef(None, name, siren, Organisation.Kind.COMPANY)
        else:
            found = current if current is not None and current.name == name else self.ref.owners_by_name.get(name)
            if found is None:
                return OrganisationRef(None, name, "", Organisation.Kind.OTHER)
        return OrganisationRef(found.pk, found.name, found.siren, found.kind)

    def commune(self, row: Row, territory: Any, fields: dict) -> Any:
        if COMMUNE not in self.columns:
            return KEEP
        insee = self.parsed(row, COMMUNE, self.parsers.commune)
        if insee is INVALID:
            return INVALID
        if insee is not None:
            if insee not in self.ref.communes:
                self.error(row, COMMUNE, _("La commune %(insee)s est inconnue du référentiel.") % {"insee": insee})
                return INVALID
            epci, name = self.ref.communes[insee]
            if territory is not INVALID and epci not in territory.epcis:
                self.error(
                    row,
                    COMMUNE,
                    _("La commune %(insee)s (%(name)s) n'est pas dans le périmètre du territoire %(code)s.")
                    % {"insee": insee, "name": name, "code": territory.code},
                )
                return INVALID
        fields["commune_id"] = insee
        return insee

    def dates(self, row: Row, fields: dict) -> Any:
        valid = True
        for column, name in DATE_FIELDS.items():
            if column not in self.columns:
                continue
            fields[name] = self.parsed(row, column, self.parsers.date)
            valid = valid and fields[name] is not INVALID
        start, end = fields.get("start_on"), fields.get("end_on")
        if valid and start and end and end < start:
            self.error(
                row,
                END_ON,
                _("La date de fin (%(end)s) est antérieure à la date de début (%(start)s).")
                % {"end": display_date(end), "start": display_date(start)},
            )
            valid = False
        return None if valid else INVALID

    def amount(self, row: Row, column: str, report) -> Any:
        value = self.parsed(row, column, parse_amount, report)
        if value is INVALID:
            return INVALID
        if value is not None and value < 0:
            message = _("%(label)s ne peut pas être négatif (« %(value)s »).")
            report(row, column, message % {"label": AMOUNT_LABELS[column](), "value": row.get(column)})
            return INVALID
        return None if value is None else value.quantize(CENTS)

    def cost(self, row: Row, fields: dict) -> Any:
        if TOTAL_COST not in self.columns:
            return KEEP
        value = self.amount(row, TOTAL_COST, self.error)
        if value is not INVALID:
            fields["total_cost"] = value
        return value

    def public(self, row: Row, fields: dict) -> Any:
        if PUBLIC not in self.columns:
            return KEEP
        value = self.parsed(row, PUBLIC, self.parsers.bool)
        if value not in (None, INVALID):
            fields["public"] = value
        return value

    # --- a funding row --------------------------------------------------------------------------------------------

    def check_funding(self, row: Row) -> FundingDraft | None:
        report = self.funding_error
        valid = True
        id_projet = text(row.get(FUNDING_ID))
        if not id_projet:
            report(row, FUNDING_ID, _("L'identifiant du projet (id_projet) est vide."))
            valid = False
        elif id_projet not in self.first_row_of:
            existing = self.ref.existing.get(id_projet)
            if existing is None:
                report(
                    row,
                    FUNDING_ID,
                    _("Le projet « %(id)s » n'est ni dans le fichier ni sur la plateforme.") % {"id": id_projet},
                )
                valid = False
            elif not self.may_edit(id_projet):
                report(row, FUNDING_ID, self.out_of_scope(id_projet))
                valid = False
        funder = " ".join(text(row.get(FUNDER)).split())
        if not funder:
            report(row, FUNDER, _("Le nom du financeur est vide."))
            valid = False
        instrument = text(row.get(INSTRUMENT))
        for column, value in ((FUNDER, funder), (INSTRUMENT, instrument)):
            if len(value) > MAX_LENGTHS[column]:
                report(row, column, self.too_long(MAX_LENGTHS[column]))
                valid = False
        if id_projet and funder and not self.first_funding_line(row, id_projet, funder, instrument):
            valid = False
        fields: dict[str, Any] = {}
        for column, name in AMOUNT_FIELDS.items():
            if column in self.tables.funding.columns:
                fields[name] = self.amount(row, column, report)
                valid = valid and fields[name] is not INVALID
        if DECIDED_ON in self.tables.funding.columns:
            fields["decided_on"] = self.parsed(row, DECIDED_ON, self.parsers.date, report)
            valid = valid and fields["decided_on"] is not INVALID
        if not valid:
            return None
        return FundingDraft(row.number, id_projet, self.funder(funder), instrument, fields)

    def first_funding_line(self, row: Row, id_projet: str, funder: str, instrument: str) -> bool:
        """A funding line is (project, funder, instrument): twice in a file is an error on the second one."""
        first = self.first_funding_row.setdefault((id_projet, name_key(funder), instrument), row.number)
        if first != row.number:
            self.funding_error(
                row,
                INSTRUMENT,
                _(
                    "Le financement de « %(id)s » par « %(funder)s » (dispositif « %(instrument)s ») figure déjà "
                    "ligne %(row)s."
                )
                % {"id": id_projet, "funder": funder, "instrument": instrument, "row": first},
            )
        return first == row.number

    def funder(self, name: str) -> OrganisationRef:
        found = self.ref.funders.get(name_key(name))
        if found is None:
            return OrganisationRef(None, name, "", Organisation.Kind.FUNDER)
        return OrganisationRef(found.pk, found.name, found.siren, Organisation.Kind.FUNDER)


def check_tables(tables: ProjectTables, *, user=None, progress: Progress | None = None) -> CheckedFile:
    """Validate every row against the database (read only). Errors are in the result, never raised."""
    referential = Referential.load(tables, user)
    return ProjectChecker(tables, referential).check(progress)
