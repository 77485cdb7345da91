from django.core.management.base import BaseCommand, CommandError

from pilotage.accounts.privacy import find_user, forget_user, is_forgotten, pseudonym
from pilotage.core.history import Source


class Command(BaseCommand):
    help = (
        "Anonymise un compte à la demande de la personne (RGPD) : adresse et nom remplacés par un pseudonyme "
        "partout où ils sont copiés, connexion impossible, jetons révoqués, sessions fermées, coordonnées de "
        "gouvernance effacées. L'historique reste exact, sous le pseudonyme. Voir docs/privacy.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse électronique du compte")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="ne pas demander de confirmation"
        )

    def handle(self, *args, email, interactive, **options):
        user = find_user(email)
        if user is None:
            raise CommandError(f"Aucun compte n'a l'adresse {email}.")
        if is_forgotten(user):
            self.stdout.write(f"Ce compte est déjà anonymisé ({pseudonym(user)}) : rien n'a changé.")
            return
        if interactive:
            answer = input(f"Anonymiser définitivement le compte {user.email} (n°{user.pk}) ? Tapez « oui » : ")
            if answer.strip().lower() != "oui":
                raise CommandError("Abandon : rien n'a changé.")
        report = forget_user(user, source=Source.COMMAND)
        self.stdout.write(
            f"Compte n°{report.user_id} anonymisé : « {report.pseudonym} ». "
            f"{report.history_entries} entrées d'historique et {report.status_changes} changements de statut "
            f"attribués au pseudonyme, {report.governance_contacts} fiche(s) de gouvernance sans coordonnées, "
            f"{report.roles_removed} rôle(s) retiré(s), {report.tokens_revoked} jeton(s) révoqué(s), "
            f"{report.sessions_ended} session(s) fermée(s)."
        )
        for mention in report.mentions_left:
            self.stderr.write(
                self.style.WARNING(f"L'adresse figure encore dans un texte libre, à corriger à la main : {mention}")
            )
