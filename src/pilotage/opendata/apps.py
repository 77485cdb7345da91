from django.apps import AppConfig


class OpendataConfig(AppConfig):
    name = "pilotage.opendata"
    label = "opendata"
    verbose_name = "Données ouvertes"
