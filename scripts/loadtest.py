"""`make loadtest`: many users at once on the real server, on a throwaway database; no error, no lost update.

    .venv/bin/python scripts/loadtest.py [--users 50] [--duration 5m] [--engine sqlite|postgresql]
                                         [--import-rows 3000] [--workers N] [--think 0.2,1.0] [--seed 2018]
                                         [--output bench/results]

1. A throwaway database under /tmp: a SQLite file, or (`--engine postgresql`) a PostgreSQL cluster started for the
   run on a free loopback port, as `.ci/run` does; migrated, with the whole referential and the demonstration data
   at scale 1 (`pilotage load_referential`, `pilotage load_demo --scale 1`).
2. API tokens for several roles: national coordination and a regional pilot (reads), and for each edited ("hot")
   project its territory team and its project owner (edits); a workbook of `--import-rows` new projects.
3. `pilotage serve` (gunicorn, several workers) on a free loopback port.
4. `--users` simulated users for `--duration`, each in its own thread, waiting `--think` seconds (uniform) between
   two actions: public pages (home, projects search, territory, project, national dashboard), API reads (projects
   list, one project, stats) and project edits through the API. An edit is a read-modify-write: read the project
   (its `ETag`), append a token of its own to the description, `PATCH` with `If-Match`; a 409 (someone wrote in
   between) is a correct answer: the user reads again and retries. Five users share each hot project, so that
   conflicts happen. At a quarter of the run, `pilotage import_projects` imports the workbook (one big
   transaction) beside the server.
5. At the end, the tokens found in the database are compared with the writes the server acknowledged:
   lost = acknowledged - found; the version of each hot project must have grown by as many writes.

An error is a failed request: no answer (connection, timeout), a 5xx, or any status other than the expected ones
(200/304 for a read, 200 or 409 for a write). Prints the results and writes `loadtest-<engine>.json` and `.md` in
`--output` (none with `--output ''`). Exit status 1 when there was an error or a lost update.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
USERS_PER_HOT_PROJECT = 5
TOKEN = re.compile(r"\[lt-(u\d+)-(\d+)\]")
EDITABLE_STATUSES = ("idea", "maturing", "ready", "in_progress")


def say(message: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def app_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "loadtest-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
        "DJANGO_SETTINGS_MODULE": "pilotage.settings",
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    }


def pilotage(database_url: str, *argv: str) -> None:
    subprocess.run([str(BIN / "pilotage"), *argv], env=app_env(database_url), check=True, stdout=subprocess.DEVNULL)


def worker(database_url: str, step: str, payload: dict) -> dict:
    """Run a step of this file in a Django process on the database; its last line of output is JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", step, json.dumps(payload)],
        env=app_env(database_url),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"étape {step} en échec :\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_demo(database_url: str, seed: int = 2018) -> None:
    """Migrated, the whole referential, the demonstration data at scale 1."""
    pilotage(database_url, "migrate", "-v0")
    pilotage(database_url, "load_referential", "-v0")
    pilotage(database_url, "load_demo", "--scale", "1", "--seed", str(seed))


# --- throwaway databases ---------------------------------------------------------------------------------------------


class ThrowawayPostgreSQL:
    """A cluster in a temporary directory on a free loopback port (as `.ci/run`), removed on exit."""

    def __init__(self, directory: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
        if not bins:
            raise SystemExit("PostgreSQL est introuvable (apt-get install postgresql) : essayez --engine sqlite.")
        self.bin = bins[-1].parent
        self.root = directory / "postgresql"
        self.port = free_port()

    def run(self, *argv: str) -> None:
        if os.geteuid() == 0:
            argv = ("su", "postgres", "-s", "/bin/bash", "-c", shlex.join(argv))
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def __enter__(self) -> str:
        self.root.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.root.parent, "postgres")
        data = self.root / "data"
        self.run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c max_connections=200 "
            "-c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.run(str(self.bin / "pg_ctl"), "-D", str(data), "-w", "-l", str(self.root / "log"), "-o", options,
                 "start")  # fmt: skip
        return f"postgres://postgres@{HOST}:{self.port}"

    def __exit__(self, *exc) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")


