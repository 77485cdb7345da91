"""Backup and restore: a programme saved, the database emptied, the backup restored gives the same answers."""

import io
import json
import sqlite3
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from pilotage.accounts.models import ApiToken, Role, User
from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tokens import create_token
from pilotage.core.models import ChangeLog
from pilotage.geo.services import load_referential
from pilotage.opendata.demo.loader import load_demo
from pilotage.programme.models import Territory
from pilotage.projects.models import Project
from pilotage.projects.services import save_project


def build_programme() -> tuple[list[str], list[str], User]:
    """Two departments' referential, the demo territories and projects, users with roles, edits made by them."""
    load_referential(["54", "57"])
    load_demo(projects_per_territory=1)
    territory = Territory.objects.order_by("code").first()
    pilot, _, _ = create_or_update_user("pilote@example.fr", "regional_pilot", territory.region_id, password=None)
    team, _, _ = create_or_update_user("equipe@example.fr", "territory_team", territory.code, password=None)
    create_token(team, "script")
    for number, project in enumerate(Project.objects.filter(territory=territory, public=True)):
        project.title = f"{project.title} (révisé {number})"
        save_project(project, user=team, reason="Mise à jour du comité de pilotage")
    codes = list(Territory.objects.order_by("code").values_list("code", flat=True))
    projects = list(Project.objects.filter(public=True).order_by("id_projet").values_list("id_projet", flat=True))
    return codes, projects, pilot


def api_answers(client, codes: list[str], projects: list[str]) -> dict:
    urls = [f"/api/v1/territories/{code}" for code in codes] + [f"/api/v1/projects/{p}" for p in projects]
    urls += ["/api/v1/stats", "/api/v1/stats?as_of=2021-06-30", "/api/v1/projects?page_size=100"]
    answers = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        answers[url] = (response.json(), response.headers.get("ETag"))
    return answers


def history_rows() -> list[tuple]:
    rows = ChangeLog.objects.select_related("content_type", "user").order_by("at", "id")
    return [
        (
            r.at,
            r.user.email if r.user else None,
            r.user_label,
            r.source,
            r.content_type.natural_key(),
            r.object_pk,
            r.object_repr,
            r.action,
            r.before,
            r.after,
            r.reason,
        )
        for r in rows
    ]


def accounts_state() -> list[tuple]:
    roles = Role.objects.order_by("user__email", "kind").values_list("user__email", "kind", "region_id", "territory_id")
    tokens = ApiToken.objects.order_by("key_hash").values_list("user__email", "key_hash", "revoked_at")
    return [*roles, *tokens]


def empty_database() -> None:
    """Flush inside the test's transaction: PostgreSQL truncates only once the deferred foreign keys are checked."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)  # content types come back with other ids
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.django_db
def test_json_backup_restored_into_an_empty_database_answers_the_same(client, tmp_path: Path):
    codes, projects, _ = build_programme()
    assert ChangeLog.objects.filter(reason="Mise à jour du comité de pilotage").exists()
    before = (api_answers(client, codes, projects), history_rows(), accounts_state())
    dump = tmp_path / "pilotage.jsonl.gz"
    call_command("backup", "-o", str(dump), stdout=io.StringIO())

    empty_database()
    ContentType.objects.clear_cache()
    assert not Project.objects.exists() and not User.objects.exists()
    call_command("restore", str(dump), stdout=io.StringIO())

    after = (api_answers(client, codes, projects), history_rows(), accounts_state())
    assert after == before
    # the restored database takes new rows (PostgreSQL sequences reset past the restored ids)
    create_or_update_user("nouveau@example.fr", "national", None, password=None)


@pytest.mark.django_db
def test_restore_refuses_a_database_that_holds_data(tmp_path: Path):
    load_referential(["54"])
    dump = tmp_path / "pilotage.jsonl"
    call_command("backup", "-o", str(dump), stdout=io.StringIO())
    with pytest.raises(CommandError, match="n'est pas vide"):
        call_command("restore", str(dump), stdout=io.StringIO())


@pytest.mark.django_db
def test_restore_refuses_an_unknown_file(tmp_path: Path):
    junk = tmp_path / "notes.txt"
    junk.write_text("bonjour")
    with pytest.raises(CommandError, match="Format de sauvegarde inconnu"):
        call_command("restore", str(junk), stdout=io.StringIO())


def test_sqlite_backup_is_a_consistent_database_file(tmp_path: Path):
    """A real SQLite file database, as on a laptop: migrated, loaded, then copied while it is open."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'pilotage.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def pilotage(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "pilotage.manage", *args], env=env, check=True, capture_output=True)

    pilotage("migrate", "-v0")
    pilotage("load_referential", "--departments", "54")
    target = tmp_path / "copie.sqlite3"
    pilotage("backup", "-o", str(target), "--format", "sqlite")
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        communes = copy.execute("SELECT count(*) FROM geo_commune").fetchone()[0]
    copy.close()
    with sqlite3.connect(tmp_path / "pilotage.sqlite3") as source:
        assert communes == source.execute("SELECT count(*) FROM geo_commune").fetchone()[0] > 0
    source.close()


@pytest.mark.django_db
def test_json_backup_is_one_object_a_line_with_exact_times(tmp_path: Path):
    load_referential(["54"])
    user, _, _ = create_or_update_user("equipe@example.fr", "national", None, password=None)
    dump = tmp_path / "pilotage.jsonl"
    call_command("backup", "-o", str(dump), stdout=io.StringIO())
    rows = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    saved = next(row for row in rows if row["model"] == "accounts.user")
    assert saved["fields"]["date_joined"] == user.date_joined.isoformat()  # microseconds kept
    assert not any(row["model"].startswith("contenttypes.") for row in rows)
    with pytest.raises(CommandError, match="jsonl"):
        call_command("backup", "-o", str(tmp_path / "dump.json"), "--format", "json", stdout=io.StringIO())
