"""Crash safety: `kill -9` during an import or during workflow transitions leaves every record entirely before or
entirely after a write, never in between; the programs start again on the database as it is.

The programs run as subprocesses on a database of their own (conftest.py: SQLite file, or a database on the
PostgreSQL server of DATABASE_URL). No hook slows anything down: the import is a genuinely large transaction (a few
thousand projects with their funding lines and history), killed at moments chosen from its progress messages; the
transitions are many small transactions sent by several clients at once to `pilotage serve`, whose master and
workers are all killed at a random moment while requests are in flight.
"""

from __future__ import annotations

import http.client
import json
import random
import signal
import subprocess
import threading
import time

import loadtest
import pytest

from .state import projects_state, query

IMPORT_ROWS = 2000
RNG = random.Random()  # a different moment at each run; the seed is printed when a check fails
SEED = random.randrange(10**6)
RNG.seed(SEED)


@pytest.fixture(scope="module")
def big_workbook(databases):
    path = str(databases.directory / "crash-import.xlsx")
    loadtest.worker(databases.template, "workbook", {"path": path, "rows": IMPORT_ROWS, "seed": 11})
    return path


def start_import(url: str, workbook: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(loadtest.BIN / "pilotage"), "import_projects", workbook],
        env=loadtest.app_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_import(url: str, workbook: str, trigger: str | None, delay: float) -> tuple[bool, list[str]]:
    """Start the import; once it printed `trigger` (at once when None), wait `delay` s and kill -9 it. Returns
    whether it was still running when killed, and the progress lines it printed."""
    process = start_import(url, workbook)
    lines: list[str] = []
    if trigger is not None:
        for line in process.stderr:
            lines.append(line.strip())
            if trigger in line:
                break
    time.sleep(delay)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return alive, lines


# The moments: while the file is read, while it is checked, at the start of the writes, in the middle of them
# (funding lines and history), and right after the last message before the commit.
IMPORT_MOMENTS = (
    (None, (0.8, 1.5)),
    ("vérification", (0.0, 0.3)),
    ("Enregistrement de", (0.0, 0.4)),
    ("plans de financement et historique", (0.0, 0.3)),
    ("projets enregistrés.", (0.0, 0.05)),
)


