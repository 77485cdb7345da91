from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from pilotage.admin import restrict_to_superusers
from pilotage.api import api
from pilotage.stats import pdf_views
from pilotage.web.workspace import workspace

restrict_to_superusers()

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("territoires/", include("pilotage.programme.urls")),
    path("projets/", include("pilotage.projects.urls")),
    path("tableaux-de-bord/", include("pilotage.stats.urls")),
    path("rapports/territoire/<str:code>.pdf", pdf_views.territory_report, name="report-territory"),
    path("rapports/region/<str:code>.pdf", pdf_views.region_report, name="report-region"),
    path("compte/", include("pilotage.accounts.urls")),
    path("espace/", workspace, name="workspace"),
    path("espace/", include("pilotage.programme.plan_urls")),
    path("espace/", include("pilotage.programme.manage_urls")),
    path("espace/national/", include("pilotage.programme.national_urls")),
    path("espace/import/", include("pilotage.opendata.web_import")),
    path("espace/projets/", include("pilotage.projects.edit_urls")),
    path("espace/financements/", include("pilotage.projects.decision_urls")),
    path("", include("pilotage.web.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
