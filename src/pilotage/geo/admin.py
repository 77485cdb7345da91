"""Read-only admin: the referential comes from the shipped open data (`load_referential`), never from hand edits."""

from django.contrib import admin
from django.http import HttpRequest

from pilotage.geo.models import Commune, Department, Epci, Region


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


@admin.register(Epci)
class EpciAdmin(ReadOnlyAdmin):
    list_display = ["siren", "name", "kind", "population"]
    list_filter = ["kind"]
    search_fields = ["siren", "name"]
    exclude = ["geometry"]  # thousands of coordinates: unreadable in a form


@admin.register(Commune)
class CommuneAdmin(ReadOnlyAdmin):
    list_display = ["insee", "name", "department", "epci", "population"]
    list_select_related = ["department", "epci"]
    list_filter = ["department__region"]
    search_fields = ["insee", "name"]
    raw_id_fields = ["epci", "department"]
