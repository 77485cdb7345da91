"""Back office of the national coordination, mounted under `espace/national/`."""

from django.urls import path

from . import national_views as views

app_name = "national"

PHASE = "phases/<str:code>/"
THEME = f"{PHASE}themes/<int:pk>/"
USER = "utilisateurs/<int:pk>/"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("phases/", views.phases, name="phases"),
    path("phases/ajouter/", views.phase_add, name="phase_add"),
    path(PHASE, views.phase_detail, name="phase"),
    path(f"{PHASE}modifier/", views.phase_edit, name="phase_edit"),
    path(f"{PHASE}themes/ajouter/", views.theme_add, name="theme_add"),
    path(f"{THEME}modifier/", views.theme_edit, name="theme_edit"),
    path(f"{THEME}supprimer/", views.theme_delete, name="theme_delete"),
    path("financeurs/", views.funders, name="funders"),
    path("financeurs/ajouter/", views.funder_add, name="funder_add"),
    path("financeurs/<int:pk>/modifier/", views.funder_edit, name="funder_edit"),
    path("territoires/", views.territories, name="territories"),
    path("territoires/ajouter/", views.territory_add, name="territory_add"),
    path("territoires/<str:code>/modifier/", views.territory_edit, name="territory_edit"),
    path("utilisateurs/", views.users, name="users"),
    path("utilisateurs/inviter/", views.user_invite, name="user_invite"),
    path(USER, views.user_detail, name="user"),
    path(f"{USER}roles/ajouter/", views.user_role_add, name="user_role_add"),
    path(f"{USER}roles/<int:role>/retirer/", views.user_role_remove, name="user_role_remove"),
    path(f"{USER}activation/", views.user_activation, name="user_activation"),
    path(f"{USER}invitation/", views.user_invitation, name="user_invitation"),
    path("projets-remarquables/", views.featured, name="featured"),
    path("projets-remarquables/<str:id_projet>/", views.featured_project, name="featured_project"),
]
