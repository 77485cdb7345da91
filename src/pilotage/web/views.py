"""The home page: what the programme is, its national figures as of today, the map of the territories."""

import gzip
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from pilotage.programme.national import featured_on_home
from pilotage.stats.figures import build_scope, programme_figures, today

# Where the "projects" figure leads: the projects page when there is one, else the open API list.
PROJECTS_API_URL = "/api/v1/projects"


@dataclass(frozen=True)
class Figure:
    value: str
    label: str
    url: str
    detail: str = ""


def projects_url() -> str:
    try:
        return reverse("projects:list")
    except NoReverseMatch:
        return PROJECTS_API_URL


def home_figures(figures: dict) -> list[Figure]:
    """The headline figures, each a link to the records it counts (PRODUCT.md: a figure is a link)."""
    territories_url = reverse("programme:list")
    count = figures["territories"]
    return [
        Figure(number_format(count, force_grouping=True), _("territoires d'industrie"), territories_url),
        Figure(
            f"{number_format(figures['governance_installed_pct'], 1)} %",
            _("ont installé leur gouvernance"),
            f"{territories_url}?gouvernance=installee",
            _("%(n)s territoires sur %(total)s") % {"n": figures["governance_installed"], "total": count},
        ),
        Figure(str(figures["protocols_signed"]), _("protocoles signés"), f"{territories_url}?protocole=signe"),
        Figure(str(figures["contracts_signed"]), _("contrats signés"), f"{territories_url}?contrat=signe"),
        Figure(
            str(figures["action_plans_validated"]),
            _("plans d'actions validés par le Conseil régional"),
            f"{territories_url}?plan=valide",
            _("%(n)s attendus d'ici la fin de l'année") % {"n": figures["action_plans_validated_by_year_end"]},
        ),
        Figure(number_format(figures["projects"], force_grouping=True), _("projets remontés"), projects_url()),
    ]


def home(request: HttpRequest) -> HttpResponse:
    as_of = today()
    figures = programme_figures(build_scope(request.user), as_of)
    return render(
        request,
        "web/home.html",
        {"title": _("Accueil"), "as_of": as_of, "figures": home_figures(figures), "featured": featured_on_home()},
    )


OUTLINE_FILES = {"regions": "REGION_OUTLINES_FILE", "departments": "DEPARTMENT_OUTLINES_FILE"}


@cache_control(public=True, max_age=86400)
def outlines(request: HttpRequest, kind: str) -> HttpResponse:
    """Region or department outlines drawn under the perimeters, so that a map is readable without tiles.

    The shipped file is already gzipped: sent as it is to browsers that accept gzip (all of them).
    """
    from pilotage.geo import services

    if kind not in OUTLINE_FILES:
        raise Http404(kind)
    path = getattr(services, OUTLINE_FILES[kind])
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(path.read_bytes(), content_type="application/geo+json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(path.read_bytes()), content_type="application/geo+json")
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
