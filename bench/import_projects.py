"""Benchmark of `pilotage import_projects`: how many rows per second a real import of a Region-sized workbook writes.

    .venv/bin/python bench/import_projects.py [--rows 10000] [--runs 3] [--seed 1] [--postgres postgres://USER@HOST:PORT]
                                              [--output FILE]

What is measured (on SQLite, the engine of a laptop install, or with `--postgres` on that server):
1. once: a database is migrated and given the whole shipped referential (`load_referential`) and 40 territories
   (3 EPCI each, in 10 regions, in one or both programme phases); then a workbook is generated from it, with the
   same content for a seed: sheet `projets` (`--rows` rows: French status and theme labels, real date and number
   cells, about 600 owners with or without SIREN, a commune of the perimeter) and sheet `financements` (one or two
   lines per project, five funders);
2. `--runs` times: a fresh copy of the prepared database (a file copy for SQLite, `CREATE DATABASE … TEMPLATE` for
   PostgreSQL) and a new process that imports the workbook into it (every project is created, with its history).
   Only the `import_projects` call is timed (wall clock, and the process's CPU time), not the process start. The
   figure reported is the median wall time of these runs, as rows of the `projets` sheet per second, with the
   median CPU time beside it (on a loaded machine the wall time grows, the CPU time much less);
3. then the same workbook again into the last run's database (every project `unchanged`, nothing written), and a
   dry run against the prepared database (reading and checking only).
The machine may be shared: the 1-minute load average is recorded with the result. Prints the result as JSON, then
one line of text, and writes it to `bench/results/import_projects.json` (`import_projects_postgresql.json`), or to
`--output`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "import_projects.json"
REGIONS = 10
TERRITORIES_PER_REGION = 4
EPCIS_PER_TERRITORY = 3
OWNERS = 600
FUNDERS = ("Bpifrance", "Banque des Territoires", "Ademe", "Région", "État — DETR")
STATUS_LABELS = ("Idée", "En maturation", "Prêt", "Engagé", "Réalisé", "Abandonné")
WORDS = ("usine", "atelier", "campus", "friche", "plateforme", "réseau", "hydrogène", "recyclage", "formation",
         "robotique", "bois", "textile", "chaleur", "logistique", "innovation", "foncier")  # fmt: skip


# --- worker steps, each in its own process (DATABASE_URL names the database) -----------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pilotage.settings")
    import django

    django.setup()


def prepare() -> None:
    """Migrate, load the referential, create the territories."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_referential", verbosity=0)
    from pilotage.geo.models import Commune
    from pilotage.programme.models import ProgrammePhase, Territory

    phases = list(ProgrammePhase.objects.order_by("starts_on"))
    by_region: dict[str, list[str]] = {}
    seen: set[str] = set()
    communes = Commune.objects.filter(epci__isnull=False).order_by("epci_id", "insee")
    for epci, region in communes.values_list("epci_id", "department__region_id"):
        if epci not in seen:  # an EPCI in the region of its first commune
            seen.add(epci)
            by_region.setdefault(region, []).append(epci)
    regions = [code for code in sorted(by_region) if len(code) == 2 and int(code) > 10][:REGIONS]
    for region in regions:
        epcis = by_region[region]
        for number in range(1, TERRITORIES_PER_REGION + 1):
            territory = Territory.objects.create(code=f"ti-{region}{number:02}", name=f"Territoire {region}-{number}",
                                                 region_id=region)  # fmt: skip
            start = (number - 1) * EPCIS_PER_TERRITORY
            territory.epcis.set(epcis[start : start + EPCIS_PER_TERRITORY])
            territory.phases.set(phases if number == 4 else [phases[number % 2]])
            territory.refresh_derived()


def luhn_siren(rng: random.Random) -> str:
    """A random SIREN with a valid key."""
    from pilotage.opendata.parsing import siren_key_is_valid

    stem = f"{rng.randrange(10**7, 10**8):08}"
    return next(stem + str(key) for key in range(10) if siren_key_is_valid(stem + str(key)))


