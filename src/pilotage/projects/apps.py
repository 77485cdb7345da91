from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "pilotage.projects"
    label = "projects"
    verbose_name = "Projets"
