"""Exports in the published file format (opendata.schema): CSV and XLSX re-import as `unchanged`.

Text that a spreadsheet would execute (starting with =, +, -, @) is neutralised: in CSV with a leading
apostrophe (removed again on import), in XLSX by typing the cell as text.
"""

import csv
import datetime
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from pilotage.core.progress import Progress, counted
from pilotage.programme.models import ActionPlan, Contract, Territory
from pilotage.projects.models import FundingLine, Project

from .schema import FUNDING, PROJECTS, TERRITORIES, Resource, neutralise

FORMATS = ("csv", "xlsx", "json", "geojson")
CHUNK = 2000


def _cell(value) -> str | int | float | bool | None:
    """A value as the Table Schema types it: ISO dates, plain decimals, true/false."""
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def project_rows(projects: QuerySet[Project]) -> Iterator[dict]:
    qs = projects.select_related("territory", "owner", "commune").prefetch_related("themes").order_by("id_projet")
    for p in qs.iterator(chunk_size=CHUNK):
        yield {
            "id_projet": p.id_projet,
            "id_ti": p.territory.code,
            "titre": p.title,
            "description": p.description,
            "themes": ";".join(sorted(t.code for t in p.themes.all())),
            "statut": p.status,
            "porteur_nom": p.owner.name if p.owner else "",
            "porteur_siren": p.owner.siren if p.owner else "",
            "commune_insee": p.commune_id or "",
            "date_remontee": p.reported_on,
            "date_debut": p.start_on,
            "date_fin": p.end_on,
            "cout_total": p.total_cost,
            "public": p.public,
        }


def funding_rows(projects: QuerySet[Project]) -> Iterator[dict]:
    lines = (
        FundingLine.objects.filter(project__in=projects.values("pk"))
        .select_related("project", "funder")
        .order_by("project__id_projet", "funder__name", "instrument", "pk")
    )
    for line in lines.iterator(chunk_size=CHUNK):
        yield {
            "id_projet": line.project.id_projet,
            "financeur": line.funder.name,
            "dispositif": line.instrument,
            "montant_demande": line.requested,
            "montant_accorde": line.granted,
            "date_decision": line.decided_on,
        }


def territory_rows(territories: QuerySet[Territory]) -> Iterator[dict]:
    """One row per (territory, EPCI), as the ANCT files, with the milestones of its current phase repeated.

    The file format has one phase per territory (the import requires its rows to agree): a territory in both
    phases is exported with its latest one, so that the file re-imports unchanged.
    """
    qs = territories.order_by("code").prefetch_related(
        "epcis",
        "phases",
        Prefetch("contracts", queryset=Contract.objects.select_related("phase")),
        Prefetch("action_plans", queryset=ActionPlan.objects.select_related("phase").order_by("-version")),
    )
    for t in qs.iterator(chunk_size=500):
        phase = max(t.phases.all(), key=lambda p: p.starts_on, default=None)
        signed = {c.kind: c.signed_on for c in t.contracts.all() if phase and c.phase_id == phase.pk}
        plans = [p for p in t.action_plans.all() if phase and p.phase_id == phase.pk]
        validated = next((p.decided_on for p in plans if p.status == ActionPlan.Status.VALIDATED), None)
        expected = plans[0].expected_validation_on if plans else None
        for epci in sorted(t.epcis.all(), key=lambda e: e.siren):
            yield {
                "id_ti": t.code,
                "lib_ti": t.name,
                "siren_groupement": epci.siren,
                "lib_groupement": epci.name,
                "phase": phase.code if phase else None,
                "date_gouvernance": t.governance_installed_on,
                "date_protocole": signed.get(Contract.Kind.PROTOCOL),
                "date_contrat": signed.get(Contract.Kind.CONTRACT),
                "date_validation_plan": validated,
                "date_prevue_validation_plan": expected,
            }