def test_import_killed_at_any_moment_leaves_all_or_nothing(databases, big_workbook):
    before = projects_state(databases.fresh("import_before"))
    finished = databases.fresh("import_finished")
    started = time.perf_counter()
    done = subprocess.run(
        [str(loadtest.BIN / "pilotage"), "import_projects", big_workbook, "-v0"],
        env=loadtest.app_env(finished),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    print(f"import de {IMPORT_ROWS} lignes : {time.perf_counter() - started:.1f} s")
    after = projects_state(finished)
    assert after["counts"]["projects_project"] == before["counts"]["projects_project"] + IMPORT_ROWS

    outcomes, killed_while_writing = [], 0
    for number, (trigger, (low, high)) in enumerate(IMPORT_MOMENTS):
        url = databases.fresh(f"import_killed_{number}")
        delay = RNG.uniform(low, high)
        alive, lines = kill_import(url, big_workbook, trigger, delay)
        state = projects_state(url)
        outcome = "before" if state == before else "after" if state == after else "IN BETWEEN"
        outcomes.append((trigger, round(delay, 2), alive, outcome, state["counts"]))
        killed_while_writing += alive and trigger is not None and "vérification" not in trigger
        assert outcome != "IN BETWEEN", f"graine {SEED}, moment {trigger!r} + {delay:.2f} s : {state} ; {lines[-3:]}"
        if number == len(IMPORT_MOMENTS) - 1:
            # Restarted on the crashed database, the same import goes through and gives the same data.
            again = subprocess.run(
                [str(loadtest.BIN / "pilotage"), "import_projects", big_workbook, "-v0"],
                env=loadtest.app_env(url),
                capture_output=True,
                text=True,
            )
            assert again.returncode == 0, again.stderr[-2000:]
            assert projects_state(url) == after
    print("import tué :", outcomes)
    # The kills did hit the write phase: at least two of the three moments in it found the process running.
    assert killed_while_writing >= 2, outcomes
    assert outcomes[0][3] == "before"  # killed while reading the file: nothing written


# --- workflow transitions through the server -------------------------------------------------------------------------

NEXT = {"idea": "maturing", "maturing": "ready", "ready": "in_progress", "in_progress": "completed"}
PROJECT_ROWS = (
    "SELECT p.id, p.id_projet, t.code, p.status, p.version, "
    "(SELECT COUNT(*) FROM projects_projectstatuschange s WHERE s.project_id = p.id), "
    "(SELECT COUNT(*) FROM core_changelog c WHERE c.content_type_id = %s AND c.object_pk = "
    "CAST(p.id AS VARCHAR(64)) AND c.action = 'transition') "
    "FROM projects_project p JOIN programme_territory t ON t.id = p.territory_id WHERE t.code IN ({codes})"
)


def transition_state(url: str, codes: list[str]) -> dict[str, tuple]:
    """Per project of the territories: (status, version, status changes, history entries of transitions)."""
    content_type = query(url, "SELECT id FROM django_content_type WHERE app_label = 'projects' AND model = 'project'")
    sql = PROJECT_ROWS.format(codes=", ".join("%s" for _ in codes))
    rows = query(url, sql, (content_type[0][0], *codes))
    return {row[1]: (row[2], *row[3:]) for row in rows}


class Advancer(threading.Thread):
    """A client moving its projects one status forward, one request at a time, until the server stops answering."""

    def __init__(self, port: int, work: list[tuple[str, str, str]]) -> None:
        super().__init__(daemon=True)
        self.port, self.work = port, work
        self.requested: dict[str, str] = {}  # project -> status asked (answered or not)
        self.acknowledged: set[str] = set()
        self.in_flight: str | None = None
        self.refused: list[str] = []

    def run(self) -> None:
        for id_projet, token, status in self.work:
            self.requested[id_projet] = status
            self.in_flight = id_projet
            try:
                answer = loadtest.request(
                    self.port, "POST", f"/api/v1/projects/{id_projet}/status", token=token,
                    body={"status": status, "reason": "Test de panne : passage au statut suivant"}, timeout=30,
                )  # fmt: skip
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            self.in_flight = None
            if answer[0] != 200:
                self.refused.append(f"{id_projet}: {answer[0]} {answer[2][:200]!r}")
                return
            self.acknowledged.add(id_projet)


def test_server_killed_during_transitions_leaves_each_project_before_or_after(databases, plan):
    url = databases.fresh("transitions")
    tokens = {hot["territory"]: hot["team_token"] for hot in plan["hot"]}
    codes = sorted(tokens)
    in_flight_at_kill, moved = 0, 0
    for round_number in range(3):
        before = transition_state(url, codes)
        todo = [(pid, tokens[row[0]], NEXT[row[1]]) for pid, row in sorted(before.items()) if row[1] in NEXT]
        RNG.shuffle(todo)
        assert len(todo) > 40, "pas assez de projets à faire avancer"
        with loadtest.Server(url, workers=2) as server:
            # After a crash, the restarted server reads the projects as they are in the database.
            sample = todo[0][0]
            status, _, body = loadtest.request(server.port, "GET", f"/api/v1/projects/{sample}", token=todo[0][1])
            assert status == 200 and json.loads(body)["status"] == before[sample][1]
            clients = [Advancer(server.port, todo[n::4]) for n in range(4)]
            for client in clients:
                client.start()
            time.sleep(RNG.uniform(0.8, 2.5))
            in_flight = [c.in_flight for c in clients if c.in_flight]
            server.kill()
            for client in clients:
                client.join(timeout=30)
        after = transition_state(url, codes)
        in_flight_at_kill += len(in_flight)
        for client in clients:
            assert not client.refused, client.refused
            for pid, row in before.items():
                asked = client.requested.get(pid)
                if asked is None:
                    continue
                now = after[pid]
                moved_row = (row[0], asked, row[2] + 1, row[3] + 1, row[4] + 1)
                assert now in (row, moved_row), f"graine {SEED}, tour {round_number}, {pid} : {row} → {now}"
                if pid in client.acknowledged:
                    assert now == moved_row, f"{pid} : transition acquittée puis perdue ({now})"
                moved += now == moved_row
        untouched = {pid for pid in before if all(pid not in c.requested for c in clients)}
        assert all(after[pid] == before[pid] for pid in untouched)
    print(f"transitions enregistrées : {moved} ; requêtes en cours au moment des kill -9 : {in_flight_at_kill}")
    assert moved > 20
    assert in_flight_at_kill > 0  # the server was killed while answering, not while idle
