"""`make bench`: Pilotage at programme scale (S1) and beyond (S10, S100), served as in production, beside its peers.

    .venv/bin/python bench/run.py [--scales 1,10,100] [--engines sqlite,postgresql] [--quick] [--seed 2018]
                                  [--workers N] [--connections 8] [--duration 15] [--skip import,peers] [--rebuild]

For each engine and scale (docs/benchmarks.md says how to read the results):
1. the database `pilotage load_demo --scale K --seed N` makes, built once and cached under `bench/cache/` (a SQLite
   file per scale; for PostgreSQL a throwaway cluster whose data directory holds one database per scale), migrated
   at every run so that a new index applies to the cached data;
2. in a Django process on that database: the number of queries of each measured address (it must not grow with the
   scale), and the SQL that `/api/v1/stats` runs, replayed through the driver alone (no ORM, no HTTP, warm
   connection): the raw-SQL lower bound of each stats answer;
3. `pilotage serve` (gunicorn, several workers, 127.0.0.1): the latency of each address, requests one after the
   other (median and 90th percentile over the repeats), then the projects list under load (wrk, fixed duration and
   connections) alternately with Datasette serving the same SQLite file and answering the same query through its
   JSON API (rounds interleaved, medians of the rounds); the peak memory (VmHWM) of the workers at the end;
4. once per engine: a 10,000-row xlsx import (`bench/import_projects.py`, median of its runs).

The machine is shared: each measurement carries the 1-minute load average when it was taken, and the comparisons
are given as ratios (ours / raw SQL, ours / Datasette), measured close together. Results go to `bench/results/`
(`latest.json`, `latest.md`, and a dated copy of both).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / "cache"
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
AS_OF = "2021-06-30"  # a date in the middle of the demo programme's history
QUERY_TEXT = "numérique"  # accented on purpose: the search is accent-insensitive
PREFERRED_REGION, PREFERRED_THEME = "44", "innovation"

# The targets of issue 6, at S100 on the 2-core machine: (label, measure key, bound, unit, higher is better).
TARGETS = (
    ("/api/v1/stats national, p50", "stats_national_p50", 50.0, "ms", False),
    ("/api/v1/stats national / borne SQL brute (agrégats sur les fiches)", "stats_national_raw_ratio", 2.0, "×", False),
    ("liste des projets, débit / Datasette", "projects_vs_datasette", 1.5, "×", True),
    ("page territoire, p50", "territory_page_p50", 50.0, "ms", False),
    ("import xlsx 10 000 lignes", "import_rows_per_second", 2000.0, "lignes/s", True),
    ("mémoire d'un worker (VmHWM)", "worker_rss_mb", 300.0, "Mo", False),
)


@dataclass
class Settings:
    scales: list[int]
    engines: list[str]
    seed: int
    quick: bool
    workers: int | None
    connections: int
    duration: int
    rounds: int
    repeats: int
    import_rows: int
    import_runs: int
    skip: set[str]
    rebuild: bool
    build_only: bool = False


# --- small helpers -----------------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load() -> float:
    return round(os.getloadavg()[0], 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def app_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
        "DJANGO_SETTINGS_MODULE": "pilotage.settings",
        "LOG_LEVEL": "ERROR",
    }


def pilotage(database_url: str, *argv: str, quiet: bool = False) -> None:
    out = subprocess.DEVNULL if quiet else None
    subprocess.run([str(BIN / "pilotage"), *argv], env=app_env(database_url), check=True, stdout=out)


def worker(database_url: str, step: str, payload: dict) -> dict:
    """Run a step of this file in a Django process on the database; its last line of output is JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", step, json.dumps(payload)],
        env=app_env(database_url),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"étape {step} en échec :\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- tools: wrk and Datasette --------------------------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """wrk from Debian, installed when missing and we are root; None means the Python load generator."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installation de wrk (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet).returncode:
            subprocess.run(["apt-get", "update", "-qq"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)
    return shutil.which("wrk")


def bench_requirements() -> list[str]:
    """The pinned bench-only dependencies (optional group `bench` of pyproject.toml)."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["optional-dependencies"]["bench"]


def ensure_datasette() -> str | None:
    wanted = bench_requirements()
    installed = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True).stdout.lower()
    if not all(pin.lower() in installed.splitlines() for pin in wanted):
        say(f"installation des dépendances du banc : {', '.join(wanted)}")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *wanted], check=True)
    path = BIN / "datasette"
    return str(path) if path.exists() else None


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else ""


# --- databases -----------------------------------------------------------------------------------------------------


def build_demo(database_url: str, scale: int, seed: int) -> None:
    started = time.perf_counter()
    pilotage(database_url, "migrate", "-v0")
    pilotage(database_url, "load_referential", "-v0", quiet=True)
    pilotage(database_url, "load_demo", "--scale", str(scale), "--seed", str(seed), quiet=True)
    say(f"  chargé en {time.perf_counter() - started:.0f} s")


class SQLiteEngine:
    name = "sqlite"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def path(self, scale: int) -> Path:
        return CACHE / f"sqlite-s{scale}-seed{self.settings.seed}.sqlite3"

    def database(self, scale: int) -> str:
        """The cached database of a scale (built when missing), migrated."""
        path = self.path(scale)
        if self.settings.rebuild and path.exists():
            path.unlink()
        if not path.exists():
            building = path.with_suffix(".building")
            for leftover in CACHE.glob(building.name + "*"):
                leftover.unlink()
            say(f"construction de la base SQLite S{scale} (pilotage load_demo --scale {scale})")
            build_demo(f"sqlite:///{building}", scale, self.settings.seed)
            checkpoint(building)
            building.rename(path)
        url = f"sqlite:///{path}"
        pilotage(url, "migrate", "-v0")
        pilotage(url, "refresh_figures", quiet=True)  # the national totals (stats/ledger.py), once after migrating
        checkpoint(path)
        return url

    @contextmanager
    def running(self):
        yield self

    def import_engine(self, directory: Path):
        import import_projects

        return import_projects.SQLite(directory)


def checkpoint(path: Path) -> None:
    """Everything written goes into the main file (Datasette opens it read-only)."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgreSQLEngine:
    """A throwaway cluster on a free loopback port, as `.ci/run` starts one; its data directory is the cache."""

    name = "postgresql"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = CACHE / "postgresql"
        self.data = self.root / "data"
        self.port = 0
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
        self.bin = bins[-1].parent if bins else None

    def run(self, *argv: str) -> None:
        if os.geteuid() == 0:
            argv = ("su", "postgres", "-s", "/bin/bash", "-c", shlex.join(argv))
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def install(self) -> None:
        """The server binaries from Debian when missing and we are root, as `.ci/run` does."""
        if self.bin is None and os.geteuid() == 0 and shutil.which("apt-get"):
            say("installation de PostgreSQL (apt-get)")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], env=env, stdout=subprocess.DEVNULL)
            self.__init__(self.settings)

    @contextmanager
    def running(self):
        self.install()
        if self.bin is None:
            raise SystemExit("PostgreSQL est introuvable : apt-get install postgresql (ou --engines sqlite).")
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        if not (self.data / "PG_VERSION").exists():
            say("création d'un cluster PostgreSQL jetable dans bench/cache/postgresql")
            self.run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                     "--locale=C.UTF-8")  # fmt: skip
        self.port = free_port()
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c shared_buffers=256MB -c work_mem=16MB"
        )
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.root / "log"), "-o", options,
                 "start")  # fmt: skip
        try:
            yield self
        finally:
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def admin(self, *statements: str) -> list[tuple]:
        import psycopg

        rows: list[tuple] = []
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            for statement in statements:
                cursor = connection.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows

    def database(self, scale: int) -> str:
        name = f"pilotage_s{scale}_seed{self.settings.seed}"
        if self.settings.rebuild:
            self.admin(f'DROP DATABASE IF EXISTS "{name}"')
        if not self.admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            say(f"construction de la base PostgreSQL S{scale} (pilotage load_demo --scale {scale})")
            building = f"{name}_building"
            self.admin(f'DROP DATABASE IF EXISTS "{building}"', f'CREATE DATABASE "{building}"')
            build_demo(self.url(building), scale, self.settings.seed)
            self.admin(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        pilotage(self.url(name), "migrate", "-v0")
        pilotage(self.url(name), "refresh_figures", quiet=True)
        return self.url(name)

    def import_engine(self, directory: Path):
        import import_projects

        return import_projects.PostgreSQL(f"postgres://postgres@{HOST}:{self.port}")


# --- what is measured ----------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """The filters the measured addresses use, chosen in the database the same way at every scale."""

    region: str
    territory: str
    theme: str
    q: str = QUERY_TEXT
    as_of: str = AS_OF

    def addresses(self) -> dict[str, str]:
        projects = urllib.parse.urlencode({"region": self.region, "theme": self.theme, "q": self.q, "page_size": 50})
        return {
            "stats_national": "/api/v1/stats",
            "stats_national_as_of": f"/api/v1/stats?as_of={self.as_of}",
            "stats_region": f"/api/v1/stats?region={self.region}",
            "stats_region_as_of": f"/api/v1/stats?region={self.region}&as_of={self.as_of}",
            "stats_territory": f"/api/v1/stats?territory={self.territory}",
            "stats_territory_as_of": f"/api/v1/stats?territory={self.territory}&as_of={self.as_of}",
            "projects": f"/api/v1/projects?{projects}",
            "territory_page": f"/territoires/{self.territory}/",
            "national_dashboard": "/tableaux-de-bord/",
        }


def sample_step(_payload: dict) -> dict:
    """The region (Grand Est when present), its territory with the most projects, a theme of phase 2."""
    from django.db.models import Count

    from pilotage.programme.models import Territory, Theme

    regions = Territory.objects.values_list("region_id", flat=True)
    region = PREFERRED_REGION if PREFERRED_REGION in set(regions) else sorted(set(regions))[0]
    territory = (
        Territory.objects.filter(region_id=region).annotate(n=Count("projects")).order_by("-n", "code").first().code
    )
    themes = list(Theme.objects.values_list("code", flat=True))
    return {
        "region": region,
        "territory": territory,
        "theme": PREFERRED_THEME if PREFERRED_THEME in themes else themes[0],
    }


def probe_step(payload: dict) -> dict:
    """Query count of every address (Django test client, in process), and the SQL that the stats answers run."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client()
    out: dict[str, dict] = {}
    for name, path in payload["addresses"].items():
        client.get(path)  # first request: per-process caches (content types, URL resolver) are filled
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} : HTTP {response.status_code}")
        out[name] = {"queries": len(captured.captured_queries)}
        if name.startswith("stats_"):
            out[name]["sql"] = [q["sql"] for q in captured.captured_queries]
            # The same figures computed from the records (without the national totals of stats/ledger.py): the SQL
            # of their aggregates is the raw-SQL bound of a figure computed on request.
            with override_settings(PILOTAGE_FIGURES_TOTALS=False), CaptureQueriesContext(connection) as records:
                assert client.get(path).status_code == 200
            if [q["sql"] for q in records.captured_queries] != out[name]["sql"]:
                out[name]["records_sql"] = [q["sql"] for q in records.captured_queries]
    return out


def raw_sql_server() -> None:
    """Replays the SQL of an address on the bare DB-API connection each time its name is read on stdin, and prints
    the time it took (ms): Django's own connection, so that SQLite has the same functions registered, kept warm."""
    from django.db import connection

    statements = json.loads(sys.stdin.readline())
    connection.ensure_connection()
    raw = connection.connection
    print("ready", flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        for sql in statements[line.strip()]:
            cursor = raw.cursor()
            cursor.execute(sql)
            cursor.fetchall()
            cursor.close()
        print(round((time.perf_counter() - started) * 1000, 3), flush=True)


class RawSQL:
    """The raw-SQL replayer in its own process, asked one replay at a time (interleaved with the HTTP requests, so
    that both see the same load on a shared machine)."""

    def __init__(self, database_url: str, statements: dict[str, list[str]]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", "rawserve", "{}"],
            env=app_env(database_url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.process.stdin.write(json.dumps(statements) + "\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("le rejeu du SQL brut n'a pas démarré")

    def time(self, name: str) -> float:
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


# --- serving and measuring over HTTP -------------------------------------------------------------------------------


class Server:
    """A process serving HTTP on a free loopback port, stopped (with its children) on exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_path: str) -> None:
        self.name, self.argv, self.env, self.ready_path = name, argv, env, ready_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115

    def __enter__(self) -> Server:
        argv = [part.replace("{port}", str(self.port)) for part in self.argv]
        self.process = subprocess.Popen(argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} s'est arrêté : voir {self.log.name}")
            try:
                if get(self.port, self.ready_path)[0] < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.name} ne répond pas : voir {self.log.name}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        os.unlink(self.log.name)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def peak_rss_mb(self) -> float:
        """The highest VmHWM (peak resident memory) among the worker processes."""
        peaks = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks), 1) if peaks else 0.0


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.request("GET", path, headers={"Connection": "close", "Accept-Language": "fr"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def warm_up(port: int, path: str, workers: int) -> None:
    """As many requests at once as there are workers, so that each has served the address once (lazy imports,
    compiled templates, URL resolver) before it is timed."""
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(get(port, path)[0])) for _ in range(workers + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if any(status != 200 for status in statuses):
        raise SystemExit(f"{path} : HTTP {statuses}")


def latency(port: int, path: str, repeats: int, raw: RawSQL | None = None, name: str = "") -> dict:
    """Requests one after the other, each on a new connection: median and 90th percentile of the wall time; with
    `raw`, each request is followed by a replay of its SQL (median in `raw_sql_ms`)."""
    times, raw_times = [], []
    if raw:
        raw.time(name)  # warm-up
    for _ in range(repeats):
        started = time.perf_counter()
        status, body = get(port, path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, (path, status)
        if raw:
            raw_times.append(raw.time(name))
    extra = {"raw_sql_ms": round(statistics.median(raw_times), 2)} if raw else {}
    return {
        **extra,
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(percentile(times, 0.9), 1),
        "min_ms": round(min(times), 1),
        "repeats": repeats,
        "bytes": len(body),
        "load_1min": load(),
    }


def load_test(wrk: str | None, port: int, path: str, connections: int, duration: int) -> dict:
    url = f"http://{HOST}:{port}{path}"
    if wrk:
        done = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        )
        return {**parse_wrk(done.stdout), "load_1min": load()}
    return {**python_load(port, path, connections, duration), "load_1min": load()}


def parse_wrk(output: str) -> dict:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 1)

    result = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        match = re.search(rf"^\s+{label}\s+(\S+)", output, re.MULTILINE)
        result[key] = ms(match.group(1)) if match else None
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["errors"] = int(errors.group(1)) if errors else 0
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    return result


def python_load(port: int, path: str, connections: int, duration: int) -> dict:
    """Fallback when wrk is missing: `connections` threads requesting in a loop for `duration` seconds."""
    times: list[float] = []
    errors = [0]
    stop = time.monotonic() + duration

    def loop() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _body = get(port, path)
            times.append((time.perf_counter() - started) * 1000)
            errors[0] += status != 200

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests_per_second": round(len(times) / duration, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "errors": errors[0],
        "requests": len(times),
    }


def datasette_path(database: Path, sample: Sample) -> str:
    """The same projects query as `/api/v1/projects` (same filters, newest first, 50 rows and the total count) on
    Datasette's table JSON API; `search_text` is the folded text our `q` searches."""
    from pilotage.core.text import search_terms

    where = [
        "public = 1",  # what a visitor sees
        f"territory_id in (select id from programme_territory where region_id = '{sample.region}')",
        "exists (select 1 from projects_project_themes pt join programme_theme t on t.id = pt.theme_id "
        f"where pt.project_id = projects_project.id and t.code = '{sample.theme}')",
        *(f"search_text like '%{term}%'" for term in search_terms(sample.q)),
    ]
    query = [("_where", clause) for clause in where]
    query += [("_sort_desc", "reported_on"), ("_size", "50"), ("_shape", "objects")]
    return f"/{database.stem}/projects_project.json?{urllib.parse.urlencode(query)}"


# --- one engine, one scale ------------------------------------------------------------------------------------------


@dataclass
class Run:
    engine: str
    scale: int
    sample: dict = field(default_factory=dict)
    queries: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    raw_sql: dict = field(default_factory=dict)
    load: dict = field(default_factory=dict)
    worker_rss_mb: float = 0.0
    workers: int = 0
    counts: dict = field(default_factory=dict)


def measure_scale(engine, scale: int, settings: Settings, wrk: str | None, datasette: str | None) -> Run:
    say(f"{engine.name} S{scale} : base")
    url = engine.database(scale)
    run = Run(engine.name, scale)
    sample = Sample(**worker(url, "sample", {}))
    run.sample = sample.__dict__
    addresses = sample.addresses()
    say(f"{engine.name} S{scale} : requêtes SQL par adresse et borne SQL brute")
    probed = worker(url, "probe", {"addresses": addresses})
    run.queries = {name: value["queries"] for name, value in probed.items()}
    statements = {name: value["sql"] for name, value in probed.items() if "sql" in value}
    statements |= {f"{name}:records": value["records_sql"] for name, value in probed.items() if "records_sql" in value}
    raw = RawSQL(url, statements)
    run.counts = worker(url, "counts", {})
    serve = [str(BIN / "pilotage"), "serve", "--host", HOST, "--port", "{port}"]
    serve += ["--workers", str(settings.workers)] if settings.workers else []
    with Server("pilotage", serve, app_env(url), "/api/v1/territories?page_size=1") as ours:
        run.workers = len(ours.worker_pids())
        for name, path in addresses.items():
            say(f"{engine.name} S{scale} : latence {name}")
            warm_up(ours.port, path, run.workers)
            replay = raw if name.startswith("stats_") else None
            run.latency[name] = latency(ours.port, path, settings.repeats, replay, name)
            if replay:
                run.raw_sql[name] = run.latency[name]["raw_sql_ms"]
            if f"{name}:records" in statements:
                # Median of 5 replays of the aggregates over the records (seconds each at S100).
                records = [raw.time(f"{name}:records") for _ in range(6)][1:]
                run.raw_sql[f"{name}:records"] = round(statistics.median(records), 2)
        raw.close()
        run.load = compare_under_load(engine, scale, settings, wrk, datasette, ours, sample, addresses["projects"])
        run.worker_rss_mb = ours.peak_rss_mb()
    return run


def compare_under_load(engine, scale, settings, wrk, datasette, ours: Server, sample: Sample, path: str) -> dict:
    """Our projects list and, on SQLite, Datasette's answer to the same query: rounds interleaved, medians."""
    rounds: dict[str, list[dict]] = {"ours": [], "datasette": []}
    peer = None
    if engine.name == "sqlite" and datasette and "peers" not in settings.skip:
        database = engine.path(scale)
        argv = [datasette, "serve", "-i", str(database), "--host", HOST, "--port", "{port}",
                "--setting", "sql_time_limit_ms", "30000", "--setting", "suggest_facets", "off",
                "--setting", "num_sql_threads", "3"]  # fmt: skip
        peer = Server("datasette", argv, os.environ.copy(), f"/{database.stem}.json")
    with peer or _nothing():
        if peer:
            check_same_answer(ours, peer, path, datasette_path(engine.path(scale), sample))
        for number in range(settings.rounds):
            say(f"{engine.name} S{scale} : charge, tour {number + 1}/{settings.rounds}")
            rounds["ours"].append(load_test(wrk, ours.port, path, settings.connections, settings.duration))
            if peer:
                peer_path = datasette_path(engine.path(scale), sample)
                rounds["datasette"].append(
                    load_test(wrk, peer.port, peer_path, settings.connections, settings.duration)
                )
    summary = {name: summarise_rounds(values) for name, values in rounds.items() if values}
    summary["tool"] = "wrk" if wrk else "python"
    summary["connections"], summary["duration_s"] = settings.connections, settings.duration
    if "datasette" in summary:
        summary["ratio"] = round(
            summary["ours"]["requests_per_second"] / summary["datasette"]["requests_per_second"], 2
        )
    return summary


@contextmanager
def _nothing():
    yield None


def check_same_answer(ours: Server, peer: Server, path: str, peer_path: str) -> None:
    """Both answer the same question: the same number of matching projects and the same first page."""
    mine = json.loads(get(ours.port, path)[1])
    status, body = get(peer.port, peer_path)
    if status != 200:
        raise SystemExit(f"Datasette : HTTP {status} {body[:300]!r}")
    theirs = json.loads(body)
    count = theirs.get("filtered_table_rows_count")
    # Projects reported on the same day may come in another order: the page's dates must be the same.
    days = [row["reported_on"] for row in theirs["rows"]]
    if count != mine["count"] or days != [p["reported_on"] for p in mine["results"]]:
        raise SystemExit(f"Datasette et Pilotage ne répondent pas la même chose : {count} ≠ {mine['count']}")


def summarise_rounds(values: list[dict]) -> dict:
    return {
        "requests_per_second": round(statistics.median(v["requests_per_second"] for v in values), 1),
        "p50_ms": round(statistics.median(v["p50_ms"] for v in values), 1),
        "p99_ms": round(statistics.median(v["p99_ms"] for v in values), 1),
        "errors": sum(v["errors"] for v in values),
        "rounds": values,
    }


def counts_step(_payload: dict) -> dict:
    from pilotage.programme.models import Territory
    from pilotage.projects.models import FundingLine, Project

    return {
        "territories": Territory.objects.count(),
        "projects": Project.objects.count(),
        "funding_lines": FundingLine.objects.count(),
    }


def measure_import(engine, settings: Settings) -> dict:
    """`bench/import_projects.py`'s measure, on this engine (a fresh database per run)."""
    import import_projects

    say(f"{engine.name} : import de {settings.import_rows} lignes ({settings.import_runs} fois)")
    args = argparse.Namespace(rows=settings.import_rows, runs=settings.import_runs, seed=1)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        target = engine.import_engine(Path(tmp))
        try:
            return import_projects.measure(target, Path(tmp) / "projets.xlsx", args)
        finally:
            target.close()


# --- results -------------------------------------------------------------------------------------------------------


def machine() -> dict:
    memory = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(memory / 1024**3, 1),
        "platform": platform.platform(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        ),  # fmt: skip
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions(wrk: str | None, datasette: str | None, engines: dict) -> dict:
    from importlib.metadata import version

    out = {
        "python": platform.python_version(),
        "django": version("Django"),
        "gunicorn": version("gunicorn"),
        "sqlite": sqlite3.sqlite_version,
        "wrk": tool_version([wrk, "--version"]) if wrk else "absent (générateur Python)",
        "datasette": version("datasette") if datasette else "absent",
    }
    if "postgresql" in engines and engines["postgresql"].bin:
        out["postgresql"] = tool_version([str(engines["postgresql"].bin / "postgres"), "--version"])
    return out


def headline(runs: list[Run], imports: dict) -> dict[str, dict]:
    """For each engine, the measures the targets are about, at its largest measured scale."""
    out: dict[str, dict] = {}
    for engine in sorted({r.engine for r in runs}):
        run = max((r for r in runs if r.engine == engine), key=lambda r: r.scale)
        values = {
            "scale": run.scale,
            "stats_national_p50": run.latency["stats_national"]["p50_ms"],
            "stats_national_raw_ratio": round(
                run.latency["stats_national"]["p50_ms"]
                / run.raw_sql.get("stats_national:records", run.raw_sql["stats_national"]),
                3,
            ),
            "stats_national_own_sql_ratio": round(
                run.latency["stats_national"]["p50_ms"] / run.raw_sql["stats_national"], 2
            ),
            "territory_page_p50": run.latency["territory_page"]["p50_ms"],
            "worker_rss_mb": run.worker_rss_mb,
            "projects_vs_datasette": run.load.get("ratio"),
            "import_rows_per_second": imports.get(engine, {}).get("rows_per_second"),
        }
        out[engine] = values
    return out


def verdicts(head: dict[str, dict]) -> list[dict]:
    rows = []
    for label, key, bound, unit, higher in TARGETS:
        for engine, values in head.items():
            value = values.get(key)
            if value is None:
                rows.append({"target": label, "engine": engine, "scale": values["scale"], "value": None,
                             "bound": bound, "unit": unit, "higher": higher, "met": None, "by": None})  # fmt: skip
                continue
            met = value >= bound if higher else value <= bound
            by = round(bound / value, 2) if higher else round(value / bound, 2)
            rows.append({"target": label, "engine": engine, "scale": values["scale"], "value": value, "bound": bound,
                         "unit": unit, "higher": higher, "met": met, "by": by})  # fmt: skip
    return rows


LABELS = {
    "stats_national": "/api/v1/stats national",
    "stats_national_as_of": f"/api/v1/stats national, as_of={AS_OF}",
    "stats_region": "/api/v1/stats région",
    "stats_region_as_of": "/api/v1/stats région, as_of",
    "stats_territory": "/api/v1/stats territoire",
    "stats_territory_as_of": "/api/v1/stats territoire, as_of",
    "projects": "/api/v1/projects région+thème+q, 50",
    "territory_page": "page territoire (HTML)",
    "national_dashboard": "tableau de bord national (HTML)",
}


def markdown(result: dict) -> str:
    runs = result["runs"]
    columns = [f"{r['engine']} S{r['scale']}" for r in runs]
    m, v = result["machine"], result["versions"]
    lines = [
        f"# Banc de mesure Pilotage — {result['date']}",
        "",
        f"Machine : {m['cores']} cœurs ({m['cpu']}), {m['ram_gb']} Go, {m['platform']} ; charge (1/5/15 min) au "
        f"début {' / '.join(map(str, m['load_average_start']))}, à la fin {' / '.join(map(str, m['load_average_end']))}"
        " (machine partagée : chaque mesure porte la charge du moment).",
        "Versions : " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        f"Méthode : {result['method']}",
        "",
        "## Volumes",
        "",
        "| | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for key, label in (
        ("territories", "territoires"),
        ("projects", "projets"),
        ("funding_lines", "lignes de financement"),
    ):
        lines.append(f"| {label} | " + " | ".join(f"{r['counts'][key]:,}".replace(",", " ") for r in runs) + " |")
    lines += ["", "## Latence, requêtes l'une après l'autre : p50 / p90 en ms (requêtes SQL)", ""]
    lines += ["| adresse | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, label in LABELS.items():
        cells = [
            f"{r['latency'][name]['p50_ms']} / {r['latency'][name]['p90_ms']} ({r['queries'][name]})" for r in runs
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| charge 1 min pendant ces mesures | " + " | ".join(
        f"{min(x['load_1min'] for x in r['latency'].values())}–{max(x['load_1min'] for x in r['latency'].values())}"
        for r in runs) + " |")  # fmt: skip
    lines += ["", "## /api/v1/stats face au SQL brut (même SQL, pilote seul, connexion chaude)", ""]
    lines += ["| adresse | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name in (n for n in LABELS if n.startswith("stats_")):
        cells = [raw_cell(r["latency"][name]["p50_ms"], r["raw_sql"][name]) for r in runs]
        lines.append(f"| {LABELS[name]} : p50 HTTP / son SQL rejoué (ms) | " + " | ".join(cells) + " |")
        if any(f"{name}:records" in r["raw_sql"] for r in runs):
            cells = [
                raw_cell(r["latency"][name]["p50_ms"], r["raw_sql"][f"{name}:records"])
                if f"{name}:records" in r["raw_sql"]
                else "—"
                for r in runs
            ]
            lines.append(
                f"| {LABELS[name]} : p50 HTTP / agrégats SQL sur les fiches (ms) | " + " | ".join(cells) + " |"
            )
    lines += [
        "",
        "## Liste des projets sous charge : Pilotage face à Datasette (même fichier SQLite, même requête)",
        "",
    ]
    lines += [
        "| | débit Pilotage (req/s) | p50 / p99 (ms) | débit Datasette (req/s) | p50 / p99 (ms) | rapport | charge |"
    ]
    lines += ["|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        ours, theirs = r["load"]["ours"], r["load"].get("datasette")
        loads = [
            x["load_1min"] for side in ("ours", "datasette") if side in r["load"] for x in r["load"][side]["rounds"]
        ]
        peer = f"{theirs['requests_per_second']} | {theirs['p50_ms']} / {theirs['p99_ms']}" if theirs else "— | —"
        ratio = f"**{r['load']['ratio']}×**" if theirs else "—"
        lines.append(
            f"| {r['engine']} S{r['scale']} | {ours['requests_per_second']} | {ours['p50_ms']} / {ours['p99_ms']} | "
            f"{peer} | {ratio} | {min(loads)}–{max(loads)} |"
        )
    if runs:
        load_info = runs[0]["load"]
        lines.append(
            f"\n{load_info['tool']}, {load_info['connections']} connexions, {load_info['duration_s']} s par tour, "
            f"{len(load_info['ours']['rounds'])} tours alternés ; médianes des tours."
        )
    lines += ["", "## Mémoire et import", ""]
    lines += ["| | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines.append(
        "| pic de mémoire d'un worker (VmHWM, Mo) | " + " | ".join(str(r["worker_rss_mb"]) for r in runs) + " |"
    )
    lines.append("| workers gunicorn | " + " | ".join(str(r["workers"]) for r in runs) + " |")
    if result["imports"]:
        lines += [
            "",
            "| import xlsx | lignes | médiane (s) | lignes/s | réimport inchangé (s) | simulation (s) | charge |",
        ]
        lines += ["|---|---:|---:|---:|---:|---:|---:|"]
        for engine, i in result["imports"].items():
            lines.append(
                f"| {engine} | {i['rows']} | {i['median_seconds']} | **{i['rows_per_second']}** | "
                f"{i['reimport_unchanged_seconds']} | {i['dry_run_seconds']} | {i['machine']['load_average_1min']} |"
            )
    lines += ["", "## Objectifs (issue 6, à la plus grande échelle mesurée de chaque moteur)", ""]
    lines += ["| objectif | moteur | échelle | mesuré | borne | tenu | écart |", "|---|---|---:|---:|---:|:---:|---:|"]
    for row in result["targets"]:
        if row["value"] is None:
            lines.append(
                f"| {row['target']} | {row['engine']} | S{row['scale']} | non mesuré | {row['bound']} | — | — |"
            )
            continue
        gap = "" if row["met"] else f"manque d'un facteur {row['by']}"
        lines.append(
            f"| {row['target']} | {row['engine']} | S{row['scale']} | {row['value']} {row['unit']} | "
            f"{'≥' if row['higher'] else '≤'} "
            f"{row['bound']} {row['unit']} | {'oui' if row['met'] else '**non**'} | {gap} |"
        )
    return "\n".join(lines) + "\n"


def raw_cell(ours: float, raw: float) -> str:
    return f"{ours} / {raw} = **{ours / raw:.2f}×**"


def write_results(result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = result["date"].replace(":", "").replace("-", "")[:15]
    text, table = json.dumps(result, ensure_ascii=False, indent=2) + "\n", markdown(result)
    for name in ("latest", f"bench-{stamp}"):
        (RESULTS / f"{name}.json").write_text(text, encoding="utf-8")
        (RESULTS / f"{name}.md").write_text(table, encoding="utf-8")
    return RESULTS / "latest.md"


# --- main ----------------------------------------------------------------------------------------------------------


def parse_args() -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10,100", help="échelles de load_demo (défaut : %(default)s)")
    parser.add_argument("--engines", default="sqlite,postgresql", help="sqlite, postgresql (défaut : les deux)")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--quick", action="store_true", help="moins de répétitions et des tours de charge plus courts")
    parser.add_argument("--workers", type=int, default=None, help="workers gunicorn (défaut : celui de pilotage serve)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=None, help="secondes par tour de charge")
    parser.add_argument("--repeats", type=int, default=None, help="requêtes par adresse pour la latence")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--skip", default="", help="parties à sauter : import, peers")
    parser.add_argument("--rebuild", action="store_true", help="reconstruit les bases en cache")
    parser.add_argument("--build-only", action="store_true", help="construit les bases en cache, sans mesurer")
    args = parser.parse_args()
    return Settings(
        scales=[int(s) for s in args.scales.split(",") if s],
        engines=[e.strip() for e in args.engines.split(",") if e.strip()],
        seed=args.seed,
        quick=args.quick,
        workers=args.workers,
        connections=args.connections,
        duration=args.duration or (5 if args.quick else 15),
        rounds=2 if args.quick else 3,
        repeats=args.repeats or (7 if args.quick else 15),
        import_rows=args.import_rows,
        import_runs=3,
        skip={s.strip() for s in args.skip.split(",") if s.strip()},
        rebuild=args.rebuild,
        build_only=args.build_only,
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.path.insert(0, str(ROOT / "src"))
        import django

        django.setup()
        if sys.argv[2] == "rawserve":
            raw_sql_server()
            return
        step = {"sample": sample_step, "probe": probe_step, "counts": counts_step}[sys.argv[2]]
        print(json.dumps(step(json.loads(sys.argv[3]))))
        return
    settings = parse_args()
    sys.path[:0] = [str(BENCH), str(ROOT / "src")]
    CACHE.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk()
    datasette = ensure_datasette() if "peers" not in settings.skip else None
    engines = {"sqlite": SQLiteEngine(settings), "postgresql": PostgreSQLEngine(settings)}
    engines = {name: engines[name] for name in settings.engines}
    result = {
        "benchmark": "pilotage",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(wrk, datasette, engines),
        "settings": {**settings.__dict__, "skip": sorted(settings.skip)},
        "method": (
            f"latence : {settings.repeats} requêtes l'une après l'autre par adresse après que chaque worker l'a "
            "servie une fois, nouvelle connexion à chaque fois (médiane p50, 90e centile p90) ; SQL brut : le SQL "
            "que Django exécute pour la même réponse, rejoué sur la connexion du pilote (chaude) après chaque "
            "requête HTTP, médiane ; charge : "
            f"{settings.rounds} tours alternés Pilotage / Datasette."
        ),
        "runs": [],
        "imports": {},
    }
    if settings.build_only:
        for engine in engines.values():
            with engine.running():
                for scale in settings.scales:
                    say(f"{engine.name} S{scale} : {engine.database(scale)}")
        return
    runs: list[Run] = []
    for name, engine in engines.items():
        with engine.running():
            for scale in settings.scales:
                runs.append(measure_scale(engine, scale, settings, wrk, datasette))
                result["runs"] = [r.__dict__ for r in runs]
            if "import" not in settings.skip:
                result["imports"][name] = measure_import(engine, settings)
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["headline"] = headline(runs, {k: v for k, v in result["imports"].items()})
    result["targets"] = verdicts(result["headline"])
    path = write_results(result)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