def generate(path: str, rows: int, seed: int) -> None:
    """The workbook, from the territories of the database; the same for a seed."""
    from openpyxl import Workbook

    from pilotage.geo.models import Commune
    from pilotage.opendata.schema import FUNDING, PROJECTS
    from pilotage.programme.models import Territory, Theme

    rng = random.Random(seed)
    territories = []
    for territory in Territory.objects.order_by("code").prefetch_related("epcis", "phases"):
        communes = sorted(Commune.objects.filter(epci__in=territory.epcis.all()).values_list("insee", flat=True))
        phase = max(territory.phases.all(), key=lambda p: p.starts_on)
        labels = list(Theme.objects.filter(phase=phase).order_by("position").values_list("label", flat=True))
        territories.append((territory.code, communes, labels))
    owners = [(f"Entreprise {n:04}", luhn_siren(rng) if n % 3 else "") for n in range(OWNERS)]
    workbook = Workbook(write_only=True)
    projects, funding = workbook.create_sheet(PROJECTS.name), workbook.create_sheet(FUNDING.name)
    projects.append(PROJECTS.names)
    funding.append(FUNDING.names)
    for n in range(rows):
        code, communes, labels = rng.choice(territories)
        owner, siren = rng.choice(owners)
        reported = datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randrange(2000))
        start = reported + datetime.timedelta(days=rng.randrange(30, 400))
        title = " ".join(rng.sample(WORDS, 3)).capitalize()
        id_projet = f"BENCH-{code}-{n:05}"
        themes = " ; ".join(rng.sample(labels, rng.randint(1, 2)))
        projects.append([
            id_projet, code, title, f"{title} : projet porté par {owner}. " * 3, themes,
            rng.choice(STATUS_LABELS), owner, siren, rng.choice(communes), reported, start,
            start + datetime.timedelta(days=rng.randrange(200, 1500)), round(rng.uniform(1e4, 5e6), 2),
            "oui" if rng.random() < 0.9 else "non",
        ])  # fmt: skip
        for funder in rng.sample(FUNDERS, rng.randint(1, 2)):
            requested = round(rng.uniform(1e4, 1e6), 2)
            funding.append([id_projet, funder, "Subvention", requested, round(requested * rng.random(), 2), start])
    workbook.save(path)


def engine_label(connection) -> str:
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    connection.ensure_connection()
    major, rest = divmod(connection.pg_version, 10000)
    return f"PostgreSQL {major}.{rest}"


def timed_import(path: str, dry_run: bool) -> None:
    from django.db import connection

    from pilotage.projects.services import import_projects

    started, cpu = time.perf_counter(), time.process_time()
    report = import_projects(path, dry_run=dry_run, user_label="bench")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    result = {**report.to_dict(), "seconds": seconds, "cpu_seconds": cpu_seconds}
    result["errors"] = result["errors"][:5]
    result["engine"] = engine_label(connection)
    print(json.dumps(result))


# --- the orchestration -----------------------------------------------------------------------------------------------


