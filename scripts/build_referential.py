#!/usr/bin/env python3
"""Derive the compact referential files committed under src/pilotage/geo/data/ from the raw open data.

Run by hand at build time only (never at run time); see docs/data.md:

    python scripts/build_referential.py --source /work/shared/data [--mapshaper PATH] [--skip-shapes]

Outputs (gzip written with mtime 0, so rebuilding from the same inputs gives identical bytes):
  referential.json.gz          regions, departments, EPCI, current communes (compact arrays)
  epci-shapes.geojson.gz       one simplified (Multi)Polygon per EPCI, dissolved from 2018 commune contours
  departments.geojson.gz       department outlines (101), same topology as the EPCI shapes
  regions.geojson.gz           region outlines (18), same topology
  SOURCES.md                   provenance and licences
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src" / "pilotage" / "geo" / "data"
DECOUPAGE = "decoupage-administratif-6.0.0"
CONTOURS = "admin-express-2018-communes"
FORMAT_VERSION = 1
SIMPLIFY = "8%"
PRECISION = "0.0001"
MAPSHAPER = "/tmp/mapshaper/node_modules/.bin/mapshaper"  # npm install --prefix /tmp/mapshaper mapshaper@0.7.70


# --- helpers -----------------------------------------------------------------------------------------------------


def read_json(path: Path):
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def read_gzip_json(path: Path):
    with gzip.open(path, "rb") as handle:
        return json.loads(handle.read())


def write_gzip_json(path: Path, payload) -> None:
    """Compact, deterministic gzip (mtime 0) so an unchanged rebuild leaves git clean."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with (
        path.open("wb") as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(raw)
    print(f"  {path.relative_to(REPO)}: {len(raw) / 1e3:.0f} kB JSON, {path.stat().st_size / 1e3:.0f} kB gzip")


# --- referential (no shapes) ---------------------------------------------------------------------------------------


def build_referential(source: Path) -> dict:
    base = source / DECOUPAGE
    regions = sorted([r["code"], r["nom"]] for r in read_json(base / "regions.json"))
    departments = sorted([d["code"], d["nom"], d["region"]] for d in read_json(base / "departements.json"))
    epcis = read_json(base / "epci.json")
    # populationMunicipale: INSEE's reference figure, the one published for EPCI.
    epci_rows = sorted([e["code"], e["nom"], e["type"], e["populationMunicipale"]] for e in epcis)
    epci_of = {member["code"]: e["code"] for e in epcis for member in e["membres"]}
    communes = [c for c in read_json(base / "communes.json") if c["type"] == "commune-actuelle"]
    commune_rows = sorted(
        [c["code"], c["nom"], c["departement"], epci_of.get(c["code"]), c.get("population") or 0] for c in communes
    )
    unknown = set(epci_of) - {row[0] for row in commune_rows}
    if unknown:
        sys.exit(f"EPCI members that are not current communes: {sorted(unknown)[:10]}")
    return {
        "format": FORMAT_VERSION,
        "source": "@etalab/decoupage-administratif 6.0.0 (COG 2026)",
        "columns": {
            "regions": ["code", "name"],
            "departments": ["code", "name", "region"],
            "epci": ["siren", "name", "kind", "population"],
            "communes": ["insee", "name", "department", "epci", "population"],
        },
        "regions": regions,
        "departments": departments,
        "epci": epci_rows,
        "communes": commune_rows,
    }


# --- EPCI shapes -----------------------------------------------------------------------------------------------------


def current_code_map(source: Path) -> dict[str, str]:
    """2018 INSEE code -> current commune: itself, the chef-lieu of a delegated/associated commune, or `anciensCodes`.

    Checked on the 85 codes the chef-lieu does not reach: `anciensCodes` is exact, whereas the longest-border
    neighbour picks another EPCI for 14 of them, so that guess is only the last resort.
    """
    records = read_json(source / DECOUPAGE / "communes.json")
    current = [r for r in records if r["type"] == "commune-actuelle"]
    mapping = {r["code"]: r["code"] for r in current}
    for record in records:
        if record["type"] in {"commune-deleguee", "commune-associee"}:
            mapping.setdefault(record["code"], record["chefLieu"])
    for record in current:
        for old in record.get("anciensCodes", []):
            mapping.setdefault(old, record["code"])
    return mapping


def rings(geometry: dict):
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for polygon in polygons:
        yield from polygon


