"""`pilotage load_referential [--departments 54,57]`: loads the official referential shipped in the repository."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pilotage.geo.services import load_referential

LABELS = {"regions": "Régions", "departments": "Départements", "epcis": "EPCI", "communes": "Communes"}


class Command(BaseCommand):
    help = "Charge (ou met à jour) les régions, départements, EPCI et communes livrés avec l'application."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--departments",
            help="codes INSEE séparés par des virgules : ne charge que les EPCI ayant une commune dans ces "
            "départements et leurs communes (toutes les régions et tous les départements restent chargés)",
        )

    def handle(self, *args, departments: str | None = None, **options) -> None:
        codes = [code.strip() for code in departments.split(",") if code.strip()] if departments else None
        started = time.perf_counter()
        try:
            report = load_referential(codes)
        except ValueError as error:
            raise CommandError(str(error)) from error
        for key, count in report.counts.items():
            self.stdout.write(
                f"{LABELS[key]} : {count.total} ({count.created} créé(e)s, {count.updated} mis(es) à jour)"
            )
        verdict = "Référentiel chargé" if report.changed else "Référentiel déjà à jour, rien n'a changé"
        self.stdout.write(self.style.SUCCESS(f"{verdict} en {time.perf_counter() - started:.1f} s."))
