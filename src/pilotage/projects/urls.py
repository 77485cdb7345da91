from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.project_search, name="list"),
    path("<str:id_projet>/", views.project_detail, name="detail"),
]
