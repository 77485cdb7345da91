from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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

    def handle(self, *args, kind, fmt, output, public_only, **options):
        if kind == "projects" and fmt == "geojson":
            raise CommandError("Le format geojson n'existe que pour les territoires (périmètres).")
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"Le dossier {path.parent} n'existe pas.")
        projects = Project.objects.all()
        if public_only:
            projects = projects.filter(public=True)
        count = export(kind, fmt, path, territories=Territory.objects.all(), projects=projects)
        label = "territoires" if kind == "territories" else "projets"
        self.stderr.write(f"{count} {label} exportés dans {path} ({fmt}).")
