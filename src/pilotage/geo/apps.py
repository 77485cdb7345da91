from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "pilotage.geo"
    label = "geo"
    verbose_name = "Référentiel géographique"
