"""Dashboards (national, regional, territorial) and the lists of the records each of their figures counts.

Every figure comes from `figures.py` and links to `records`, which lists exactly the records that figure counts,
with the same filters and date, as a page or as CSV (`&format=csv`). Everything follows the viewer's scope
(`build_scope`): a visitor's figures and lists count public projects only.

Dates: `?as_of=YYYY-MM-DD` (default today). A date that cannot be read does not cost the visitor the page: the
dashboard or list shows today's figures, with a French error message on the date field (HTTP 200). The CSV download
answers 400 instead, so that a file never silently holds the figures of another date than the one asked for.
An unknown region, territory or figure answers 404; an unknown phase is reported on the page and ignored.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pilotage.core.pagination import page_numbers
from pilotage.geo.models import Department, Region
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.programme.queries import territories_visible_to

from . import freshness
from .blocks import (
    NO_DEPARTMENT,
    Filters,
    count_text,
    department_map_block,
    funder_block,
    headline_tiles,
    progress_block,
    read_filters,
    region_map_block,
    status_block,
    theme_block,
)
from .dashboards import PROGRAMME_LAUNCH
from .figures import TERRITORY_FIGURES, Scope, build_scope, programme_figures, today
from .records import csv_response, decorate, is_listed, project_list, territory_list

PAGE_SIZE = 50
LATE_ITEMS_SHOWN = 50


def dashboard_title(region: Region | None, territory: Territory | None) -> str:
    if territory:
        return _("Tableau de bord du territoire %(name)s") % {"name": territory.name}
    if region:
        return _("Tableau de bord de la région %(name)s") % {"name": region.name}
    return _("Tableau de bord national")


def breadcrumb(filters: Filters, region: Region | None, territory: Territory | None, last: str = "") -> list:
    query = filters.dashboard_query()
    items = [(_("Tableaux de bord"), f"{reverse('stats:national')}?{query}")]
    if territory:
        region = region or territory.region
    if region:
        items.append((region.name, f"{reverse('stats:region', args=[region.code])}?{query}"))
    if territory:
        items.append((territory.name, f"{reverse('stats:territory', args=[territory.code])}?{query}"))
    if last:
        return [*items, (last, None)]
    return [*items[:-1], (items[-1][0], None)]


def scope_of(request: HttpRequest, filters: Filters) -> Scope:
    return build_scope(
        request.user,
        region=filters.region or None,
        territory=filters.territory or None,
        phase=filters.phase or None,
    )


def dashboard(request: HttpRequest, region: Region | None = None, territory: Territory | None = None) -> HttpResponse:
    phases = list(ProgrammePhase.objects.order_by("starts_on"))
    fixed = {"territory": territory.code} if territory else {"region": region.code} if region else {}
    filters, form = read_filters(request, phases, **fixed)
    scope = scope_of(request, filters)
    figures = programme_figures(scope, filters.as_of)
    themes = list(Theme.objects.filter(phase__code=filters.phase) if filters.phase else Theme.objects.all())
    phase_start = next((p.starts_on for p in phases if p.code == filters.phase), None)
    start = phase_start or min([PROGRAMME_LAUNCH, *(p.starts_on for p in phases)])
    context = {
        "title": dashboard_title(region, territory),
        "breadcrumb": breadcrumb(filters, region, territory),
        "level": "territory" if territory else "region" if region else "national",
        "region": region,
        "territory": territory,
        "filters": filters,
        "form": form,
        "hidden_filters": [("tri", request.GET["tri"])] if request.GET.get("tri") else [],
        "today": today(),
        "figures": figures,
        "tiles": headline_tiles(figures, filters, with_territories=territory is None),
        "progress": progress_block(scope, filters, start),
        "project_blocks": [theme_block(figures, filters, themes), status_block(figures, filters)],
        "funders": funder_block(figures, filters),
    }
    if territory:
        context |= territory_freshness(scope, territory)
        return render(request, "stats/dashboard.html", context)
    shapes = {name: value for name, value in filters.params().items() if name in ("region", "phase")}
    context["perimeters_src"] = reverse("api:territory-list-geojson") + (f"?{urlencode(shapes)}" if shapes else "")
    if region:
        department_map = department_map_block(scope, filters, region)
        context |= {
            "map_block": department_map.block,
            "department_values": department_map.values,
            "freshness": region_freshness(request, scope),
        }
    else:
        context["map_block"] = region_map_block(scope, filters, figures)
    return render(request, "stats/dashboard.html", context)


def region_freshness(request: HttpRequest, scope: Scope) -> dict:
    """The sortable list (server-side, `?tri=`): each header links to its sort, the current one to its reverse."""
    value = request.GET.get("tri")
    current, flipped = freshness.parse_sort(value)
    rows = freshness.sort_rows(freshness.territory_freshness(scope), value)
    columns = []
    for name, (label, _sort_key, descending) in freshness.SORTS.items():
        query = request.GET.copy()
        query["tri"] = ("" if flipped else "-") + name if name == current else name
        sort = ""
        if name == current:
            sort = "descending" if descending != flipped else "ascending"
        columns.append({"label": label, "url": f"?{query.urlencode()}#freshness-title", "sort": sort})
    return {"rows": rows, "columns": columns, "year": today().year}


def territory_freshness(scope: Scope, territory: Territory) -> dict:
    on = today()
    late_projects = freshness.late_projects(scope, on).order_by("end_on", "id_projet")
    unmeasured = freshness.unmeasured_projects(scope, on).order_by("title", "id_projet")
    return {
        # No row when the territory is not in the phase filtered on: nothing of that phase is late.
        "freshness_row": next(iter(freshness.territory_freshness(scope, on)), freshness.TerritoryFreshness(territory)),
        "late_plans": list(freshness.late_plans(scope, on).select_related("phase").order_by("expected_validation_on")),
        "late_projects": list(late_projects[:LATE_ITEMS_SHOWN]),
        "unmeasured_projects": list(unmeasured[:LATE_ITEMS_SHOWN]),
        "freshness_year": on.year,
        "perimeters_src": reverse("api:territory-geojson", kwargs={"code": territory.code}),
    }


def national(request: HttpRequest) -> HttpResponse:
    return dashboard(request)


def region_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    return dashboard(request, region=get_object_or_404(Region, pk=code))


def territory_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    territory = get_object_or_404(territories_visible_to(request.user).select_related("region"), code=code)
    return dashboard(request, territory=territory)


def count_label(kind: str, n: int) -> str:
    if kind == "territories":
        return ngettext("%(n)s territoire", "%(n)s territoires", n) % {"n": count_text(n)}
    return ngettext("%(n)s projet", "%(n)s projets", n) % {"n": count_text(n)}


def department_label(code: str) -> str:
    if code == NO_DEPARTMENT:
        return _("commune non renseignée")
    return str(Department.objects.filter(pk=code).first() or code) if code else ""


def records(request: HttpRequest) -> HttpResponse:
    """`?figure=…[&key=…]&as_of=…[&region=…|&territory=…][&phase=…][&departement=…][&format=csv]`."""
    figure, key = request.GET.get("figure", ""), request.GET.get("key", "").strip()
    if not is_listed(figure, key):
        raise Http404(_("Chiffre inconnu : %(figure)s") % {"figure": figure[:40]})
    phases = list(ProgrammePhase.objects.order_by("starts_on"))
    filters, form = read_filters(
        request, phases, **{n: request.GET.get(n, "").strip() for n in ("region", "territory")}
    )
    try:
        scope = scope_of(request, filters)
    except LookupError as exc:
        raise Http404(str(exc)) from exc
    department = request.GET.get("departement", "").strip()
    if figure in TERRITORY_FIGURES:
        listing = territory_list(scope, filters.as_of, figure)
    else:
        listing = project_list(scope, filters.as_of, figure, key, department)
    if request.GET.get("format") == "csv":
        if "as_of" in form.errors:
            return HttpResponse(form.errors["as_of"], status=400, content_type="text/plain; charset=utf-8")
        return csv_response(listing, filters.as_of)
    page = Paginator(listing.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    if listing.kind == "projects":
        decorate(listing, page.object_list)
    region = Region.objects.filter(pk=filters.region).first() if filters.region else None
    territory = scope.territories.select_related("region").first() if filters.territory else None
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    crumbs = breadcrumb(filters, region, territory, last=listing.title)
    return render(
        request,
        "stats/records.html",
        {
            "title": listing.title,
            "breadcrumb": crumbs,
            "back_url": crumbs[-2][1],
            "listing": listing,
            "page": page,
            "page_numbers": page_numbers(page),
            "filters": filters,
            "form": form,
            "region": region,
            "territory": territory,
            "department_name": department_label(department) if listing.kind == "projects" else "",
            "csv_url": f"?{query.urlencode()}",
            "count_label": count_label(listing.kind, page.paginator.count),
        },
    )
