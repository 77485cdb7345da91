"""`pilotage load_demo [--seed N] [--scale K] [--reset] [--projects-per-territory N]`: the demonstration programme."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pilotage.opendata.demo.loader import DEFAULT_SEED, DemoError, has_demo_data, load_demo, wipe_demo


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Charge un programme Territoires d'industrie de démonstration (territoires, gouvernance, contrats, plans "
        "d'actions, projets, financements), identique pour une même graine. Nécessite le référentiel "
        "(pilotage load_referential)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="graine du générateur (défaut : %(default)s)"
        )
        parser.add_argument(
            "--scale",
            type=positive,
            default=1,
            help="multiplie territoires et projets pour les mesures de performance (défaut : 1 ≈ 183 territoires, "
            "3 000 projets). Au-delà de 99 territoires dans une région, les codes prennent trois chiffres (ti-RRNNN).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="supprime d'abord les données de démonstration déjà chargées"
        )
        parser.add_argument(
            "--projects-per-territory",
            type=non_negative,
            default=None,
            metavar="N",
            help="exactement N projets par territoire et par phase (essais rapides) au lieu des volumes de l'article",
        )

    def handle(self, *args, seed: int, scale: int, reset: bool, projects_per_territory: int | None, **options):
        if reset and has_demo_data():
            count = wipe_demo()
            self.stderr.write(f"Données de démonstration supprimées ({count} territoires).")
        try:
            summary = load_demo(
                seed=seed,
                scale=scale,
                projects_per_territory=projects_per_territory,
                warn=lambda message: self.stderr.write(self.style.WARNING(message)),
                progress=self.stderr.write,
            )
        except DemoError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de démonstration chargées (graine {seed}, échelle {scale}) : "
                f"{summary.territories} territoires, "
                f"{summary.projects} projets, {summary.funding_lines} lignes de financement, "
                f"{summary.organisations} porteurs, en {summary.seconds:.1f} s."
            )
        )
