"""Back office of territories (governance, contracts, meetings) and Regions (meetings), mounted under `espace/`."""

from django.urls import path

from . import manage_views as views

app_name = "manage"

T = "territoires/<str:code>/"
R = "regions/<str:code>/"
TERRITORY = {"level": "territory"}
REGION = {"level": "region"}

urlpatterns = [
    path(f"{T}gouvernance/", views.governance_page, name="governance"),
    path(f"{T}gouvernance/installation/", views.installation_edit, name="installation"),
    path(f"{T}gouvernance/membres/ajouter/", views.member_add, name="member_add"),
    path(f"{T}gouvernance/membres/<int:pk>/", views.member_detail, name="member"),
    path(f"{T}gouvernance/membres/<int:pk>/modifier/", views.member_edit, name="member_edit"),
    path(f"{T}gouvernance/membres/<int:pk>/fin-de-mandat/", views.member_end, name="member_end"),
    path(f"{T}contrats/", views.contracts_page, name="contracts"),
    path(f"{T}contrats/ajouter/", views.contract_add, name="contract_add"),
    path(f"{T}contrats/<int:pk>/", views.contract_detail, name="contract"),
    path(f"{T}contrats/<int:pk>/modifier/", views.contract_edit, name="contract_edit"),
    path(f"{T}contrats/<int:pk>/document/", views.contract_document, name="contract_document"),
]
for prefix, scope, name in ((T, TERRITORY, ""), (R, REGION, "region_")):
    urlpatterns += [
        path(f"{prefix}reunions/", views.meetings_page, scope, name=f"{name}meetings"),
        path(f"{prefix}reunions/ajouter/", views.meeting_add, scope, name=f"{name}meeting_add"),
        path(f"{prefix}reunions/<int:pk>/", views.meeting_detail, scope, name=f"{name}meeting"),
        path(f"{prefix}reunions/<int:pk>/modifier/", views.meeting_edit, scope, name=f"{name}meeting_edit"),
        path(f"{prefix}reunions/<int:pk>/compte-rendu/", views.meeting_document, scope, name=f"{name}meeting_document"),
    ]
