"""Loading and wiping the demonstration programme (`pilotage load_demo`).

Built for volume (scale 100 = 300,000 projects, 1,000,000 funding lines): the referential is read once, no query
runs per territory or per project, territories, organisations and projects are written with `bulk_create` (their
primary keys come back from the insert on PostgreSQL and SQLite ≥ 3.35), and the ten or so rows under each project
with COPY (PostgreSQL) or multi-row INSERTs. Projects are generated and flushed by chunks, so memory stays bounded.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, models, transaction

from pilotage.core.text import fold
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory, Theme
from pilotage.projects.models import (
    FundingLine,
    Indicator,
    IndicatorValue,
    Milestone,
    Organisation,
    Project,
    ProjectStatusChange,
)

from . import catalogue as cat
from .programme import ProgrammeBuilder, TerritoryRecords, between, days, phase1_tracks
from .projects import CHILD_COLUMNS, Batch, Shared, Slot, TerritoryProjects, allocate
from .territories import Referential, TerritorySpec, plan_territories

BATCH_SIZE = 1000
CHUNK_PROJECTS = 5000  # projects generated before their rows are flushed: bounds memory at any scale
DEFAULT_SEED = 2018

Say = Callable[[str], None]


class DemoError(Exception):
    """A French message for the person who ran the command."""


@dataclass
class LoadSummary:
    territories: int = 0
    projects: int = 0
    funding_lines: int = 0
    organisations: int = 0
    seconds: float = 0.0


def refresh_figures() -> None:
    from pilotage.stats.ledger import refresh

    refresh()


def has_demo_data() -> bool:
    return Territory.objects.filter(is_demo=True).exists()


def load_demo(
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    projects_per_territory: int | None = None,
    warn: Say = print,
    progress: Say = print,
) -> LoadSummary:
    """Generate the demo programme into the database, in one transaction. Same seed, same content."""
    if scale < 1:
        raise DemoError("L'échelle (--scale) doit être un entier supérieur ou égal à 1.")
    started = time.perf_counter()
    with transaction.atomic():
        if has_demo_data():
            raise DemoError(
                "Des données de démonstration sont déjà chargées : relancez avec --reset pour les remplacer."
            )
        ref = Referential.from_database()
        if not ref.epcis:
            raise DemoError("Le référentiel est vide : lancez d'abord « pilotage load_referential ».")
        phases = _phases()
        specs = plan_territories(ref, seed, scale, warn)
        _refuse_clashes(specs)
        summary = LoadSummary(territories=len(specs))
        territories, records = _write_territories(ref, phases, specs, seed)
        progress(f"Territoires : {len(specs)} créés ({time.perf_counter() - started:.1f} s)")
        shared = _shared(ref, phases, specs)
        slots = _slots(ref, specs, records, seed, projects_per_territory)
        _write_projects(shared, specs, territories, records, slots, seed, summary, progress, started)
        refresh_figures()
        progress(f"Totaux des chiffres du programme calculés ({time.perf_counter() - started:.1f} s)")
    _analyse()
    summary.seconds = time.perf_counter() - started
    return summary


def _phases() -> dict[str, ProgrammePhase]:
    phases = {p.code: p for p in ProgrammePhase.objects.filter(code__in=[cat.PHASE_1, cat.PHASE_2])}
    if len(phases) < 2:
        raise DemoError("Les phases 2018-2022 et 2023-2027 n'existent pas : lancez d'abord « pilotage migrate ».")
    return phases


def _refuse_clashes(specs: list[TerritorySpec]) -> None:
    taken = set(Territory.objects.values_list("code", flat=True))
    clashes = sorted(taken.intersection(spec.code for spec in specs))
    if clashes:
        raise DemoError(
            "Ces identifiants de territoire existent déjà hors démonstration : "
            f"{', '.join(clashes[:10])}{' …' if len(clashes) > 10 else ''}. Données de démonstration non chargées."
        )


# --- territories --------------------------------------------------------------------------------


def _write_territories(
    ref: Referential, phases: dict[str, ProgrammePhase], specs: list[TerritorySpec], seed: int
) -> tuple[dict[str, Territory], dict[str, TerritoryRecords]]:
    builder = ProgrammeBuilder(ref, phases, seed, phase1_tracks(specs, seed))
    territories: dict[str, Territory] = {}
    records: dict[str, TerritoryRecords] = {}
    for spec in specs:
        epcis = [ref.epcis[siren] for siren in spec.epcis]
        territory = Territory(
            code=spec.code,
            name=spec.name,
            region_id=spec.region,
            is_demo=True,
            population=sum(e.population for e in epcis),
            communes_count=sum(len(e.communes) for e in epcis),
            search_text=fold(" ".join([spec.code, spec.name, *(e.name for e in epcis)])),
        )
        records[spec.code] = builder.build(spec, territory)
        territory.governance_installed_on = records[spec.code].governance_on
        territories[spec.code] = territory
    Territory.objects.bulk_create(territories.values(), batch_size=BATCH_SIZE)
    _insert_rows(
        Territory.phases.through,
        ("territory", "programmephase"),
        [(territories[s.code], phases[p].pk) for s in specs for p in s.phases],
    )
    _insert_rows(
        Territory.epcis.through, ("territory", "epci"), [(territories[s.code], e) for s in specs for e in s.epcis]
    )
    _insert(GovernanceMember, (m for r in records.values() for m in r.members))
    _insert(Contract, (c for r in records.values() for c in r.contracts))
    _insert(ActionPlan, (p for r in records.values() for p in r.plans))
    return territories, records


def _insert(model: type[models.Model], rows: Iterable[models.Model]) -> int:
    rows = list(rows)
    model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


# --- how many projects, reported when -----------------------------------------------------------


def _slots(
    ref: Referential,
    specs: list[TerritorySpec],
    records: dict[str, TerritoryRecords],
    seed: int,
    per_territory: int | None,
) -> dict[str, list[Slot]]:
    """The article's count of projects reported by 2019-11-19, the rest of phase 1 later, then phase 2."""
    phase1 = [s for s in specs if cat.PHASE_1 in s.phases]
    phase2 = [s for s in specs if cat.PHASE_2 in s.phases]
    early_ok = {s.code for s in phase1 if records[s.code].governance_on <= cat.ASSEMBLY_ON}
    if per_territory is not None:
        early = {s.code: math.ceil(per_territory / 2) if s.code in early_ok else 0 for s in phase1}
        late = {s.code: per_territory - early[s.code] for s in phase1}
        second = {s.code: per_territory for s in phase2}
    else:
        weight = {s.code: _weight(ref, s, seed) for s in specs}
        ratio = len(phase1) / cat.NATIONAL_TERRITORIES
        assembly = sorted(s.code for s in phase1 if s.signed_at_assembly and s.code in early_ok)
        in_assembly = max(len(assembly), round(cat.ASSEMBLY_PROJECTS * len(assembly) / 11))
        early = allocate(in_assembly - len(assembly), {c: weight[c] for c in assembly})
        early = {code: count + 1 for code, count in early.items()}  # each has at least the project it signed for
        others = {c: weight[c] for c in sorted(early_ok) if c not in early}
        early |= allocate(max(0, round(cat.PROJECTS_REPORTED * ratio) - in_assembly), others)
        late = allocate(round(cat.PROJECTS_REPORTED_LATER * ratio), {s.code: weight[s.code] for s in phase1})
        second = allocate(
            round(cat.PHASE_2_PROJECTS_PER_TERRITORY * len(phase2)), {s.code: weight[s.code] for s in phase2}
        )
    slots: dict[str, list[Slot]] = {}
    for spec in specs:
        rng = random.Random(f"{seed}/{spec.code}/reported")
        gov = records[spec.code].governance_on
        windows = (
            (cat.PHASE_1, early.get(spec.code, 0), max(gov, cat.LAUNCHED_ON + days(46)), cat.ASSEMBLY_ON),
            (cat.PHASE_1, late.get(spec.code, 0), max(gov, cat.ASSEMBLY_ON + days(1)), cat.PHASE_1_REPORTING_ENDS),
            (cat.PHASE_2, second.get(spec.code, 0), max(gov, cat.PHASE_2_REPORTING_STARTS), cat.SNAPSHOT_ON - days(20)),
        )
        slots[spec.code] = [
            Slot(phase, between(rng, start, end)) for phase, count, start, end in windows for _ in range(count)
        ]
    return slots


