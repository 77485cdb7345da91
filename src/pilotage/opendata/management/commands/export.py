from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pilotage.core.progress import add_quiet_argument, progress_line
from pilotage.opendata.export import FORMATS, export
from pilotage.programme.models import Territory
from pilotage.projects.models import Project


class Command(BaseCommand):
    help = (
        "Exporte les territoires ou les projets au format publié (Table Schema). "
        "CSV et XLSX se réimportent à l'identique."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["territories", "projects"])
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="csv")
        parser.add_argument("-o", "--output", required=True, help="fichier à écrire")
        parser.add_argument("--public-only", action="store_true", help="seulement les projets publics")
        add_quiet_argument(parser)

    def handle(self, *args, kind, fmt, output, public_only, **options):
        if kind == "projects" and fmt == "geojson":
            raise CommandError("Le format geojson n'existe que pour les territoires (périmètres).")
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"Le dossier {path.parent} n'existe pas.")
        projects = Project.objects.all()
        if public_only:
            projects = projects.filter(public=True)
        progress = progress_line(self, options)
        try:
            count = export(kind, fmt, path, territories=Territory.objects.all(), projects=projects, progress=progress)
        finally:
            progress.finish()
        label = "territoires" if kind == "territories" else "projets"
        progress(f"{count} {label} exportés dans {path} ({fmt}).")
