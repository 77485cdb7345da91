"""`pilotage refresh_figures [--rebuild] [--check]`: the running totals of the national figures (stats/ledger.py)."""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pilotage.programme.models import ProgrammePhase
from pilotage.stats import ledger
from pilotage.stats.figures import today


class Command(BaseCommand):
    help = (
        "Met à jour les totaux des chiffres nationaux avec les territoires modifiés (--rebuild : les recalcule "
        "entièrement ; --check : les compare aux chiffres calculés sur les fiches, à plusieurs dates)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="tout recalculer")
        parser.add_argument("--check", action="store_true", help="comparer aux chiffres calculés sur les fiches")

    def handle(self, *args, rebuild: bool, check: bool, **options) -> None:
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"Territoires recalculés : {done} / {total}")

        if rebuild:
            ledger.rebuild(progress=progress)
        else:
            ledger.refresh(progress=progress)
        self.stdout.write(f"Totaux à jour ({time.perf_counter() - started:.1f} s).")
        if check:
            end = today()
            days = [datetime.date(year, month, 1) for year in range(2018, end.year + 1) for month in (1, 7)]
            days += [end, datetime.date(2019, 11, 19)]
            phases = [None, *ProgrammePhase.objects.values_list("code", flat=True)]
            problems = ledger.check(sorted(d for d in days if d <= end), phases)
            if problems:
                raise CommandError("Écarts entre les totaux et les fiches :\n" + "\n".join(problems[:20]))
            self.stdout.write(f"Totaux conformes aux fiches ({len(days)} dates × {len(phases)} phases × 2 publics).")
