"""Two processes writing the same record at once: the second waits for the first instead of failing.

On SQLite this is what the settings ask for (WAL, transactions begun IMMEDIATE, a busy timeout of 20 s): without
them the second writer gets "database is locked" at once. On PostgreSQL the row lock does the same."""

import json
import subprocess
import sys
from pathlib import Path

import loadtest

from .state import query

WRITER = Path(__file__).with_name("writer.py")
HOLD_SECONDS = 3.0


def writer(url: str, *argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), *argv], env=loadtest.app_env(url), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_second_writer_waits_for_the_first_and_both_writes_are_kept(databases, plan):
    url = databases.fresh("writers")
    if databases.vendor == "sqlite":
        assert query(url, "PRAGMA journal_mode") == [("wal",)]
    id_projet = plan["hot"][0]["id_projet"]
    second = writer(url, "write", id_projet, "[second]")
    assert second.stdout.readline().strip() == "ready", second.stderr.read()
    first = writer(url, "hold", id_projet, "[premier]", str(HOLD_SECONDS))
    assert first.stdout.readline().strip() == "locked", first.stderr.read()
    out, err = second.communicate("go\n", timeout=60)
    assert second.returncode == 0, err[-2000:]  # no "database is locked"
    waited = json.loads(out.strip().splitlines()[-1])["seconds"]
    first_out, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err[-2000:]
    assert waited > HOLD_SECONDS / 2  # it waited for the first transaction to end
    description = query(url, "SELECT description FROM projects_project WHERE id_projet = %s", (id_projet,))[0][0]
    assert description.endswith(" [premier] [second]")