def _weight(ref: Referential, spec: TerritorySpec, seed: int) -> float:
    """Bigger territories report more projects, with a good deal of local variation."""
    population = sum(ref.epcis[siren].population for siren in spec.epcis)
    return random.Random(f"{seed}/{spec.code}/weight").gammavariate(3.0, 1.0) * (population / 50_000 + 0.5) ** 0.3


# --- projects -----------------------------------------------------------------------------------


def _shared(ref: Referential, phases: dict[str, ProgrammePhase], specs: list[TerritorySpec]) -> Shared:
    themes: dict[str, list[Theme]] = {code: [] for code in phases}
    for theme in (
        Theme.objects.filter(phase__in=phases.values())
        .select_related("phase")
        .order_by("phase__code", "position", "code")
    ):
        themes[theme.phase.code].append(theme)
    if not all(themes.values()):
        raise DemoError("Une phase du programme n'a aucun thème : impossible de classer les projets.")
    indicators = {}
    for phase_code, phase in phases.items():
        for code, label, unit in cat.INDICATORS:
            indicators[(phase_code, code)] = Indicator.objects.get_or_create(
                phase=phase, code=code, defaults={"label": label, "unit": unit}
            )[0]
    authorities = Organisation.objects.filter(kind=Organisation.Kind.LOCAL_AUTHORITY).exclude(siren="")
    return Shared(
        ref=ref,
        phases=phases,
        themes=themes,
        funders=_funders(ref, specs),
        indicators=indicators,
        sirens=set(Organisation.objects.exclude(siren="").values_list("siren", flat=True)) | set(ref.epcis),
        epci_owners={org.siren: org for org in authorities if org.siren in ref.epcis},
    )


