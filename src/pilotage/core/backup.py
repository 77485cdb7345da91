"""Backups: a SQLite file copied with SQLite's online backup API, or a portable JSON Lines dump (any engine).

The JSON dump holds every table except those `migrate` rebuilds (content types, permissions) and the sessions; foreign
keys to content types and permissions are written as natural keys, so history rows (`ChangeLog`) point to the right
model whatever ids the target database gave its content types. A restore goes into an empty, migrated database only.
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils.translation import gettext as _

SQLITE_MAGIC = b"SQLite format 3\x00"
# Rebuilt by `migrate` on the target: never dumped, never counted when checking the target is empty.
NOT_DUMPED = ("contenttypes", "auth.permission", "sessions", "stats")
# Rows written by data migrations (the two programme phases and their themes): replaced by the backup's own.
SEEDED_MODELS = ("programme.Theme", "programme.ProgrammePhase")


class ExactEncoder(DjangoJSONEncoder):
    """Django's encoder cuts datetimes to milliseconds; a backup keeps the microseconds (ETags and history order)."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


class Serializer(jsonl.Serializer):
    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = ExactEncoder


Deserializer = jsonl.Deserializer


@contextlib.contextmanager
def exact_jsonl() -> Iterator[None]:
    """dumpdata/loaddata pick the format by name ("jsonl"): point that name to the exact serializer meanwhile."""
    serializers.register_serializer("jsonl", __name__)
    try:
        yield
    finally:
        serializers.register_serializer("jsonl", "django.core.serializers.jsonl")


class BackupError(Exception):
    """A French message for the operator."""


JSON_SUFFIXES = (".jsonl", ".jsonl.gz")


def _open(path: Path, mode: str) -> IO:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def backup_sqlite(target: Path) -> None:
    """Copy the live SQLite database page by page; writers keep working during the copy."""
    connection.ensure_connection()
    with sqlite3.connect(target) as dest:
        connection.connection.backup(dest)
    dest.close()


def backup_json(target: Path) -> None:
    """Stream every row as JSON Lines: one object per line, written and read back without holding the whole dump."""
    if not target.name.endswith(JSON_SUFFIXES):
        raise BackupError(_("Une sauvegarde JSON se nomme *.jsonl ou *.jsonl.gz (elle est lue ligne à ligne)."))
    with _open(target, "w") as out, exact_jsonl():
        call_command(
            "dumpdata",
            format="jsonl",
            exclude=list(NOT_DUMPED),
            natural_foreign=True,
            stdout=out,
            verbosity=0,
        )


def _counted_models():
    skipped = {label.lower() for label in SEEDED_MODELS}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in NOT_DUMPED or label in NOT_DUMPED or label in skipped:
            continue
        if model._meta.proxy or not model._meta.managed:
            continue
        yield model


def non_empty_tables() -> list[str]:
    """The tables holding rows that `migrate` did not write: a restore would mix two databases."""
    return [model._meta.db_table for model in _counted_models() if model._default_manager.exists()]


def check_empty() -> None:
    tables = non_empty_tables()
    if tables:
        raise BackupError(
            _(
                "La base de données cible n'est pas vide (%(tables)s) : la restauration se fait dans une base neuve, "
                "créée par « pilotage migrate »."
            )
            % {"tables": ", ".join(sorted(tables)[:5]) + ("…" if len(tables) > 5 else "")}
        )


def is_sqlite_file(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(16) == SQLITE_MAGIC


def restore(path: Path) -> str:
    """Restore a backup made by `backup`; returns the format read ("sqlite" or "json")."""
    if not path.exists():
        raise BackupError(_("Fichier introuvable : %(path)s") % {"path": path})
    check_empty()
    if is_sqlite_file(path):
        _restore_sqlite(path)
        return "sqlite"
    if not path.name.endswith(JSON_SUFFIXES):
        raise BackupError(_("Format de sauvegarde inconnu : le fichier doit être une base SQLite ou finir par .jsonl."))
    _restore_json(path)
    from pilotage.stats.ledger import refresh

    refresh()  # the running totals of the national figures are not dumped: computed from the restored records
    return "json"


def _restore_sqlite(path: Path) -> None:
    if connection.vendor != "sqlite":
        raise BackupError(_("Une sauvegarde SQLite ne se restaure que dans une base SQLite : utilisez le format JSON."))
    connection.close()
    connection.ensure_connection()
    with sqlite3.connect(path) as source:
        source.backup(connection.connection)
    source.close()


def _restore_json(path: Path) -> None:
    seeded = [apps.get_model(label) for label in SEEDED_MODELS]
    with transaction.atomic(), exact_jsonl():
        for model in seeded:  # themes first: they point to their phase
            model._default_manager.all().delete()
        # loaddata reads the fixture through Django's deserialiser and resets PostgreSQL sequences afterwards.
        call_command("loaddata", str(path), verbosity=0)
