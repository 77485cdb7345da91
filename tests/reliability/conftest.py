"""Reliability tests run the real programs as subprocesses (`pilotage serve`, `pilotage import_projects`) on databases
of their own, copied from a template built once per session with the demonstration data (scale 1):

- SQLite (default): files under pytest's temporary directory;
- PostgreSQL, when DATABASE_URL names a PostgreSQL server (the CI's second run): databases created on that server
  from a template database, all dropped at the end of the session.

The template also holds the users and API tokens of `scripts/loadtest.py` (its `plan`)."""

from __future__ import annotations

import os
import shutil
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import loadtest  # noqa: E402


class Databases:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        url = os.environ.get("DATABASE_URL", "")
        self.server = None
        if url.startswith(("postgres://", "postgresql://")):
            parts = urllib.parse.urlsplit(url)
            self.server = f"{parts.scheme}://{parts.netloc}"
        self.prefix = f"pilotage_reliability_{os.getpid()}"
        self.created: list[str] = []
        self.template = self.create("template")
        loadtest.build_demo(self.template)

    @property
    def vendor(self) -> str:
        return "postgresql" if self.server else "sqlite"

    def create(self, name: str, template: str | None = None) -> str:
        if self.server is None:
            return f"sqlite:///{self.directory / name}.sqlite3"
        database = f"{self.prefix}_{name}"
        self.created.append(database)
        return loadtest.create_database(self.server, database, f"{self.prefix}_{template}" if template else None)

    def fresh(self, name: str) -> str:
        """A new database holding the template's data."""
        if self.server is None:
            for suffix in ("", "-wal", "-shm"):
                source = self.directory / f"template.sqlite3{suffix}"
                if source.exists():
                    shutil.copyfile(source, self.directory / f"{name}.sqlite3{suffix}")
            return f"sqlite:///{self.directory / name}.sqlite3"
        return self.create(name, template="template")

    def drop(self) -> None:
        for database in reversed(self.created):
            loadtest.drop_database(self.server, database)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("reliability"))
    yield databases
    if databases.server:
        databases.drop()


@pytest.fixture(scope="session")
def plan(databases):
    """Tokens (territory teams, project owners, readers) and the addresses the load test visits, in the template;
    a small workbook to import during the load test."""
    workbook = str(databases.directory / "load-import.xlsx")
    return loadtest.worker(databases.template, "prepare", {"users": 50, "seed": 7, "import_rows": 800,
                                                           "workbook": workbook})  # fmt: skip
