from django.urls import path

from . import views

app_name = "stats"
urlpatterns = [
    path("", views.national, name="national"),
    path("region/<str:code>/", views.region_dashboard, name="region"),
    path("territoire/<str:code>/", views.territory_dashboard, name="territory"),
    path("liste/", views.records, name="records"),
]