class SQLite:
    """Fresh states are copies of the prepared database file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.base = self.url("base")

    def url(self, name: str) -> str:
        return f"sqlite:///{self.directory / name}.sqlite3"

    def fresh(self, name: str) -> str:
        shutil.copyfile(self.directory / "base.sqlite3", self.directory / f"{name}.sqlite3")
        return self.url(name)

    def close(self) -> None:
        pass


class PostgreSQL:
    """Fresh states are databases created from the prepared one as a template (`--postgres` names the server)."""

    PREFIX = "pilotage_bench_import"

    def __init__(self, server: str) -> None:
        import psycopg

        self.server = server.rstrip("/")
        self.admin = psycopg.connect(f"{self.server}/postgres", autocommit=True)
        self.names: list[str] = []
        self.base = self.create("base")

    def create(self, name: str, template: str | None = None) -> str:
        database = f"{self.PREFIX}_{name}"
        self.admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        self.admin.execute(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.names.append(database)
        return f"{self.server}/{database}"

    def fresh(self, name: str) -> str:
        return self.create(name, template=f"{self.PREFIX}_base")

    def close(self) -> None:
        for database in reversed(self.names):
            self.admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        self.admin.close()


def worker(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "pilotage.settings"}
    done = subprocess.run([sys.executable, __file__, "--worker", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"étape {args[0]} en échec :\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def import_run(database_url: str, workbook: Path, *, dry_run: bool = False) -> dict:
    result = json.loads(worker(database_url, "import", str(workbook), "1" if dry_run else "0"))
    if not result["ok"]:
        raise SystemExit(f"import refusé : {result['errors']}")
    return result


def machine(engine: str) -> dict:
    memory = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(memory / 1024**3, 1),
        "python": platform.python_version(),
        "engine": engine,
        "platform": platform.platform(),
        # The machine may be shared: the load says how much of it the runs had.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def measure(engine, workbook: Path, args: argparse.Namespace) -> dict:
    worker(engine.base, "prepare")
    worker(engine.base, "generate", str(workbook), str(args.rows), str(args.seed))
    runs = []
    for run in range(args.runs):
        database = engine.fresh(f"run{run}")
        runs.append(import_run(database, workbook))
        assert runs[-1]["created"] == args.rows, runs[-1]
    again = import_run(database, workbook)
    assert again["unchanged"] == args.rows, again
    dry = import_run(engine.base, workbook, dry_run=True)
    median = statistics.median(run["seconds"] for run in runs)
    return {
        "benchmark": "import_projects",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "seed": args.seed,
        "file_bytes": workbook.stat().st_size,
        "method": f"median of {args.runs} imports, each into a fresh copy of the prepared database; "
        "then the same file again (all unchanged) and a dry run",
        "runs_seconds": [round(run["seconds"], 3) for run in runs],
        "runs_cpu_seconds": [round(run["cpu_seconds"], 3) for run in runs],
        "median_seconds": round(median, 3),
        "median_cpu_seconds": round(statistics.median(run["cpu_seconds"] for run in runs), 3),
        "rows_per_second": round(args.rows / median),
        "reimport_unchanged_seconds": round(again["seconds"], 3),
        "dry_run_seconds": round(dry["seconds"], 3),
        "machine": machine(runs[0]["engine"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres", metavar="URL", help="serveur PostgreSQL (postgres://user@host:port) au lieu de SQLite"
    )
    parser.add_argument("--output", metavar="FICHIER", help="où écrire le résultat JSON (défaut : bench/results/…)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        setup_django()
        step, *rest = args.worker
        {"prepare": prepare, "generate": lambda: generate(rest[0], int(rest[1]), int(rest[2])),
         "import": lambda: timed_import(rest[0], rest[1] == "1")}[step]()  # fmt: skip
        return
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        engine = PostgreSQL(args.postgres) if args.postgres else SQLite(Path(tmp))
        try:
            result = measure(engine, Path(tmp) / "projets.xlsx", args)
        finally:
            engine.close()
    results = RESULTS if not args.postgres else RESULTS.with_name("import_projects_postgresql.json")
    results = Path(args.output) if args.output else results
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    m = result["machine"]
    print(
        f"import_projects : {args.rows} lignes en {result['median_seconds']:.2f} s (médiane de {args.runs}) = "
        f"{result['rows_per_second']} lignes/s (CPU {result['median_cpu_seconds']:.2f} s) ; réimport sans changement "
        f"{result['reimport_unchanged_seconds']:.2f} s, "
        f"simulation {result['dry_run_seconds']:.2f} s — {m['cores']} cœurs, {m['ram_gb']} Go, Python {m['python']}, "
        f"{m['engine']}, charge {m['load_average_1min']}"
    )


if __name__ == "__main__":
    main()
