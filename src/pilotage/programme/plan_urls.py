from django.urls import path

from . import plan_views

app_name = "plans"
urlpatterns = [
    path("plans/", plan_views.plan_queue, name="queue"),
    path("territoires/<str:code>/plan/", plan_views.plan_detail, name="detail"),
    path("territoires/<str:code>/plan/brouillon/", plan_views.plan_save_draft, name="save_draft"),
    path("territoires/<str:code>/plan/soumettre/", plan_views.plan_submit, name="submit"),
    path("territoires/<str:code>/plan/valider/", plan_views.plan_validate, name="validate"),
    path("territoires/<str:code>/plan/renvoyer/", plan_views.plan_return, name="return"),
]
