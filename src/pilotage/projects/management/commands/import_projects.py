"""`pilotage import_projects FILE [--dry-run] [--report json] [--financements FILE]` (PRODUCT.md, "Command line")."""

from django.core.management.base import CommandParser

from pilotage.opendata.commands import ImportCommand
from pilotage.opendata.report import ImportReport
from pilotage.projects.services import import_projects


class Command(ImportCommand):
    help = (
        "Importe ou met à jour des projets depuis la feuille « projets » d'un classeur .xlsx ou .ods (ou sa feuille "
        "unique), ou depuis un fichier .csv : id_projet, id_ti, titre, description, themes, statut, porteur_nom, "
        "porteur_siren, commune_insee, date_remontee, date_debut, date_fin, cout_total, public. Les financements "
        "(id_projet, financeur, dispositif, montant_demande, montant_accorde, date_decision) sont lus dans la feuille "
        "« financements » ou, pour un CSV, dans le fichier donné par --financements ; une ligne de financement "
        "absente du fichier n'est jamais supprimée. Tout ou rien : une seule ligne en erreur et rien n'est "
        "enregistré (code de sortie 1) ; réimporter le même fichier ne change rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--financements",
            metavar="FILE",
            default=None,
            help="fichier des financements, pour un import CSV (colonnes id_projet, financeur, dispositif, …)",
        )

    def run_import(self, file: str, *, dry_run: bool, progress, **options) -> ImportReport:
        return import_projects(
            file,
            funding_source=options.get("financements"),
            dry_run=dry_run,
            user_label="pilotage import_projects",
            progress=progress,
        )
