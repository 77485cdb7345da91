"""`pilotage restore FILE`: see pilotage.core.backup and docs/backups.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pilotage.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restaure une sauvegarde (SQLite ou JSON Lines) dans une base vide créée par « pilotage migrate »."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="sauvegarde écrite par « pilotage backup »")

    def handle(self, *args, file: str, **options) -> None:
        try:
            kind = restore(Path(file))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde {kind} restaurée depuis {file}."))