def create_database(server: str, name: str, template: str | None = None) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(engine: str, directory: Path):
    """The URL of an empty database of the engine, in (or started in) `directory`."""
    if engine == "sqlite":
        yield f"sqlite:///{directory / 'loadtest.sqlite3'}"
        return
    with ThrowawayPostgreSQL(directory) as server:
        yield create_database(server, "pilotage")


# --- the real server -------------------------------------------------------------------------------------------------


class Server:
    """`pilotage serve` on a free loopback port, in its own process group (stopped, or killed, as a whole)."""

    def __init__(self, database_url: str, workers: int | None = None, log: Path | None = None) -> None:
        self.database_url, self.workers = database_url, workers
        self.port = free_port()
        self.own_log = log is None  # a temporary file, removed when the server stops
        self.log_path = log or Path(tempfile.mkstemp(prefix="pilotage-serve-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        argv = [str(BIN / "pilotage"), "serve", "--host", HOST, "--port", str(self.port)]
        argv += ["--workers", str(self.workers)] if self.workers else []
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, env=app_env(self.database_url), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"le serveur s'est arrêté : {self.log_tail()}")
            try:
                if request(self.port, "GET", "/api/v1/territories?page_size=1", timeout=10)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"le serveur ne répond pas : {self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def kill(self) -> None:
        """kill -9 of the master and of every worker at once: a crash, nothing is finished nor rolled back cleanly."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its workers."""
        ticks = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def run_queue_seconds(self) -> float:
        """Time the master and its workers spent ready to run but waiting for a core (the machine is shared)."""
        waited = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            schedstat = Path(f"/proc/{pid}/schedstat")
            waited += int(schedstat.read_text().split()[1]) if schedstat.exists() else 0
        return waited / 1e9

    def log_tail(self, size: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-size:]

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        if self.own_log:
            self.log_path.unlink(missing_ok=True)


def request(
    port: int, method: str, path: str, *, token: str = "", body: dict | None = None, headers: dict | None = None,
    timeout: float = 120,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One HTTP request on a new connection (gunicorn's sync workers close it after each answer)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    sent = {"Connection": "close", "Accept-Language": "fr", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# --- the simulated users ---------------------------------------------------------------------------------------------


class Recorder:
    """Latencies per kind of request, errors, statuses and the writes acknowledged; shared by the user threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []
        self.conflicts = 0
        self.acknowledged: dict[str, list[str]] = defaultdict(list)  # hot project -> tokens acknowledged (200)
        self.uncertain: dict[str, list[str]] = defaultdict(list)  # sent, no answer: may or may not be written
        self.origin = time.perf_counter()
        self.moments: list[tuple[float, float]] = []  # (start since the origin, latency) of every answered request
        self.import_span: tuple[float, float] | None = None

    def timed(self, kind: str, port: int, method: str, path: str, expected: tuple[int, ...], **kwargs):
        started = time.perf_counter()
        try:
            status, headers, body = request(port, method, path, **kwargs)
        except (OSError, http.client.HTTPException) as exc:
            self.error(kind, f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[kind].append(elapsed)
            self.moments.append((started - self.origin, elapsed))
            self.statuses[status] += 1
        if status not in expected:
            self.error(kind, f"{method} {path}: HTTP {status} {body[:300]!r}")
            return None
        return status, headers, body

    def error(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(message)


class User(threading.Thread):
    """One simulated user: random actions (weighted), a think time between two, until the deadline."""

    ACTIONS = {
        "page_home": 1,
        "page_projects": 2,
        "page_territory": 2,
        "page_project": 2,
        "page_dashboard": 1,
        "api_projects": 2,
        "api_project": 2,
        "api_stats": 1,
        "edit": 4,
    }

    def __init__(self, number: int, plan: dict, port: int, recorder: Recorder, deadline: float, think, seed: int):
        super().__init__(daemon=True, name=f"user-{number}")
        self.number, self.plan, self.port, self.recorder = number, plan, port, recorder
        self.deadline, self.think = deadline, think
        self.random = random.Random(seed * 1000 + number)
        self.hot = plan["hot"][number % len(plan["hot"])]
        editor = (number // len(plan["hot"])) % 2
        self.edit_token = self.hot["team_token"] if editor == 0 else self.hot["owner_token"]
        self.read_token = plan["reader_tokens"][number % len(plan["reader_tokens"])] if number % 3 == 0 else ""
        self.edits = 0

    def run(self) -> None:
        kinds, weights = zip(*self.ACTIONS.items(), strict=True)
        while time.monotonic() < self.deadline:
            kind = self.random.choices(kinds, weights)[0]
            getattr(self, kind)()
            time.sleep(self.random.uniform(*self.think))

    def get(self, kind: str, path: str, token: str = "") -> None:
        self.recorder.timed(kind, self.port, "GET", path, (200,), token=token)

    def page_home(self) -> None:
        self.get("page_home", "/")

    def page_projects(self) -> None:
        if self.random.random() < 0.5:
            query = {"q": self.random.choice(self.plan["words"])}
        else:
            query = {"region": self.random.choice(self.plan["regions"])}
        self.get("page_projects", "/projets/?" + urllib.parse.urlencode(query))

    def page_territory(self) -> None:
        self.get("page_territory", f"/territoires/{self.random.choice(self.plan['territories'])}/")

    def page_project(self) -> None:
        self.get("page_project", f"/projets/{self.random.choice(self.plan['projects'])}/")

    def page_dashboard(self) -> None:
        self.get("page_dashboard", "/tableaux-de-bord/")

    def api_projects(self) -> None:
        query = {"region": self.random.choice(self.plan["regions"]), "page_size": 50}
        self.get("api_projects", "/api/v1/projects?" + urllib.parse.urlencode(query), self.read_token)

    def api_project(self) -> None:
        self.get("api_project", f"/api/v1/projects/{self.random.choice(self.plan['projects'])}", self.read_token)

    def api_stats(self) -> None:
        choice = self.random.random()
        query = (
            {}
            if choice < 0.3
            else {"region": self.random.choice(self.plan["regions"])}
            if choice < 0.6
            else {"territory": self.random.choice(self.plan["territories"])}
        )
        self.get("api_stats", "/api/v1/stats?" + urllib.parse.urlencode(query), self.read_token)

    def edit(self) -> None:
        """Read-modify-write of the hot project's description with If-Match; on 409, read again and retry."""
        path = f"/api/v1/projects/{self.hot['id_projet']}"
        self.edits += 1
        token = f"[lt-u{self.number:03}-{self.edits:05}]"
        for _attempt in range(100):
            read = self.recorder.timed("edit_read", self.port, "GET", path, (200,), token=self.edit_token)
            if read is None:
                return
            description = json.loads(read[2])["description"] or ""
            written = self.recorder.timed(
                "edit_write", self.port, "PATCH", path, (200, 409), token=self.edit_token,
                body={"description": f"{description} {token}".strip()}, headers={"If-Match": read[1]["etag"]},
            )  # fmt: skip
            if written is None:
                with self.recorder.lock:  # no answer or an error: the write may or may not be there
                    self.recorder.uncertain[self.hot["id_projet"]].append(token)
                return
            if written[0] == 200:
                with self.recorder.lock:
                    self.recorder.acknowledged[self.hot["id_projet"]].append(token)
                return
            with self.recorder.lock:
                self.recorder.conflicts += 1
            time.sleep(self.random.uniform(0, 0.05))
        self.recorder.error("edit_write", f"PATCH {path}: toujours en conflit après 100 essais")


class Import(threading.Thread):
    """`pilotage import_projects` of the workbook, beside the server, once, after `delay` seconds."""

    def __init__(self, database_url: str, workbook: str, delay: float, recorder: Recorder) -> None:
        super().__init__(daemon=True, name="import")
        self.database_url, self.workbook, self.delay, self.recorder = database_url, workbook, delay, recorder
        self.result: dict = {}

    def run(self) -> None:
        time.sleep(self.delay)
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "pilotage"), "import_projects", self.workbook, "--report", "json", "-v0"],
            env=app_env(self.database_url),
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        self.recorder.import_span = (started - self.recorder.origin, started - self.recorder.origin + seconds)
        self.result = {"seconds": round(seconds, 2), "exit_status": done.returncode}
        try:
            report = json.loads(done.stdout)
            self.result.update(created=report.get("created"), rows=report.get("rows"))
        except ValueError:
            pass
        with self.recorder.lock:
            self.recorder.latency["import"].append(seconds)
        if done.returncode:
            self.recorder.error("import", f"import_projects : code {done.returncode} {done.stderr[-500:]}")


def warm_up(port: int, plan: dict, workers: int) -> None:
    """Each address a few times at once before the measure, so that every worker has served it (lazy imports,
    compiled templates): the first request of a fresh process is not what users see once the server runs."""
    hot = plan["hot"][0]
    paths = ["/", "/projets/", f"/territoires/{plan['territories'][0]}/", f"/projets/{plan['projects'][0]}/",
             "/tableaux-de-bord/", "/api/v1/projects?page_size=50", f"/api/v1/projects/{hot['id_projet']}",
             "/api/v1/stats"]  # fmt: skip
    for path in paths:
        threads = [threading.Thread(target=request, args=(port, "GET", path)) for _ in range(workers + 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def run_load(
    database_url: str, server: Server, plan: dict, *, users: int, duration: float, think=(0.2, 1.0), seed: int = 2018,
    import_at: float | None = None,
) -> dict:  # fmt: skip
    """The users for `duration` seconds against the server, the import at `import_at` seconds; then the database is
    checked against what the server acknowledged."""
    port = server.port
    warm_up(port, plan, len(server.worker_pids()))
    server_cpu, client_cpu, run_queue = server.cpu_seconds(), time.process_time(), server.run_queue_seconds()
    recorder = Recorder()
    started = time.monotonic()
    deadline = started + duration
    threads = [User(n, plan, port, recorder, deadline, think, seed) for n in range(users)]
    importer = Import(database_url, plan["workbook"], import_at, recorder) if import_at is not None else None
    for thread in threads:
        thread.start()
        time.sleep(min(0.05, duration / 100))  # users arrive over a moment, not in the same millisecond
    if importer:
        importer.start()
    for thread in threads:
        thread.join()
    if importer:
        importer.join()
    elapsed = time.monotonic() - started
    server_cpu, run_queue = server.cpu_seconds() - server_cpu, server.run_queue_seconds() - run_queue
    client_cpu = time.process_time() - client_cpu
    found = worker(database_url, "check", {"hot": [h["id_projet"] for h in plan["hot"]]})
    result = summarize(plan, recorder, found, users=users, elapsed=elapsed, importer=importer)
    # What the server had of the machine: its CPU seconds per second of run and per request, and how long its
    # processes waited for a free core (the machine is shared).
    result["server_cpu_s"] = round(server_cpu, 1)
    result["server_cores_used"] = round(server_cpu / elapsed, 2)
    result["server_cpu_ms_per_request"] = round(1000 * server_cpu / max(1, result["requests"]), 1)
    result["server_run_queue_wait_s"] = round(run_queue, 1)
    result["load_generator_cpu_s"] = round(client_cpu, 1)
    return result


def summarize(plan: dict, recorder: Recorder, found: dict, *, users: int, elapsed: float, importer) -> dict:
    lost, unexpected, version_mismatch = 0, 0, []
    for hot in plan["hot"]:
        pid = hot["id_projet"]
        tokens = Counter(found["projects"][pid]["tokens"])
        acknowledged = recorder.acknowledged[pid]
        lost += sum(1 for token in acknowledged if token not in tokens)
        unexpected += sum(1 for token in tokens if token not in acknowledged and token not in recorder.uncertain[pid])
        unexpected += sum(count - 1 for count in tokens.values() if count > 1)  # a token written twice
        written = found["projects"][pid]["version"] - hot["version"]
        committed = sum(1 for token in recorder.uncertain[pid] if token in tokens)
        if written != len(acknowledged) + committed:
            version_mismatch.append({"project": pid, "versions": written, "writes": len(acknowledged) + committed})
    kinds = {}
    for kind, values in sorted(recorder.latency.items()):
        kinds[kind] = {
            "count": len(values),
            "p50_ms": round(percentile(values, 0.50) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }
    http_latencies = [v for kind, values in recorder.latency.items() if kind != "import" for v in values]
    span = recorder.import_span
    during = [lat for start, lat in recorder.moments if span and span[0] <= start < span[1]]
    outside = [lat for start, lat in recorder.moments if not (span and span[0] <= start < span[1])]
    requests = len(http_latencies) + sum(n for kind, n in recorder.errors.items() if kind != "import")
    import_result = dict(importer.result) if importer else None
    if import_result is not None:
        import_result["projects_found"] = found["imported"]
        if import_result.get("exit_status") == 0 and found["imported"] != plan["import_rows"]:
            recorder.error("import", f"{found['imported']} projets importés sur {plan['import_rows']}")
    return {
        "users": users,
        "duration_s": round(elapsed, 1),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "errors": sum(recorder.errors.values()),
        "errors_by_kind": dict(recorder.errors),
        "error_samples": recorder.error_samples,
        "statuses": {str(k): v for k, v in sorted(recorder.statuses.items())},
        "edits_acknowledged": sum(len(v) for v in recorder.acknowledged.values()),
        "edits_without_answer": sum(len(v) for v in recorder.uncertain.values()),
        "conflicts_409_retried": recorder.conflicts,
        "lost_updates": lost,
        "unexpected_writes": unexpected,
        "version_mismatches": version_mismatch,
        "hot_projects": len(plan["hot"]),
        "p50_ms": round(percentile(http_latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(http_latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(http_latencies, 0.99) * 1000, 1),
        "p95_ms_during_import": round(percentile(during, 0.95) * 1000, 1) if during else None,
        "p95_ms_outside_import": round(percentile(outside, 0.95) * 1000, 1),
        "requests_during_import": len(during),
        "latency": kinds,
        "timeline": timeline(recorder.moments, span, elapsed),
        "import": import_result,
    }


def timeline(moments: list[tuple[float, float]], span, elapsed: float) -> list[dict]:
    """Requests by window of time (a tenth of the run, at least 5 s): how many, p50/p95/max, import running or not."""
    width = max(5.0, round(elapsed / 10))
    windows = []
    for number in range(int(elapsed // width) + 1):
        start, end = number * width, (number + 1) * width
        values = [latency for moment, latency in moments if start <= moment < end]
        if values:
            windows.append({
                "from_s": start,
                "requests": len(values),
                "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                "max_ms": round(max(values) * 1000, 1),
                "import": bool(span and span[0] < end and span[1] > start),
            })  # fmt: skip
    return windows


def passed(result: dict) -> bool:
    return not (
        result["errors"] or result["lost_updates"] or result["unexpected_writes"] or result["version_mismatches"]
    )


# --- worker steps (in a Django process on the database) --------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def prepare_step(payload: dict) -> dict:
    """Hot projects (public, open, in distinct territories) with a team and an owner token each, reader tokens, the
    addresses the users visit, and the workbook to import (new projects, `bench/import_projects.py`'s generator)."""
    from pilotage.accounts.models import Role
    from pilotage.accounts.services import create_or_update_user
    from pilotage.accounts.tokens import create_token
    from pilotage.programme.models import Territory
    from pilotage.projects.models import Project

    users, seed = payload["users"], payload["seed"]
    count = max(1, -(-users // USERS_PER_HOT_PROJECT))
    hot, seen = [], set()
    candidates = Project.objects.filter(public=True, status__in=EDITABLE_STATUSES).select_related("territory")
    for project in candidates.order_by("id_projet"):
        if project.territory_id in seen:
            continue
        seen.add(project.territory_id)
        team, *_ = create_or_update_user(f"equipe-{len(hot)}@loadtest.invalid", Role.Kind.TERRITORY_TEAM,
                                         project.territory.code)  # fmt: skip
        owner, *_ = create_or_update_user(f"porteur-{len(hot)}@loadtest.invalid", Role.Kind.PROJECT_OWNER,
                                          project.id_projet)  # fmt: skip
        hot.append({
            "id_projet": project.id_projet,
            "territory": project.territory.code,
            "version": project.version,
            "team_token": create_token(team, name="loadtest"),
            "owner_token": create_token(owner, name="loadtest"),
        })  # fmt: skip
        if len(hot) == count:
            break
    region = hot and Project.objects.get(id_projet=hot[0]["id_projet"]).territory.region_id
    national, *_ = create_or_update_user("national@loadtest.invalid", Role.Kind.NATIONAL)
    regional, *_ = create_or_update_user("region@loadtest.invalid", Role.Kind.REGIONAL_PILOT, region)
    rng = random.Random(seed)
    projects = list(Project.objects.filter(public=True).order_by("id_projet").values_list("id_projet", flat=True))
    territories = list(Territory.objects.order_by("code").values_list("code", flat=True))
    plan = {
        "hot": hot,
        "reader_tokens": [create_token(national, name="loadtest"), create_token(regional, name="loadtest")],
        "projects": rng.sample(projects, min(300, len(projects))),
        "territories": rng.sample(territories, min(40, len(territories))),
        "regions": sorted(set(Territory.objects.values_list("region_id", flat=True))),
        "words": ["usine", "numérique", "hydrogène", "formation", "friche", "recyclage"],
        "import_rows": payload["import_rows"],
        "workbook": payload["workbook"],
    }
    if payload["import_rows"]:
        workbook_step({"path": payload["workbook"], "rows": payload["import_rows"], "seed": seed})
    return plan


def workbook_step(payload: dict) -> dict:
    """A workbook of `rows` new projects (ids `BENCH-…`) in the territories, by `bench/import_projects.py`."""
    sys.path.insert(0, str(ROOT / "bench"))
    import import_projects

    import_projects.generate(payload["path"], payload["rows"], payload["seed"])
    return {"path": payload["path"]}


def check_step(payload: dict) -> dict:
    """The tokens in each hot project's description, its version, and how many imported projects there are."""
    from pilotage.projects.models import Project

    projects = {}
    for project in Project.objects.filter(id_projet__in=payload["hot"]):
        tokens = [match.group(0) for match in TOKEN.finditer(project.description)]
        projects[project.id_projet] = {"tokens": tokens, "version": project.version}
    return {"projects": projects, "imported": Project.objects.filter(id_projet__startswith="BENCH-").count()}


def engine_label_step(_payload: dict) -> dict:
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        import sqlite3

        return {"engine": f"SQLite {sqlite3.sqlite_version}"}
    major, rest = divmod(connection.pg_version, 10000)
    return {"engine": f"PostgreSQL {major}.{rest}"}


STEPS = {"prepare": prepare_step, "workbook": workbook_step, "check": check_step, "engine": engine_label_step}


# --- the command -----------------------------------------------------------------------------------------------------


def duration(text: str) -> float:
    """Seconds, from `300`, `300s`, `5m`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"durée invalide : {text} (ex. 300, 20s, 5m)")
    return float(match.group(1)) * (60 if match.group(2) in ("m", "min") else 1)


def machine() -> dict:
    memory = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(memory / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def markdown(result: dict) -> str:
    settings = result["settings"]
    lines = [
        f"# Test de charge — {result['engine']}",
        "",
        f"{result['date']} · `scripts/loadtest.py --users {settings['users']} --duration {settings['duration_s']:g} "
        f"--engine {settings['engine']}` · {result['machine']['cores']} cœurs, {result['machine']['ram_gb']} Go, "
        f"{result['workers']} processus gunicorn · charge moyenne (1 min) {result['load_average_start']} → "
        f"{result['load_average_end']} (machine partagée)",
        "",
        f"**{'RÉUSSI' if passed(result) else 'ÉCHEC'}** : {result['errors']} erreur(s), "
        f"{result['lost_updates']} modification(s) perdue(s).",
        "",
        "| mesure | valeur |",
        "|---|---|",
        f"| utilisateurs simultanés | {result['users']} |",
        f"| durée | {result['duration_s']} s |",
        f"| requêtes HTTP | {result['requests']} ({result['requests_per_s']}/s) |",
        f"| erreurs | {result['errors']} |",
        f"| modifications acquittées (PATCH 200) | {result['edits_acknowledged']} |",
        f"| conflits 409 (relus puis réessayés) | {result['conflicts_409_retried']} |",
        f"| modifications perdues | {result['lost_updates']} |",
        f"| écritures inattendues / versions incohérentes | {result['unexpected_writes']} / "
        f"{len(result['version_mismatches'])} |",
        f"| CPU du serveur | {result.get('server_cores_used')} cœur(s) en moyenne, "
        f"{result.get('server_cpu_ms_per_request')} ms par requête (générateur de charge : "
        f"{result.get('load_generator_cpu_s')} s) ; attente d'un cœur libre : "
        f"{result.get('server_run_queue_wait_s')} s cumulées |",
        f"| latence p50 / p95 / p99 (toutes requêtes) | {result['p50_ms']} / {result['p95_ms']} / "
        f"{result['p99_ms']} ms |",
    ]
    if result["import"]:
        imported = result["import"]
        lines.append(
            f"| import pendant la charge | {imported.get('projects_found')} projets sur "
            f"{settings['import_rows']} lignes, {imported['seconds']} s (code {imported['exit_status']}) |"
        )
    if result.get("p95_ms_during_import") is not None:
        lines.append(
            f"| latence p95 pendant l'import / hors import | {result['p95_ms_during_import']} ms "
            f"({result['requests_during_import']} requêtes) / {result['p95_ms_outside_import']} ms |"
        )
    lines += ["", "| requête | nombre | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |", "|---|---:|---:|---:|---:|---:|"]
    for kind, row in result["latency"].items():
        lines.append(
            f"| {kind} | {row['count']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['max_ms']} |"
        )
    lines += ["", "| à partir de (s) | requêtes | p50 (ms) | p95 (ms) | max (ms) | import en cours |",
              "|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for window in result["timeline"]:
        lines.append(
            f"| {window['from_s']:g} | {window['requests']} | {window['p50_ms']} | {window['p95_ms']} | "
            f"{window['max_ms']} | {'oui' if window['import'] else ''} |"
        )
    if result["error_samples"]:
        lines += ["", "Premières erreurs :", "", *[f"- `{sample}`" for sample in result["error_samples"]]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=duration, default=300.0, help="durée : 300, 20s, 5m (défaut 5m)")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--import-rows", type=int, default=3000, help="lignes du classeur importé (0 : pas d'import)")
    parser.add_argument("--workers", type=int, default=None, help="processus gunicorn (défaut : celui de serve)")
    parser.add_argument(
        "--think", default="0.2,1.0", help="attente entre deux actions d'un utilisateur, en s (min,max)"
    )
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results"), help="dossier des résultats ('' : aucun)")
    args = parser.parse_args()
    think = tuple(float(part) for part in args.think.split(","))
    directory = Path(tempfile.mkdtemp(prefix=f"pilotage-loadtest-{args.engine}-"))
    try:
        with throwaway_database(args.engine, directory) as url:
            say(f"base jetable {args.engine} dans {directory} : référentiel et données de démonstration (échelle 1)")
            build_demo(url, args.seed)
            workbook = str(directory / "import.xlsx")
            plan = worker(url, "prepare", {"users": args.users, "seed": args.seed, "import_rows": args.import_rows,
                                          "workbook": workbook})  # fmt: skip
            engine = worker(url, "engine", {})["engine"]
            with Server(url, args.workers, directory / "serve.log") as server:
                workers = len(server.worker_pids())
                say(
                    f"{engine}, pilotage serve ({workers} processus) sur le port {server.port} : {args.users} "
                    f"utilisateurs pendant {args.duration:g} s, import de {args.import_rows} lignes à 25 %"
                )
                load_start = round(os.getloadavg()[0], 2)
                result = run_load(
                    url, server, plan, users=args.users, duration=args.duration, think=think, seed=args.seed,
                    import_at=args.duration / 4 if args.import_rows else None,
                )  # fmt: skip
                server_log = server.log_tail(10_000_000)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    settings = {"users": args.users, "duration_s": args.duration, "engine": args.engine, "think_s": list(think),
                "import_rows": args.import_rows, "seed": args.seed}  # fmt: skip
    result = {
        "benchmark": "loadtest",
        "date": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        "engine": engine,
        "settings": settings,
        "workers": workers,
        "machine": machine(),
        "load_average_start": load_start,
        "load_average_end": round(os.getloadavg()[0], 2),
        "server_tracebacks": server_log.count("Traceback"),
        "server_log_errors": [line for line in server_log.splitlines() if "Error" in line][-20:],
        **result,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(markdown(result))
    if args.output:
        output = Path(args.output)
        output.mkdir(parents=True, exist_ok=True)
        (output / f"loadtest-{args.engine}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        (output / f"loadtest-{args.engine}.md").write_text(markdown(result))
        say(f"résultats : {output}/loadtest-{args.engine}.json et .md")
    return 0 if passed(result) else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        setup_django()
        print(json.dumps(STEPS[sys.argv[2]](json.loads(sys.argv[3]))))
    else:
        sys.exit(main())
