from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "pilotage.programme"
    label = "programme"
    verbose_name = "Programme"
