"""The state of a database as a restarted program would read it: through the bare driver, after the crash."""

from __future__ import annotations

import hashlib
import sqlite3


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a query on the database, through the bare driver (as a restarted program would read it)."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


COUNTED = (
    "projects_project",
    "projects_project_themes",
    "projects_fundingline",
    "projects_organisation",
    "projects_projectstatuschange",
    "core_changelog",
)
CANONICAL = (
    "SELECT p.id_projet, p.title, p.description, p.status, p.total_cost, p.public, p.version, o.name, "
    "(SELECT COUNT(*) FROM projects_fundingline f WHERE f.project_id = p.id), "
    "(SELECT SUM(f.requested) FROM projects_fundingline f WHERE f.project_id = p.id) "
    "FROM projects_project p LEFT JOIN projects_organisation o ON o.id = p.owner_id ORDER BY p.id_projet"
)


def projects_state(url: str) -> dict:
    """Row counts of the project tables and a hash of the projects' values (without ids and times, which differ
    between two runs of the same writes): equal states are the same data."""
    counts = {table: query(url, f"SELECT COUNT(*) FROM {table}")[0][0] for table in COUNTED}
    digest = hashlib.sha256()
    for row in query(url, CANONICAL):
        digest.update(repr(tuple(str(value) for value in row)).encode())
    return {"counts": counts, "hash": digest.hexdigest()}
