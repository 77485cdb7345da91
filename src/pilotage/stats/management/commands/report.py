"""`pilotage report territory|region CODE -o FILE.pdf`: the PDF territory sheet or regional synthesis."""

import datetime
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pilotage.core.progress import add_quiet_argument, progress_line
from pilotage.stats.figures import today
from pilotage.stats.reports import OPERATOR, REPORTS


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Date invalide : {value} (format attendu : AAAA-MM-JJ).") from exc


class Command(BaseCommand):
    help = (
        "Écrit la fiche PDF d'un territoire (territory ti-RRNN) ou la synthèse PDF d'une région "
        "(region CODE INSEE), avec tous les projets (exécutée par l'opérateur)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(REPORTS), help="territory ou region")
        parser.add_argument("code", help="identifiant du territoire (id_ti) ou code INSEE de la région")
        parser.add_argument("-o", "--output", required=True, help="fichier PDF à écrire")
        parser.add_argument(
            "--as-of", dest="as_of", help="situation à cette date (AAAA-MM-JJ ; par défaut aujourd'hui)"
        )
        add_quiet_argument(parser)

    def handle(self, *args, kind: str, code: str, output: str, as_of: str | None, **options) -> None:
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"Le dossier {path.parent} n'existe pas.")
        day = iso_date(as_of) if as_of else today()
        started = time.monotonic()
        progress = progress_line(self, options)
        progress("Collecte des données…")
        try:
            pdf = REPORTS[kind](OPERATOR, code, day, progress=progress)
        except LookupError as exc:
            label = "Territoire inconnu" if kind == "territory" else "Région inconnue"
            raise CommandError(f"{label} : {code}") from exc
        finally:
            progress.finish()
        path.write_bytes(pdf.content)
        progress(
            f"{path} écrit : {pdf.pages} page(s), {len(pdf.content) // 1024} Ko, "
            f"situation au {day.isoformat()}, en {time.monotonic() - started:.1f} s."
        )
