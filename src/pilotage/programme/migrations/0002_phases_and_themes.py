"""The two programme phases and their themes exist right after `pilotage migrate` (PRODUCT.md)."""

import datetime

from django.db import migrations

PHASES = [
    {
        "code": "2018-2022",
        "name": "Territoires d'industrie 2018-2022",
        "starts_on": datetime.date(2018, 11, 22),
        "ends_on": datetime.date(2022, 12, 31),
        "themes": [
            ("attirer", "Attirer", "Attirer des talents, des entreprises et des investissements"),
            ("recruter", "Recruter", "Recruter et former les compétences dont l'industrie a besoin"),
            ("simplifier", "Simplifier", "Simplifier les démarches des industriels"),
            ("innover", "Innover", "Innover et accompagner la transformation des entreprises"),
            ("installer", "Installer", "Installer des entreprises : foncier, immobilier, infrastructures"),
        ],
    },
    {
        "code": "2023-2027",
        "name": "Territoires d'industrie 2023-2027",
        "starts_on": datetime.date(2023, 1, 1),
        "ends_on": datetime.date(2027, 12, 31),
        "themes": [
            ("competences", "Compétences", "Lever les freins au recrutement, développer les compétences"),
            (
                "transition_ecologique",
                "Transition écologique",
                "Accélérer la transition écologique et énergétique de l'industrie",
            ),
            ("innovation", "Innovation", "Faire des territoires des écosystèmes d'innovation"),
            ("foncier", "Foncier", "Mobiliser un foncier industriel adapté"),
        ],
    },
]


def create(apps, schema_editor):
    Phase = apps.get_model("programme", "ProgrammePhase")
    Theme = apps.get_model("programme", "Theme")
    for spec in PHASES:
        phase, _ = Phase.objects.update_or_create(
            code=spec["code"],
            defaults={"name": spec["name"], "starts_on": spec["starts_on"], "ends_on": spec["ends_on"]},
        )
        for position, (code, label, description) in enumerate(spec["themes"]):
            Theme.objects.update_or_create(
                phase=phase,
                code=code,
                defaults={"label": label, "description": description, "position": position},
            )


class Migration(migrations.Migration):
    dependencies = [("programme", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
