from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "pilotage.web"
    label = "web"
    verbose_name = "Site"
