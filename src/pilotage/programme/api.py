"""Read API of the territories: list, detail and perimeters as GeoJSON.

Route order matters: the `.geojson` paths are declared before `/territories/{code}`, whose `{code}` would otherwise
swallow `ti-4401.geojson`.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from pilotage.core.errors import ErrorOut
from pilotage.core.http import etag_of, matches_if_none_match, not_modified
from pilotage.core.pagination import PageParams, page_schema, paginate
from pilotage.geo.models import Epci

from .models import ActionPlan, Contract, Territory
from .queries import filter_territories, territories_visible_to
from .schemas import (
    GEOJSON_FEATURE_COLLECTION_SCHEMA,
    TerritoryDetail,
    TerritoryItem,
    perimeter_feature_collection,
    territory_feature,
)

router = Router(tags=["territoires"])

GEOJSON = "application/geo+json"
TerritoryPage = page_schema(TerritoryItem)


class TerritoryFilters(Schema):
    region: str | None = Field(None, max_length=3, description="Code INSEE de la région, ex. 44 (Grand Est).")
    phase: str | None = Field(None, max_length=20, description="Code de la phase du programme, ex. 2018-2022.")
    q: str | None = Field(
        None, max_length=200, description="Recherche dans le code, le nom et les EPCI, sans tenir compte des accents."
    )


def visible_filtered(request: HttpRequest, filters: TerritoryFilters) -> QuerySet[Territory]:
    qs = territories_visible_to(request.user)
    return filter_territories(qs, region=filters.region, phase=filters.phase, q=filters.q)


def with_summary(qs: QuerySet[Territory]) -> QuerySet[Territory]:
    """What a list item shows, in a fixed number of queries whatever the page length.

    Sorted by code: an order by name would put "Épinal" after "Vallée" on both engines' byte collations.
    """
    return (
        qs.select_related("region")
        .prefetch_related(
            "phases",
            Prefetch("contracts", queryset=Contract.objects.select_related("phase")),
            Prefetch("action_plans", queryset=ActionPlan.objects.select_related("phase")),
        )
        .annotate(epci_count=Count("epcis", distinct=True))
        .order_by("code")
    )


def with_detail(qs: QuerySet[Territory]) -> QuerySet[Territory]:
    return with_summary(qs).prefetch_related(
        "governance_members", Prefetch("epcis", queryset=Epci.objects.defer("geometry").order_by("name"))
    )


def with_shapes(qs: QuerySet[Territory]) -> QuerySet[Territory]:
    return (
        qs.select_related("region")
        .prefetch_related("phases", Prefetch("epcis", queryset=Epci.objects.order_by("name")))
        .order_by("code")
    )


def get_visible(request: HttpRequest, code: str, qs: QuerySet[Territory]) -> Territory:
    """404 for unknown codes and for territories the user may not see alike: existence is not leaked."""
    territory = qs.filter(code=code).first()
    if territory is None:
        raise HttpError(404, _("Territoire introuvable : %(code)s.") % {"code": code})
    return territory


def geojson_response(data: dict) -> HttpResponse:
    return HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False), content_type=GEOJSON)


def geojson_openapi(description: str) -> dict:
    return {
        "responses": {
            "200": {"description": description, "content": {GEOJSON: {"schema": GEOJSON_FEATURE_COLLECTION_SCHEMA}}}
        }
    }


@router.get(
    "/territories",
    response={200: TerritoryPage, 400: ErrorOut},
    summary="Liste des territoires d'industrie",
    description="Liste paginée, triée par identifiant (id_ti). Filtres combinables : `region`, `phase`, `q`.",
    url_name="territory-list",
)
def list_territories(request: HttpRequest, filters: Query[TerritoryFilters], pages: Query[PageParams]):
    return paginate(request, with_summary(visible_filtered(request, filters)), pages)


@router.get(
    "/territories.geojson",
    response={400: ErrorOut},
    summary="Périmètres des territoires (GeoJSON)",
    description="Un Feature par territoire (MultiPolygon réunissant ses EPCI) ; mêmes filtres que la liste.",
    openapi_extra=geojson_openapi("FeatureCollection des territoires."),
    url_name="territory-list-geojson",
)
def territories_geojson(request: HttpRequest, filters: Query[TerritoryFilters]):
    territories = with_shapes(visible_filtered(request, filters))
    return geojson_response({"type": "FeatureCollection", "features": [territory_feature(t) for t in territories]})


@router.get(
    "/territories/{code}.geojson",
    response={404: ErrorOut},
    summary="Périmètre d'un territoire (GeoJSON)",
    description="Un Feature par EPCI du périmètre ; les propriétés du territoire sont dans `properties`.",
    openapi_extra=geojson_openapi("FeatureCollection des EPCI du territoire."),
    url_name="territory-geojson",
)
def territory_geojson(request: HttpRequest, code: str):
    territory = get_visible(request, code, with_shapes(territories_visible_to(request.user)))
    return geojson_response(perimeter_feature_collection(territory))


@router.get(
    "/territories/{code}",
    response={200: TerritoryDetail, 304: None, 404: ErrorOut},
    summary="Un territoire d'industrie",
    description=(
        "Gouvernance (sans coordonnées personnelles), protocoles et contrats, plan d'actions en cours par phase, "
        "périmètre. L'en-tête `ETag` permet une requête conditionnelle (`If-None-Match`)."
    ),
    url_name="territory-detail",
)
def get_territory(request: HttpRequest, code: str, response: HttpResponse):
    territory = get_visible(request, code, with_detail(territories_visible_to(request.user)))
    payload = TerritoryDetail.from_orm(territory)
    etag = etag_of(payload)
    if matches_if_none_match(request, etag):
        return not_modified(etag)
    response["ETag"] = etag
    return payload
