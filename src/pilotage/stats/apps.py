from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "pilotage.stats"
    label = "stats"
    verbose_name = "Indicateurs du programme"
