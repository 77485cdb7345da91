from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pilotage.accounts.models import Role
from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tokens import create_token


class Command(BaseCommand):
    help = "Crée ou met à jour un utilisateur et lui donne un rôle ; --token affiche un nouveau jeton d'API."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=Role.Kind.values)
        parser.add_argument("--scope", help="région (code INSEE), id_ti, id_projet ou nom du financeur")
        parser.add_argument("--password", help="mot de passe (sinon : réinitialisation par e-mail)")
        parser.add_argument("--token", action="store_true", help="crée un jeton d'API, affiché en dernière ligne")

    def handle(self, *args, email, role, scope, password, token, **options):
        try:
            user, created, role_added = create_or_update_user(email, role, scope, password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Utilisateur {'créé' if created else 'mis à jour'} : {user.email}")
        self.stdout.write(f"Rôle {role}{f' ({scope})' if scope else ''} {'ajouté' if role_added else 'déjà attribué'}.")
        if token:
            self.stdout.write(create_token(user, name="create_user"))
