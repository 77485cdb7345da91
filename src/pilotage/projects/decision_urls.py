from django.urls import path

from . import decision_views as views

app_name = "funding_decisions"

urlpatterns = [
    path("", views.decisions, name="list"),
    path("<int:pk>/", views.decide, name="decide"),
]