def edge_lengths(geometry: dict) -> dict[tuple, float]:
    """Undirected edges keyed by their rounded end points: neighbours in one source file share them exactly."""
    edges: dict[tuple, float] = {}
    for ring in rings(geometry):
        for a, b in zip(ring, ring[1:], strict=False):
            p, q = (round(a[0], 5), round(a[1], 5)), (round(b[0], 5), round(b[1], 5))
            key = (p, q) if p <= q else (q, p)
            edges[key] = math.dist(p, q) * math.cos(math.radians(p[1]))
    return edges


def centroid(geometry: dict) -> tuple[float, float]:
    points = [pt for ring in rings(geometry) for pt in ring]
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def tag_contours(source: Path, referential: dict) -> tuple[list[dict], dict[str, str]]:
    """Tag every 2018 contour with its 2026 EPCI, department and region (the EPCI is None for communes outside any)."""
    to_current = current_code_map(source)
    communes = {row[0]: row for row in referential["communes"]}
    region_of = {row[0]: row[2] for row in referential["departments"]}
    features, orphans = [], []
    for path in sorted((source / CONTOURS).glob("*.geojson")):
        for contour in read_json(path)["features"]:
            code = contour["properties"]["code"]
            commune = communes.get(to_current.get(code, ""))
            epci, dep = (commune[3], commune[2]) if commune else (None, None)
            properties = {"code": code, "epci": epci, "dep": dep, "reg": region_of.get(dep)}
            features.append({"type": "Feature", "properties": properties, "geometry": contour["geometry"]})
            if commune is None:
                orphans.append(features[-1])
    return features, resolve_orphans(features, orphans)


def resolve_orphans(features: list[dict], orphans: list[dict]) -> dict[str, str]:
    """Give each unmapped contour the EPCI it shares the longest border with (nearest centroid if it touches none)."""
    if not orphans:  # indexing every edge of 35,000 contours takes seconds: only when needed
        return {}
    owner: dict[tuple, list[dict]] = defaultdict(list)
    lengths = {id(f): edge_lengths(f["geometry"]) for f in features}
    for feature in features:
        for edge in lengths[id(feature)]:
            owner[edge].append(feature)
    keys = ("epci", "dep", "reg")
    report: dict[str, str] = {}
    pending = list(orphans)
    # Several passes: an orphan may only touch other orphans until those are resolved.
    for _ in range(5):
        still = []
        for orphan in pending:
            shared: dict[tuple, float] = defaultdict(float)
            for edge, length in lengths[id(orphan)].items():
                for neighbour in owner[edge]:
                    if neighbour is not orphan and neighbour["properties"]["dep"]:
                        shared[tuple(neighbour["properties"][k] for k in keys)] += length
            if shared:
                orphan["properties"].update(zip(keys, max(shared, key=shared.get), strict=True))
                report[orphan["properties"]["code"]] = f"{orphan['properties']['epci']} (frontière commune)"
            else:
                still.append(orphan)
        pending = still
    mapped = [f for f in features if f["properties"]["dep"]]
    for orphan in pending:
        cx, cy = centroid(orphan["geometry"])
        nearest = min(mapped, key=lambda f: math.dist((cx, cy), centroid(f["geometry"])))
        orphan["properties"].update({k: nearest["properties"][k] for k in keys})
        report[orphan["properties"]["code"]] = f"{nearest['properties']['epci']} (plus proche)"
    return report


def run_mapshaper(mapshaper: str, features: list[dict]) -> dict[str, dict]:
    """Dissolve by EPCI, department and region in one topology, then simplify the shared arcs once.

    The three layers share their arcs, so a department border drawn over the EPCI follows their edges exactly.
    """
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "communes.json", Path(tmp) / "out"
        src.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
        out.mkdir()
        command = [mapshaper, "-i", str(src), "name=communes"]
        for layer, field in (("epci", "epci"), ("departments", "dep"), ("regions", "reg")):
            command += ["-dissolve", field, "target=communes", "+", f"name={layer}"]
        command += ["-simplify", SIMPLIFY, "weighted", "keep-shapes"]
        command += ["-o", "target=epci,departments,regions", f"precision={PRECISION}", "format=geojson", f"{out}/"]
        subprocess.run(command, check=True)
        return {path.stem: read_json(path) for path in out.iterdir()}


def feature_collection(layer: dict, key: str, id_name: str, names: dict[str, str]) -> dict:
    features = [
        {
            "type": "Feature",
            "properties": {id_name: f["properties"][key], "name": names[f["properties"][key]]},
            "geometry": f["geometry"],
        }
        for f in layer["features"]
        if f["geometry"] and f["properties"][key]  # the dissolved communes outside any EPCI have no key
    ]
    return {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["properties"][id_name])}


