"""Back office of projects, mounted under `espace/projets/` (namespace `project_edit`)."""

from django.urls import path

from . import edit_views as views

app_name = "project_edit"

P = "<str:id_projet>/"

urlpatterns = [
    path("nouveau/", views.create, name="create"),
    path(P, views.overview, name="overview"),
    path(f"{P}modifier/", views.edit, name="edit"),
    path(f"{P}statut/", views.status, name="status"),
    path(f"{P}financements/", views.funding, name="funding"),
    path(f"{P}financements/<int:pk>/modifier/", views.funding_edit, name="funding_edit"),
    path(f"{P}financements/<int:pk>/supprimer/", views.funding_delete, name="funding_delete"),
    path(f"{P}indicateurs/", views.indicators, name="indicators"),
    path(f"{P}jalons/", views.milestones, name="milestones"),
    path(f"{P}jalons/<int:pk>/modifier/", views.milestone_edit, name="milestone_edit"),
    path(f"{P}historique/", views.history, name="history"),
]
