"""`pilotage serve`: the production serving path (gunicorn, several workers, static files by WhiteNoise)."""

import os
import shutil
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sert l'application avec gunicorn (plusieurs processus), comme en production."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "0")) or None,
            help="nombre de processus (défaut : 2 × cœurs + 1)",
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "1")))

    def handle(self, *args, host, port, workers, threads, **options):
        workers = workers or (2 * (os.cpu_count() or 1) + 1)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if not gunicorn:
            self.stderr.write("gunicorn est introuvable : installez les dépendances du projet.")
            raise SystemExit(1)
        argv = [
            gunicorn,
            "pilotage.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            "-",
            "--timeout",
            "120",
        ]
        self.stdout.write(f"Pilotage sert http://{host}:{port}/ avec {workers} processus.")
        self.stdout.flush()
        os.execv(gunicorn, argv)
