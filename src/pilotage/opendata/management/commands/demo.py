"""`pilotage demo`: the one-command demonstration (migrate, referential, demo data, then serve)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from pilotage.geo.models import Commune
from pilotage.opendata.demo.loader import DEFAULT_SEED, has_demo_data


class Command(BaseCommand):
    help = (
        "Démonstration en une commande : prépare la base (SQLite par défaut, dans le répertoire courant), charge le "
        "référentiel et les données de démonstration s'ils manquent, puis sert Pilotage sur http://127.0.0.1:8000."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="port d'écoute (défaut : %(default)s)")
        parser.add_argument("--no-serve", action="store_true", help="prépare la base sans lancer le serveur")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="graine des données de démonstration")
        parser.add_argument(
            "--departments", help="ne charge que le référentiel de ces départements (codes séparés par des virgules)"
        )
        parser.add_argument(
            "--projects-per-territory",
            type=int,
            default=None,
            metavar="N",
            help="essais rapides : N projets par territoire et par phase",
        )

    def handle(self, *args, port: int, no_serve: bool, seed: int, departments: str | None, **options) -> None:
        self.stdout.write(f"Base de données : {connection.settings_dict['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Base de données à jour.")
        if Commune.objects.exists():
            self.stdout.write("Référentiel déjà chargé.")
        else:
            call_command("load_referential", departments=departments, stdout=self.stdout, stderr=self.stderr)
        if has_demo_data():
            self.stdout.write("Données de démonstration déjà chargées.")
        else:
            call_command(
                "load_demo",
                seed=seed,
                projects_per_territory=options["projects_per_territory"],
                stdout=self.stdout,
                stderr=self.stderr,
            )
        if no_serve:
            return
        self.stdout.write(
            self.style.SUCCESS(f"Pilotage est prêt : ouvrez http://127.0.0.1:{port}/ dans votre navigateur.")
        )
        self.stdout.write("Arrêt : Ctrl+C.")
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