def _csv_text(value) -> str:
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(str(value)) if isinstance(value, str) else str(value)


def write_csv(path: Path, resource: Resource, rows: Iterable[dict]) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(resource.names)
        for row in rows:
            writer.writerow([_csv_text(row[name]) for name in resource.names])
            count += 1
    return count


def write_xlsx(path: Path, sheets: list[tuple[Resource, Iterable[dict]]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    count = 0
    for resource, rows in sheets:
        sheet = workbook.create_sheet(resource.name)
        sheet.append(resource.names)
        for row in rows:
            cells = []
            for name in resource.names:
                value = _cell(row[name])
                if resource.column(name).type == "date" and value:
                    value = datetime.date.fromisoformat(value)
                # An empty cell is written (as empty text): a write-only sheet has no dimension, so readers that
                # do not pad rows (frictionless) would otherwise see rows shorter than the header.
                cell = WriteOnlyCell(sheet, value="" if value is None else value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                cells.append(cell)
            sheet.append(cells)
            count += resource is sheets[0][0]
    workbook.save(path)
    return count


def write_json(path: Path, rows: Iterable[dict], nested: dict[str, list[dict]] | None = None) -> int:
    data = []
    for row in rows:
        item = {k: _cell(v) for k, v in row.items()}
        if nested is not None:
            item["financements"] = [
                {k: _cell(v) for k, v in line.items() if k != "id_projet"} for line in nested.get(row["id_projet"], [])
            ]
        data.append(item)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(data)


def territories_geojson(territories: QuerySet[Territory]) -> dict:
    """Each territory's perimeter as one MultiPolygon feature, its EPCI polygons side by side."""
    features = []
    for t in territories.order_by("code").prefetch_related("epcis", "phases").select_related("region"):
        polygons = []
        for epci in t.epcis.all():
            geometry = epci.geometry or {}
            if geometry.get("type") == "Polygon":
                polygons.append(geometry["coordinates"])
            elif geometry.get("type") == "MultiPolygon":
                polygons.extend(geometry["coordinates"])
        features.append(
            {
                "type": "Feature",
                "id": t.code,
                "geometry": {"type": "MultiPolygon", "coordinates": polygons} if polygons else None,
                "properties": {
                    "id_ti": t.code,
                    "lib_ti": t.name,
                    "region": t.region_id,
                    "phases": [p.code for p in t.phases.all()],
                    "population": t.population,
                    "epci": sorted(e.siren for e in t.epcis.all()),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def export(
    kind: str,
    fmt: str,
    path: Path,
    *,
    territories: QuerySet[Territory],
    projects: QuerySet[Project],
    progress: Progress | None = None,
) -> int:
    """Write `kind` (territories or projects) in `fmt` to `path`; returns the number of records written.

    `progress` is told the rows written as they go (`pilotage export` shows it on a terminal)."""
    if kind == "territories":
        rows = territory_rows(territories)
        if progress:
            rows = counted(rows, progress, _("Export des territoires (lignes)"))
        if fmt == "csv":
            return write_csv(path, TERRITORIES, rows)
        if fmt == "xlsx":
            return write_xlsx(path, [(TERRITORIES, rows)])
        if fmt == "json":
            return write_json(path, rows)
        collection = territories_geojson(territories)
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
        return len(collection["features"])
    rows = project_rows(projects)
    if progress:
        rows = counted(rows, progress, _("Export des projets"), total=projects.count())
    if fmt == "csv":
        return write_csv(path, PROJECTS, rows)
    if fmt == "xlsx":
        return write_xlsx(path, [(PROJECTS, rows), (FUNDING, funding_rows(projects))])
    if fmt == "json":
        nested: dict[str, list[dict]] = {}
        for line in funding_rows(projects):
            nested.setdefault(line["id_projet"], []).append(line)
        return write_json(path, rows, nested)
    raise ValueError("Le format geojson n'existe que pour les territoires.")