def build_shapes(source: Path, referential: dict, mapshaper: str) -> dict[str, str]:
    features, orphans = tag_contours(source, referential)
    print(f"  {len(features)} contours 2018, {len(orphans)} rattachés au voisin")
    layers = run_mapshaper(mapshaper, features)
    # One name table per layer: department and region codes overlap ("44" is both).
    names = {table: {row[0]: row[1] for row in referential[table]} for table in ("epci", "departments", "regions")}
    write_gzip_json(OUT / "epci-shapes.geojson.gz", feature_collection(layers["epci"], "epci", "siren", names["epci"]))
    write_gzip_json(
        OUT / "departments.geojson.gz", feature_collection(layers["departments"], "dep", "code", names["departments"])
    )
    write_gzip_json(OUT / "regions.geojson.gz", feature_collection(layers["regions"], "reg", "code", names["regions"]))
    return orphans


# --- provenance ----------------------------------------------------------------------------------------------------

SOURCE_ROWS = [
    (
        "`referential.json.gz`",
        "{regions} regions, {departments} departments, {epci} EPCI (SIREN, name, type, municipal population), "
        "{communes} current communes (INSEE code, name, department, EPCI SIREN, population)",
        "`@etalab/decoupage-administratif` 6.0.0 (Etalab), official geographic code (COG) 2026",
        "data: Licence Ouverte 2.0 (Etalab); package code: MIT",
    ),
    (
        "`epci-shapes.geojson.gz`",
        "{shapes} EPCI outlines: 2018 commune contours dissolved by 2026 EPCI membership, simplified with mapshaper "
        "(`-simplify {simplify} weighted keep-shapes`, precision {precision})",
        "IGN Admin Express COG 2018, via the `france-geojson` project",
        "Licence Ouverte (Etalab)",
    ),
    (
        "`regions.geojson.gz`, `departments.geojson.gz`",
        "{outlines} (metropolitan and overseas), dissolved from the same contours by the current communes' department "
        "and simplified in the same topology as the EPCI, so their borders coincide",
        "IGN Admin Express COG 2018, via the `france-geojson` project",
        "Licence Ouverte (Etalab)",
    ),
]
SOURCES_HEAD = """# Provenance of the referential data

Generated by `scripts/build_referential.py` (do not edit by hand; see `docs/data.md`).

| file | content | source | licence |
| --- | --- | --- | --- |
"""
SOURCES_TAIL = """
Attribution: « Source : IGN Admin Express ; Etalab, découpage administratif (COG 2026) ».

Each 2018 contour goes to its current commune: the same code, else the chef-lieu of the delegated or associated commune
it became, else the current commune listing it in `anciensCodes` (absorbed communes). Contours of current communes in no
EPCI (single-commune islands: Bréhat, Sein, Ouessant, Yeu) count in their department and region only. Contours reached
by none of these, attached to the EPCI of the neighbour they share the longest border with: {orphans}.
"""


def write_sources(referential: dict, orphans: dict[str, str]) -> None:
    shapes = read_gzip_json(OUT / "epci-shapes.geojson.gz")["features"]
    values = {
        "regions": len(referential["regions"]),
        "departments": len(referential["departments"]),
        "epci": len(referential["epci"]),
        "communes": len(referential["communes"]),
        "shapes": len(shapes),
        "simplify": SIMPLIFY,
        "outlines": f"{len(read_gzip_json(OUT / 'regions.geojson.gz')['features'])} regions and "
        f"{len(read_gzip_json(OUT / 'departments.geojson.gz')['features'])} departments",
        "precision": PRECISION,
        "orphans": ", ".join(f"{code} → {target}" for code, target in sorted(orphans.items())) or "none",
    }
    table = "".join("| " + " | ".join(cell.format(**values) for cell in row) + " |\n" for row in SOURCE_ROWS)
    (OUT / "SOURCES.md").write_text(SOURCES_HEAD + table + SOURCES_TAIL.format(**values), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data"), help="folder of the raw open data")
    parser.add_argument("--mapshaper", default=shutil.which("mapshaper") or MAPSHAPER)
    parser.add_argument("--skip-shapes", action="store_true", help="rebuild only referential.json.gz")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    referential = build_referential(args.source)
    write_gzip_json(OUT / "referential.json.gz", referential)
    if args.skip_shapes:  # SOURCES.md describes the last full build: leave it
        return
    write_sources(referential, build_shapes(args.source, referential, args.mapshaper))


if __name__ == "__main__":
    main()
