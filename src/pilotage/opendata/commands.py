"""The shape every `import_*` command shares: FILE, `--dry-run`, `--report json`, progress on stderr, exit 1 when a
row is rejected (PRODUCT.md, "Command line").

Progress: on a terminal, a line redrawn in place (rows checked / total, percentage, rows per second); otherwise only
the step messages; nothing with `--quiet` (or `-v 0`). Always on stderr: stdout carries the report alone.
"""

import sys

from django.core.management.base import BaseCommand, CommandParser

from pilotage.core.progress import add_quiet_argument, progress_line

from .report import ImportReport


class ImportCommand(BaseCommand):
    """Subclasses implement `run_import`; the report is printed as text, or only as the pinned JSON."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="fichier .xlsx, .ods ou .csv")
        parser.add_argument("--dry-run", action="store_true", help="vérifie et compte sans rien enregistrer")
        parser.add_argument(
            "--report", choices=["text", "json"], default="text", help="json : n'écrit que le rapport JSON sur stdout"
        )
        add_quiet_argument(parser)

    def run_import(self, file: str, *, dry_run: bool, progress, **options) -> ImportReport:
        raise NotImplementedError

    def handle(self, *args, file: str, dry_run: bool, report: str, **options) -> None:
        progress = progress_line(self, options)
        try:
            result = self.run_import(file, dry_run=dry_run, progress=progress, **options)
        finally:
            progress.finish()
        if report == "json":
            self.stdout.write(result.to_json())
        elif result.ok:
            self.stdout.write(self.style.SUCCESS(result.to_text()))
        else:
            self.stdout.write(result.to_text())
        if not result.ok:
            sys.exit(1)
