import logging

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pilotage.accounts import throttle
from pilotage.accounts.models import LoginThrottle

logger = logging.getLogger("pilotage.security")


class Command(BaseCommand):
    help = (
        "Lève le blocage de connexion d'une adresse électronique (et l'oubli de ses échecs), ou d'une adresse IP "
        "avec --ip ; --list montre les blocages en cours."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?", help="adresse électronique à débloquer")
        parser.add_argument("--ip", help="adresse IP (ou réseau IPv6 /64) à débloquer")
        parser.add_argument("--list", dest="show_locks", action="store_true", help="liste les blocages en cours")

    def handle(self, *args, email, ip, show_locks, **options):
        if show_locks:
            self.list_locks()
        if not (email or ip):
            if show_locks:
                return
            raise CommandError("Indiquez l'adresse électronique à débloquer, --ip ADRESSE ou --list.")
        if email:
            key = throttle.normalise_email(email)
            self.unlock([LoginThrottle.Scope.ACCOUNT, LoginThrottle.Scope.RESET_ADDRESS], key, key)
        if ip:
            ip_scopes = [LoginThrottle.Scope.LOGIN_IP, LoginThrottle.Scope.RESET_IP, LoginThrottle.Scope.API_IP]
            self.unlock(ip_scopes, throttle.normalise_ip(ip), ip)

    def unlock(self, scopes, key: str, typed: str) -> None:
        removed = sum(throttle.forget(scope, key) for scope in scopes)
        if removed:
            logger.warning("Déblocage manuel : « %s »", key)
            self.stdout.write(f"Débloqué : {typed} (compteurs remis à zéro).")
        else:
            self.stdout.write(f"Aucun blocage ni échec enregistré pour {typed}.")

    def list_locks(self) -> None:
        locks = throttle.current_locks()
        if not locks:
            self.stdout.write("Aucun blocage en cours.")
        for lock in locks:
            until = timezone.localtime(lock.locked_until).strftime("%d/%m/%Y %H:%M")
            self.stdout.write(f"{lock.get_scope_display()} : {lock.key} — bloqué jusqu'au {until}")
