"""`pilotage import_territories FILE [--dry-run] [--report json]` (PRODUCT.md, "Command line" and "Files")."""

from pilotage.opendata.commands import ImportCommand
from pilotage.opendata.report import ImportReport
from pilotage.programme.importer import DEFAULT_PHASE_CODE
from pilotage.programme.services import import_territories


class Command(ImportCommand):
    help = (
        "Importe ou met à jour des territoires d'industrie, leur périmètre (EPCI) et leurs jalons depuis un fichier "
        ".xlsx, .ods ou .csv de l'ANCT : une ligne par (territoire, EPCI) avec id_ti, lib_ti, siren_groupement, ou "
        "une ligne par (commune, territoire) avec insee_com, id_ti, lib_ti. Colonnes facultatives : phase (par "
        f"défaut {DEFAULT_PHASE_CODE}), date_gouvernance, date_protocole, date_contrat, date_validation_plan, "
        "date_prevue_validation_plan ; une cellule vide n'efface jamais une date déjà enregistrée. Tout ou rien : "
        "une seule ligne en erreur et rien n'est enregistré (code de sortie 1)."
    )

    def run_import(self, file: str, *, dry_run: bool, progress, **options) -> ImportReport:
        return import_territories(file, dry_run=dry_run, user_label="pilotage import_territories", progress=progress)
