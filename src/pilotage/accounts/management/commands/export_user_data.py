import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pilotage.accounts.privacy import export_user_data, find_user


class Command(BaseCommand):
    help = (
        "Exporte en JSON tout ce que la plateforme détient sur un compte (droit d'accès et à la portabilité, RGPD) : "
        "compte, rôles, jetons (sans secret), historique écrit, fiches de gouvernance à son adresse. "
        "Voir docs/privacy.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse électronique du compte")
        parser.add_argument("-o", "--output", required=True, help="fichier JSON à écrire (« - » : sortie standard)")

    def handle(self, *args, email, output, **options):
        user = find_user(email)
        if user is None:
            raise CommandError(f"Aucun compte n'a l'adresse {email}.")
        text = json.dumps(export_user_data(user), ensure_ascii=False, indent=2)
        if output == "-":
            self.stdout.write(text)
            return
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"Le dossier {path.parent} n'existe pas.")
        path.write_text(text + "\n", encoding="utf-8")
        self.stderr.write(f"Données du compte n°{user.pk} exportées dans {path}.")
