"""Loading the official referential shipped in `geo/data/` (built by `scripts/build_referential.py`).

The load is a create-or-update by official code in one transaction: re-running it changes nothing, and records that
left the referential are kept (projects may point at them) rather than deleted.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction

from pilotage.geo.models import Commune, Department, Epci, Region

DATA_DIR = Path(__file__).resolve().parent / "data"
REFERENTIAL_FILE = DATA_DIR / "referential.json.gz"
EPCI_SHAPES_FILE = DATA_DIR / "epci-shapes.geojson.gz"
REGION_OUTLINES_FILE = DATA_DIR / "regions.geojson.gz"
DEPARTMENT_OUTLINES_FILE = DATA_DIR / "departments.geojson.gz"

Row = dict[str, Any]


def read_gzip_json(path: Path) -> Any:
    with gzip.open(path, "rb") as handle:
        return json.loads(handle.read())


@dataclass(frozen=True, eq=False)  # hashed by identity, for the slice cache
class Referential:
    """The shipped data as rows keyed by model field attname, ready for the database."""

    regions: list[Row]
    departments: list[Row]
    epcis: list[Row]
    communes: list[Row]


@functools.cache
def read_referential() -> Referential:
    """Parsed once per process: tests load a slice per test and only pay for the inserts."""
    data = read_gzip_json(REFERENTIAL_FILE)
    shapes = read_epci_shapes()
    return Referential(
        regions=[{"code": code, "name": name} for code, name in data["regions"]],
        departments=[{"code": code, "name": name, "region_id": region} for code, name, region in data["departments"]],
        epcis=[
            {"siren": siren, "name": name, "kind": kind, "population": population, "geometry": shapes.get(siren)}
            for siren, name, kind, population in data["epci"]
        ],
        communes=[
            {"insee": insee, "name": name, "department_id": dep, "epci_id": epci, "population": population}
            for insee, name, dep, epci, population in data["communes"]
        ],
    )


def read_epci_shapes() -> dict[str, dict]:
    """SIREN -> GeoJSON geometry; empty when the shapes have not been built (the referential still loads)."""
    if not EPCI_SHAPES_FILE.exists():
        return {}
    return {f["properties"]["siren"]: f["geometry"] for f in read_gzip_json(EPCI_SHAPES_FILE)["features"]}


@functools.cache
def read_outlines(kind: str) -> dict:
    """Region (18) or department (101) outlines, overseas included: a GeoJSON FeatureCollection (`code`, `name`).

    They share their borders with the EPCI shapes (one topology), so layers drawn together line up.
    """
    path = {"regions": REGION_OUTLINES_FILE, "departments": DEPARTMENT_OUTLINES_FILE}[kind]
    return read_gzip_json(path)


@dataclass
class SyncCount:
    total: int = 0
    created: int = 0
    updated: int = 0


@dataclass
class LoadReport:
    counts: dict[str, SyncCount] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(count.created or count.updated for count in self.counts.values())


def select_slice(referential: Referential, departments: Iterable[str] | None) -> Referential:
    """All regions and departments; the EPCI with a commune in `departments`, their communes and those departments'."""
    if departments is None:
        return referential
    return _slice(referential, frozenset(departments))


@functools.cache
def _slice(referential: Referential, wanted: frozenset[str]) -> Referential:
    unknown = wanted - {row["code"] for row in referential.departments}
    if unknown:
        raise ValueError(f"Départements inconnus : {', '.join(sorted(unknown))}")
    sirens = {row["epci_id"] for row in referential.communes if row["department_id"] in wanted} - {None}
    return Referential(
        regions=referential.regions,
        departments=referential.departments,
        epcis=[row for row in referential.epcis if row["siren"] in sirens],
        communes=[
            row
            for row in referential.communes
            if row["epci_id"] in sirens or (row["epci_id"] is None and row["department_id"] in wanted)
        ],
    )


def sync(model: type[models.Model], rows: list[Row]) -> SyncCount:
    """Create the missing rows and update the ones that differ, comparing field values already in the database."""
    pk = model._meta.pk.attname
    fields = [name for name in rows[0] if name != pk] if rows else []
    existing = {row[pk]: row for row in model.objects.values(pk, *fields)} if rows else {}
    to_create, to_update = [], []
    for row in rows:
        current = existing.get(row[pk])
        if current is None:
            to_create.append(model(**row))
        elif any(current[name] != row[name] for name in fields):
            to_update.append(model(**row))
    model.objects.bulk_create(to_create, batch_size=500)
    model.objects.bulk_update(to_update, fields, batch_size=200)
    return SyncCount(total=len(rows), created=len(to_create), updated=len(to_update))


def load_referential(departments: Iterable[str] | None = None) -> LoadReport:
    """Load the whole referential, or the slice around `departments` (INSEE codes, e.g. ["54", "57"])."""
    data = select_slice(read_referential(), departments)
    report = LoadReport()
    with transaction.atomic():
        report.counts["regions"] = sync(Region, data.regions)
        report.counts["departments"] = sync(Department, data.departments)
        report.counts["epcis"] = sync(Epci, data.epcis)
        report.counts["communes"] = sync(Commune, data.communes)
    return report
