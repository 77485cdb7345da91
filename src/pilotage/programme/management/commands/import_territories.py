"""`pilotage import_territories FILE [--dry-run] [--report json]` (PRODUCT.md, "Command line" and "Files")."""

import sys

from django.core.management.base import BaseCommand, CommandParser

from pilotage.programme.importer import DEFAULT_PHASE_CODE
from pilotage.programme.services import import_territories


class Command(BaseCommand):
    help = (
        "Importe ou met à jour des territoires d'industrie, leur périmètre (EPCI) et leurs jalons depuis un fichier "
        ".xlsx, .ods ou .csv de l'ANCT : une ligne par (territoire, EPCI) avec id_ti, lib_ti, siren_groupement, ou "
        "une ligne par (commune, territoire) avec insee_com, id_ti, lib_ti. Colonnes facultatives : phase (par "
        f"défaut {DEFAULT_PHASE_CODE}), date_gouvernance, date_protocole, date_contrat, date_validation_plan, "
        "date_prevue_validation_plan ; une cellule vide n'efface jamais une date déjà enregistrée. Tout ou rien : "
        "une seule ligne en erreur et rien n'est enregistré (code de sortie 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="fichier .xlsx, .ods ou .csv")
        parser.add_argument("--dry-run", action="store_true", help="vérifie et compte sans rien enregistrer")
        parser.add_argument(
            "--report", choices=["text", "json"], default="text", help="json : n'écrit que le rapport JSON sur stdout"
        )

    def handle(self, *args, file: str, dry_run: bool, report: str, **options) -> None:
        progress = self.progress if options.get("verbosity", 1) >= 1 else None
        result = import_territories(file, dry_run=dry_run, user_label="pilotage import_territories", progress=progress)
        if report == "json":
            self.stdout.write(result.to_json())
        elif result.ok:
            self.stdout.write(self.style.SUCCESS(result.to_text()))
        else:
            self.stdout.write(result.to_text())
        if not result.ok:
            sys.exit(1)

    def progress(self, message: str) -> None:
        self.stderr.write(message)
        self.stderr.flush()