def _funders(ref: Referential, specs: list[TerritorySpec]) -> dict[str, Organisation]:
    """The funders, found by name or created: they are shared reference data, kept by --reset."""
    regions = sorted({spec.region for spec in specs})
    names = sorted(
        {name for phase in cat.FUNDERS.values() for name in phase if name != cat.REGION_FUNDER}
        | {cat.REGION_FUNDER.format(region=ref.regions.get(code, code)) for code in regions}
    )
    found: dict[str, Organisation] = {}
    for org in Organisation.objects.filter(kind=Organisation.Kind.FUNDER, name__in=names).order_by("pk"):
        found.setdefault(org.name, org)
    missing = [Organisation(name=name, kind=Organisation.Kind.FUNDER) for name in names if name not in found]
    Organisation.objects.bulk_create(missing)
    return found | {org.name: org for org in missing}


def _write_projects(
    shared: Shared,
    specs: list[TerritorySpec],
    territories: dict[str, Territory],
    records: dict[str, TerritoryRecords],
    slots: dict[str, list[Slot]],
    seed: int,
    summary: LoadSummary,
    progress: Say,
    started: float,
) -> None:
    total = sum(len(s) for s in slots.values())
    batch = Batch()
    for spec in specs:
        generator = TerritoryProjects(shared, spec, territories[spec.code], seed, records[spec.code].project_manager)
        generator.generate(slots[spec.code], batch)
        if len(batch.projects) >= CHUNK_PROJECTS:
            _flush(batch, summary)
            progress(f"Projets : {summary.projects} / {total} ({time.perf_counter() - started:.1f} s)")
            batch = Batch()
    _flush(batch, summary)
    progress(f"Projets : {summary.projects} / {total} ({time.perf_counter() - started:.1f} s)")


def _flush(batch: Batch, summary: LoadSummary) -> None:
    summary.organisations += _insert(Organisation, batch.organisations)
    summary.projects += _insert(Project, batch.projects)
    for model, rows in batch.children.items():
        _insert_rows(model, CHILD_COLUMNS[model], rows)
    summary.funding_lines += len(batch.children[FundingLine])


def _insert_rows(model: type[models.Model], names: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows whose first item is a saved object (its key is taken) and the others field values.

    PostgreSQL gets them through COPY; other engines through multi-row INSERTs of at most 999 parameters (the most
    conservative SQLite limit), dates and decimals adapted by the backend's own functions, as the ORM would.
    """
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row[0].pk, *row[1:]))
            return
        adapters = [(index, _adapter(field)) for index, field in enumerate(fields) if index and _adapter(field)]
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = 999 // len(fields)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list = []
            for row in chunk:
                row = [row[0].pk, *row[1:]]
                for index, adapt in adapters:
                    row[index] = adapt(row[index])
                params.extend(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([placeholder] * len(chunk)), params)


def _adapter(field: models.Field) -> Callable | None:
    if isinstance(field, models.DecimalField):
        ops = connection.ops
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    if isinstance(field, models.DateField):  # DateTimeField included
        memo: dict = {None: None}

        def adapt(value):
            if value not in memo:
                memo[value] = field.get_db_prep_save(value, connection)
            return memo[value]

        return adapt
    return None


# --- wiping -------------------------------------------------------------------------------------


def wipe_demo() -> int:
    """Delete the demo territories and everything hanging from them; returns how many territories went.

    Rows go by chunks of primary keys, children first, so that every DELETE uses an index and memory stays bounded
    whatever the scale. Owners created for the demo go when nothing references them any more; funders and indicators
    are reference data and stay.
    """
    with transaction.atomic():
        territory_ids = list(Territory.objects.filter(is_demo=True).order_by("pk").values_list("pk", flat=True))
        project_ids = (
            list(Project.objects.filter(territory_id__in=territory_ids).order_by("pk").values_list("pk", flat=True))
            if territory_ids
            else []
        )
        owner_ids: set[int] = set()
        for chunk in _chunks(project_ids):
            owner_ids.update(
                Project.objects.filter(pk__in=chunk, owner__isnull=False).values_list("owner_id", flat=True)
            )
            for model in (IndicatorValue, Milestone, FundingLine, ProjectStatusChange, Project.themes.through):
                model.objects.filter(project_id__in=chunk).delete()
            Project.objects.filter(pk__in=chunk).delete()
        for chunk in _chunks(territory_ids):
            for model in (GovernanceMember, Contract, ActionPlan, Territory.phases.through, Territory.epcis.through):
                model.objects.filter(territory_id__in=chunk).delete()
            Territory.objects.filter(pk__in=chunk).delete()
        for chunk in _chunks(sorted(owner_ids)):
            Organisation.objects.filter(pk__in=chunk, projects__isnull=True, funding_lines__isnull=True).delete()
    return len(territory_ids)


def _chunks(ids: list[int], size: int = 2000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _analyse() -> None:
    """Fresh statistics after a bulk load, or PostgreSQL plans the next queries as if the tables were empty."""
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table
        for model in (
            Territory,
            Territory.epcis.through,
            Territory.phases.through,
            GovernanceMember,
            Contract,
            ActionPlan,
            Organisation,
            Project,
            *CHILD_COLUMNS,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))
