"""`pilotage backup -o FILE`: see pilotage.core.backup and docs/backups.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from pilotage.core.backup import BackupError, backup_json, backup_sqlite


class Command(BaseCommand):
    help = (
        "Sauvegarde la base : copie SQLite à chaud (base SQLite) ou export JSON Lines portable (*.jsonl[.gz], "
        "tout moteur, restaurable sur SQLite comme sur PostgreSQL)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", required=True, help="fichier de sauvegarde à écrire")
        parser.add_argument(
            "--format",
            choices=["auto", "sqlite", "json"],
            default="auto",
            help="auto (défaut) : sqlite pour une base SQLite, sauf si le fichier finit par .jsonl[.gz] ; json sinon",
        )

    def handle(self, *args, output: str, format: str, **options) -> None:
        target = Path(output)
        if format == "auto":
            is_json = target.name.endswith((".jsonl", ".jsonl.gz")) or connection.vendor != "sqlite"
            format = "json" if is_json else "sqlite"
        if target.exists():
            raise CommandError(f"Le fichier {target} existe déjà : choisissez un autre nom.")
        try:
            if format == "sqlite":
                if connection.vendor != "sqlite":
                    raise BackupError("La copie SQLite ne s'applique qu'à une base SQLite : utilisez --format json.")
                backup_sqlite(target)
            else:
                backup_json(target)
        except BackupError as error:
            raise CommandError(str(error)) from error
        size = target.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde {format} écrite dans {target} ({size} octets)."))
