"""PDF territory sheets and regional syntheses, for steering committees and regional assemblies.

The figures come from `pilotage.stats.figures` (never recomputed here) and the project lists from the same
definitions, so a sheet agrees with the API and the dashboards. Maps are inline SVG drawn from the EPCI shapes
of the database. WeasyPrint may only read the app's static files (the Marianne font of django-dsfr), through
Django's finders: nothing is fetched from the network.
"""

from __future__ import annotations

import datetime
import functools
import math
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Count, Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from pilotage.geo.models import Department, Epci, Region
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory, Theme
from pilotage.projects.models import ProjectStatus

from .figures import Scope, build_scope, programme_figures, reported_projects, with_status_as_of


class Operator:
    """Whoever runs `pilotage report` on the server: the operator sees every record, like a national role."""

    is_authenticated = True
    is_superuser = True
    is_active = True
    pk = None


OPERATOR = Operator()


# ---------------------------------------------------------------------------------------------- formatting


def fmt_int(value: int | float) -> str:
    """French thousands separator (narrow no-break space)."""
    return f"{int(value):,}".replace(",", "\u202f")


def fmt_euros(value: float | Decimal | None) -> str:
    """Whole euros: a sheet for an assembly does not show cents."""
    euros = Decimal(str(value or 0)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{fmt_int(euros)}\u00a0€"


def fmt_pct(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + "\u00a0%"


def fmt_date(day: datetime.date | None) -> str:
    return date_format(day, "j F Y") if day else "—"


# ---------------------------------------------------------------------------------------------- maps (SVG)

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]  # outer ring, then holes

# DSFR illustrative colours for the territories of a regional map, the most distinct first.
PALETTE = (
    "#417DC4", "#68A532", "#E4794A", "#A558A0", "#C8AA39", "#009099", "#BD987A", "#465F9D",
    "#CE614A", "#AEA397", "#00A95F", "#E18B76", "#B7A73F", "#C08C65", "#009081", "#C3992A",
)  # fmt: skip


def distinct_colours(vertex_sets: list[set[Point]], choices: int = 8) -> list[str]:
    """Greedy map colouring: each shape takes, among the colours none of its neighbours (shapes sharing a vertex:
    the shipped EPCI shapes share their borders) already has, the least used so far."""
    palette = PALETTE[:choices]
    colours: list[str] = []
    for i, vertices in enumerate(vertex_sets):
        taken = {colours[j] for j in range(i) if vertices & vertex_sets[j]}
        allowed = [c for c in palette if c not in taken] or [PALETTE[i % len(PALETTE)]]
        colours.append(min(allowed, key=lambda c: (colours.count(c), palette.index(c) if c in palette else 99)))
    return colours


def polygons_of(geometry: dict | None) -> list[Polygon]:
    if not geometry:
        return []
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"]]
    if geometry.get("type") == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


@dataclass
class Shape:
    """Polygons (longitude, latitude) drawn with one style; `label` is the number shown on it, if any."""

    polygons: list[Polygon]
    fill: str = "#CACAFB"
    stroke: str = "#000091"
    label: str = ""
    title: str = ""


def bounds_of(polygons: Iterable[Polygon]) -> tuple[float, float, float, float] | None:
    xs, ys = [], []
    for polygon in polygons:
        for lon, lat in polygon[0]:
            xs.append(lon)
            ys.append(lat)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@dataclass(frozen=True)
class Projection:
    """Equirectangular, longitudes shrunk by cos(latitude) at the centre, fitted and centred in a frame."""

    scale: float
    k: float
    x0: float
    y0: float

    @classmethod
    def fit(cls, bounds: tuple[float, float, float, float], width: float, height: float, margin: float) -> Projection:
        west, south, east, north = bounds
        k = math.cos(math.radians((south + north) / 2))
        span_x, span_y = max((east - west) * k, 1e-9), max(north - south, 1e-9)
        scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        x0 = (width - span_x * scale) / 2 - west * k * scale
        y0 = (height - span_y * scale) / 2 + north * scale
        return cls(scale, k, x0, y0)

    def __call__(self, lon: float, lat: float) -> Point:
        return (self.x0 + lon * self.k * self.scale, self.y0 - lat * self.scale)


def aspect_ratio(bounds: tuple[float, float, float, float]) -> float:
    """Height / width of the area once projected."""
    west, south, east, north = bounds
    k = math.cos(math.radians((south + north) / 2))
    return (north - south) / max((east - west) * k, 1e-9)


def path_data(polygons: list[Polygon], project: Projection) -> str:
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = [project(lon, lat) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def ring_area(ring: Ring) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def inside(point: Point, ring: Ring) -> bool:
    x, y = point
    result = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def edge_distance(point: Point, rings: list[Ring]) -> float:
    px, py = point
    best = math.inf
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            dx, dy = x2 - x1, y2 - y1
            t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy or 1)))
            best = min(best, math.hypot(px - x1 - t * dx, py - y1 - t * dy))
    return best


def label_point(polygons: list[Polygon], project: Projection, grid: int = 14) -> Point:
    """A point well inside the largest polygon (the grid point farthest from its edges), for a number marker."""
    rings = max(
        ([[project(*p) for p in ring] for ring in polygon] for polygon in polygons), key=lambda r: ring_area(r[0])
    )
    xs, ys = [x for x, _ in rings[0]], [y for _, y in rings[0]]
    best, best_distance = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2), -1.0
    for i in range(grid):
        for j in range(grid):
            candidate = (
                min(xs) + (i + 0.5) * (max(xs) - min(xs)) / grid,
                min(ys) + (j + 0.5) * (max(ys) - min(ys)) / grid,
            )
            if inside(candidate, rings[0]) and not any(inside(candidate, hole) for hole in rings[1:]):
                distance = edge_distance(candidate, rings)
                if distance > best_distance:
                    best, best_distance = candidate, distance
    return best


def shape_path(shape: Shape, project: Projection, stroke_width: float, opacity: str = "") -> SafeString:
    return format_html(
        '<path d="{}" fill="{}" stroke="{}" stroke-width="{}" fill-rule="evenodd"{}>{}</path>',
        path_data(shape.polygons, project),
        shape.fill,
        shape.stroke,
        stroke_width,
        format_html(' fill-opacity="{}"', opacity) if opacity else "",
        format_html("<title>{}</title>", shape.title) if shape.title else "",
    )


def marker(point: Point, label: str) -> SafeString:
    x, y = point
    return format_html(
        '<circle cx="{}" cy="{}" r="13" fill="#FFFFFF" stroke="#161616" stroke-width="1.5"/>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="15" font-weight="bold" font-family="Marianne" '
        'fill="#161616">{}</text>',
        f"{x:.1f}", f"{y:.1f}", f"{x:.1f}", f"{y + 5.2:.1f}", label,
    )  # fmt: skip


def svg_map(
    shapes: list[Shape],
    *,
    title: str,
    background: list[Shape] | None = None,
    fit_to: tuple[float, float, float, float] | None = None,
    width: float = 1000,
    ratios: tuple[float, float] = (0.45, 0.56),
) -> SafeString:
    """An SVG map of `shapes` over `background` outlines, fitted to `fit_to` (default: the shapes' bounds).

    The frame follows the area's proportions within `ratios` (height / width), so that a tall area is not drawn
    small in a wide frame nor a wide one given a tall frame that pushes the text to the next page."""
    bounds = fit_to or bounds_of(p for shape in shapes for p in shape.polygons)
    if bounds is None:
        return mark_safe("")
    height = round(width * min(max(aspect_ratio(bounds), ratios[0]), ratios[1]))
    project = Projection.fit(bounds, width, height, margin=20)
    drawn = [s for s in shapes if s.polygons]
    layers = [
        *(shape_path(s, project, 1.0) for s in background or [] if s.polygons),
        *(shape_path(s, project, 1.6, "0.75") for s in drawn),
        *(marker(label_point(s.polygons, project), s.label) for s in drawn if s.label),
    ]
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" aria-label="{}" class="map">'
        "<title>{}</title>{}</svg>",
        width,
        height,
        title,
        title,
        mark_safe("".join(layers)),
    )


def department_outlines(codes: Iterable[str] | None = None, near: tuple[float, ...] | None = None) -> list[Shape]:
    """Department outlines drawn under the perimeters (shipped file), by code or near some bounds."""
    from pilotage.geo.services import read_outlines

    wanted = set(codes) if codes is not None else None
    shapes = []
    for feature in read_outlines("departments")["features"]:
        polygons = polygons_of(feature["geometry"])
        if wanted is not None and feature["properties"]["code"] not in wanted:
            continue
        if near is not None and not ((b := bounds_of(polygons)) and overlaps(b, near)):
            continue
        shapes.append(Shape(polygons, fill="#F6F6F6", stroke="#929292", title=feature["properties"]["name"]))
    return shapes


def widened(bounds: tuple[float, float, float, float], ratio: float = 0.08) -> tuple[float, float, float, float]:
    west, south, east, north = bounds
    dx, dy = (east - west) * ratio, (north - south) * ratio
    return (west - dx, south - dy, east + dx, north + dy)


# ---------------------------------------------------------------------------------------------- milestones


@dataclass(frozen=True)
class Step:
    """A programme milestone as it stood at the sheet's date (same conditions as the figures)."""

    label: str
    phase: str
    date: datetime.date | None
    state: str
    reached: bool


def governance_step(territory: Territory, as_of: datetime.date) -> Step:
    installed = territory.governance_installed_on
    if installed and installed <= as_of:
        return Step(_("Gouvernance installée"), "", installed, _("Installée"), True)
    return Step(_("Gouvernance installée"), "", None, _("Non installée"), False)


def contract_step(kind: Contract.Kind, contracts: list[Contract], as_of: datetime.date, phase: str = "") -> Step:
    """The latest signature on or before as_of; else a planned signature date, if one is recorded."""
    label = capfirst(kind.label)
    of_kind = [c for c in contracts if c.kind == kind and c.signed_on]
    signed = [c for c in of_kind if c.signed_on <= as_of]
    if signed:
        last = max(signed, key=lambda c: c.signed_on)
        return Step(label, phase or last.phase.code, last.signed_on, _("Signé"), True)
    if of_kind:
        first = min(of_kind, key=lambda c: c.signed_on)
        return Step(label, phase or first.phase.code, first.signed_on, _("Signature prévue"), False)
    return Step(label, phase, None, _("Non signé"), False)


def plan_step(plans: list[ActionPlan], as_of: datetime.date, phase: str = "") -> Step:
    """Validated when a Regional Council decision validated a version on or before as_of (as the figure counts)."""
    label = _("Plan d'actions")
    validated = [p for p in plans if p.status == ActionPlan.Status.VALIDATED and p.decided_on and p.decided_on <= as_of]
    if validated:
        plan = max(validated, key=lambda p: p.decided_on)
        return Step(label, phase or plan.phase.code, plan.decided_on, _("Validé par le Conseil régional"), True)
    if not plans:
        return Step(label, phase, None, _("Pas encore de plan d'actions"), False)
    plan = max(plans, key=lambda p: (p.phase.starts_on, p.version))
    phase = phase or plan.phase.code
    if plan.status == ActionPlan.Status.RETURNED and plan.decided_on and plan.decided_on <= as_of:
        return Step(label, phase, plan.decided_on, _("Renvoyé pour modification"), False)
    if plan.expected_validation_on:
        return Step(label, phase, plan.expected_validation_on, _("Validation prévue"), False)
    return Step(label, phase, None, _("En préparation"), False)


def territory_steps(territory: Territory, phases: list[ProgrammePhase], as_of: datetime.date) -> list[Step]:
    """Governance, then for each phase of the territory: protocol, contract and action plan."""
    contracts = list(territory.contracts.all())
    plans = list(territory.action_plans.all())
    shown = {p.pk: p for p in phases} | {c.phase_id: c.phase for c in contracts} | {p.phase_id: p.phase for p in plans}
    steps = [governance_step(territory, as_of)]
    for phase in sorted(shown.values(), key=lambda p: p.starts_on):
        in_phase = [c for c in contracts if c.phase_id == phase.pk]
        steps.append(contract_step(Contract.Kind.PROTOCOL, in_phase, as_of, phase.code))
        steps.append(contract_step(Contract.Kind.CONTRACT, in_phase, as_of, phase.code))
        steps.append(plan_step([p for p in plans if p.phase_id == phase.pk], as_of, phase.code))
    return steps


def with_milestone_records(territories):
    return territories.prefetch_related(
        Prefetch("contracts", queryset=Contract.objects.select_related("phase")),
        Prefetch("action_plans", queryset=ActionPlan.objects.select_related("phase")),
    )


# ---------------------------------------------------------------------------------------------- figures


@dataclass
class Bar:
    label: str
    count: str
    width: float  # % of the longest bar


def bars(counts: list[tuple[str, int]]) -> list[Bar]:
    top = max((n for _, n in counts), default=0) or 1
    return [Bar(label, fmt_int(n), round(100 * n / top, 1)) for label, n in counts]


def theme_bars(by_theme: dict[str, int], phases: list[ProgrammePhase]) -> list[Bar]:
    """Themes of the phases shown, in the programme's order, and any other theme that counts projects."""
    phase_ids = {p.pk for p in phases}
    themes = Theme.objects.select_related("phase").order_by("phase__starts_on", "position", "code")
    rows = []
    for theme in themes:
        if theme.code in by_theme and (theme.phase_id in phase_ids or by_theme[theme.code]):
            rows.append((f"{theme.label} ({theme.phase.code})", by_theme[theme.code]))
    return bars(rows)


def status_bars(by_status: dict[str, int]) -> list[Bar]:
    return bars([(str(label), by_status.get(code, 0)) for code, label in ProjectStatus.choices])


@dataclass
class FunderRow:
    name: str
    requested: str
    granted: str


def funding_rows(by_funder: dict[str, dict]) -> list[FunderRow]:
    rows = sorted(by_funder.items(), key=lambda item: (-item[1]["requested"], item[0]))
    return [FunderRow(name, fmt_euros(v["requested"]), fmt_euros(v["granted"])) for name, v in rows]


def figures_context(figures: dict, phases: list[ProgrammePhase]) -> dict:
    return {
        "figures": figures,
        "projects_count": fmt_int(figures["projects"]),
        "theme_bars": theme_bars(figures["projects_by_theme"], phases),
        "status_bars": status_bars(figures["projects_by_status"]),
        "funders": funding_rows(figures["funding_by_funder"]),
        "funding_requested": fmt_euros(figures["funding_requested"]),
        "funding_granted": fmt_euros(figures["funding_granted"]),
    }


def report_meta(title: str, as_of: datetime.date) -> dict:
    return {
        "title": title,
        "as_of": as_of,
        "as_of_label": fmt_date(as_of),
        "generated_at": timezone.localtime(),
        "generated_label": date_format(timezone.localtime(), _("j F Y à H:i")),
    }


# ---------------------------------------------------------------------------------------------- territory sheet


def current_members(territory: Territory, as_of: datetime.date) -> list[tuple[str, str]]:
    """(role, name) of the members in office at as_of. Contact details are personal data: never even loaded."""
    members = (
        territory.governance_members.filter(Q(starts_on__isnull=True) | Q(starts_on__lte=as_of))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=as_of))
        .only("role", "full_name", "territory_id")
    )
    order = {code: i for i, code in enumerate(GovernanceMember.Role.values)}
    labels = dict(GovernanceMember.Role.choices)
    rows = sorted(members, key=lambda m: (order.get(m.role, 99), m.full_name))
    return [(capfirst(labels.get(m.role, m.role)), m.full_name) for m in rows]


def perimeter_map(territory: Territory, epcis: list[Epci]) -> tuple[SafeString, list[tuple[str, Epci]]]:
    """The perimeter's EPCI, numbered, over the outlines of the departments around them."""
    numbered = [(str(i), e) for i, e in enumerate((e for e in epcis if e.geometry), start=1)]
    shapes = [Shape(polygons_of(e.geometry), label=n, title=e.name) for n, e in numbered]
    bounds = bounds_of(p for s in shapes for p in s.polygons)
    if bounds is None:
        return mark_safe(""), []
    fit = widened(bounds)
    title = _("Carte du périmètre de %(name)s") % {"name": territory.name}
    return svg_map(shapes, title=title, background=department_outlines(near=fit), fit_to=fit), numbered


@dataclass
class ProjectRow:
    id_projet: str
    title: str
    status: str
    cost: str
    public: bool


def project_rows(scope: Scope, as_of: datetime.date) -> list[ProjectRow]:
    """The projects the figures count, with their status as it stood at as_of."""
    labels = dict(ProjectStatus.choices)
    projects = with_status_as_of(reported_projects(scope, as_of), as_of).order_by("title", "id_projet")
    rows = []
    for p in projects.only("id_projet", "title", "total_cost", "public", "status"):
        cost = fmt_euros(p.total_cost) if p.total_cost is not None else "—"
        rows.append(ProjectRow(p.id_projet, p.title, str(labels.get(p.status_as_of, p.status_as_of)), cost, p.public))
    return rows


def territory_context(user, code: str, as_of: datetime.date) -> dict:
    """Everything the territory sheet shows. Unknown (or invisible) code: LookupError."""
    scope = build_scope(user, territory=code)
    territory = with_milestone_records(scope.territories.select_related("region")).get()
    phases = list(territory.phases.order_by("starts_on"))
    epcis = list(territory.epcis.order_by("name"))
    figures = programme_figures(scope, as_of)
    map_svg, numbered = perimeter_map(territory, epcis)
    return {
        **report_meta(_("Fiche territoire — %(name)s") % {"name": territory.name}, as_of),
        **figures_context(figures, phases),
        "territory": territory,
        "phases": ", ".join(p.name for p in phases) or "—",
        "population": fmt_int(territory.population),
        "communes": fmt_int(territory.communes_count),
        "epci_count": len(epcis),
        "map": map_svg,
        "map_legend": numbered,
        "unmapped": [e for e in epcis if not e.geometry],
        "members": current_members(territory, as_of),
        "steps": territory_steps(territory, phases, as_of),
        "projects": project_rows(scope, as_of),
        "demo": territory.is_demo,
    }


# ---------------------------------------------------------------------------------------------- regional synthesis


@dataclass
class TerritoryRow:
    number: str
    territory: Territory
    governance: Step
    protocol: Step
    contract: Step
    plan: Step
    projects: str
    colour: str = PALETTE[0]


def headline(figures: dict) -> list[tuple[str, str, str]]:
    """(value, label, detail) of the region's headline figures."""
    f = figures
    return [
        (fmt_int(f["territories"]), _("territoires d'industrie"), ""),
        (fmt_pct(f["governance_installed_pct"]), _("ont installé leur gouvernance"),
         _("%(n)s territoires") % {"n": fmt_int(f["governance_installed"])}),
        (fmt_int(f["protocols_signed"]), _("protocoles signés"), ""),
        (fmt_int(f["contracts_signed"]), _("contrats signés"), ""),
        (fmt_int(f["action_plans_validated"]), _("plans d'actions validés par le Conseil régional"),
         _("%(n)s attendus d'ici la fin de l'année") % {"n": fmt_int(f["action_plans_validated_by_year_end"])}),
        (fmt_int(f["projects"]), _("projets"), ""),
        (fmt_euros(f["funding_requested"]), _("de financements demandés"), ""),
        (fmt_euros(f["funding_granted"]), _("de financements accordés"), ""),
    ]  # fmt: skip


def region_rows(scope: Scope, as_of: datetime.date) -> list[TerritoryRow]:
    territories = list(with_milestone_records(scope.territories).order_by("name", "code"))
    counts = dict(
        reported_projects(scope, as_of).order_by().values_list("territory_id").annotate(n=Count("pk", distinct=True))
    )
    rows = []
    for i, t in enumerate(territories):
        contracts, plans = list(t.contracts.all()), list(t.action_plans.all())
        rows.append(
            TerritoryRow(
                str(i + 1),
                t,
                governance_step(t, as_of),
                contract_step(Contract.Kind.PROTOCOL, contracts, as_of),
                contract_step(Contract.Kind.CONTRACT, contracts, as_of),
                plan_step(plans, as_of),
                fmt_int(counts.get(t.pk, 0)),
            )
        )
    return rows


def region_map(region: Region, rows: list[TerritoryRow]) -> SafeString:
    """The region's territories, numbered, over the region's departments; neighbours get different colours (each
    row's `colour` is set here, for the table's legend)."""
    codes = list(Department.objects.filter(region=region).values_list("code", flat=True))
    background = department_outlines(codes)
    through = Territory.epcis.through.objects.filter(territory__in=[r.territory.pk for r in rows])
    geometries: dict[int, list[Polygon]] = {}
    for territory_id, geometry in through.values_list("territory_id", "epci__geometry"):
        geometries.setdefault(territory_id, []).extend(polygons_of(geometry))
    polygons = [geometries.get(r.territory.pk, []) for r in rows]
    vertices = [{tuple(point) for polygon in shape for ring in polygon for point in ring} for shape in polygons]
    for row, colour in zip(rows, distinct_colours(vertices), strict=True):
        row.colour = colour
    shapes = [
        Shape(shape, fill=r.colour, stroke="#3A3A3A", label=r.number, title=r.territory.name)
        for r, shape in zip(rows, polygons, strict=True)
    ]
    fit = bounds_of(p for s in background for p in s.polygons) or bounds_of(p for s in shapes for p in s.polygons)
    title = _("Carte des territoires d'industrie de la région %(name)s") % {"name": region.name}
    return svg_map(shapes, title=title, background=background, fit_to=fit and widened(fit, 0.02), ratios=(0.5, 0.74))


def region_context(user, code: str, as_of: datetime.date) -> dict:
    """Everything the regional synthesis shows. Unknown region: LookupError."""
    scope = build_scope(user, region=code)
    region = Region.objects.get(pk=code)
    figures = programme_figures(scope, as_of)
    rows = region_rows(scope, as_of)
    phases = list(ProgrammePhase.objects.filter(territories__in=scope.territories).distinct().order_by("starts_on"))
    return {
        **report_meta(_("Synthèse régionale — %(name)s") % {"name": region.name}, as_of),
        **figures_context(figures, phases),
        "region": region,
        "headline": headline(figures),
        "rows": rows,
        "map": region_map(region, rows),
        "demo": scope.territories.filter(is_demo=True).exists(),
    }


# ---------------------------------------------------------------------------------------------- rendering


@functools.cache
def local_static_fetcher() -> type:
    """A WeasyPrint fetcher that serves the static files the templates link to (fonts) from Django's finders and
    refuses anything else, so rendering never touches the network nor reads arbitrary files. Built on first use:
    importing WeasyPrint takes most of a second, which no other command should pay."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalStaticFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path = static_path(url)
            if path is None:
                raise ValueError(f"Ressource non locale refusée : {url}")
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with open(path, "rb") as file:
                return URLFetcherResponse(url, file.read(), {"Content-Type": mime})

    return LocalStaticFetcher


def static_path(url: str) -> str | None:
    """The file behind a static URL (as `{% static %}` writes it, resolved against the file:/// base)."""
    parts = urlsplit(url)
    prefix = urlsplit(settings.STATIC_URL).path
    if parts.scheme != "file" or parts.netloc or not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix) :])
    if ".." in relative.split("/"):
        return None
    found = finders.find(relative)
    return found if isinstance(found, str) else None


@dataclass
class Pdf:
    content: bytes
    pages: int
    filename: str


def render_pdf(template: str, context: dict, filename: str, progress=None) -> Pdf:
    """HTML → laid-out pages → PDF bytes. `progress(message)` is told each step (the command prints it)."""
    from weasyprint import HTML

    progress = progress or (lambda message: None)
    html = render_to_string(template, context)
    progress(_("Mise en page…"))
    document = HTML(string=html, base_url="file:///", url_fetcher=local_static_fetcher()()).render()
    progress(_("Écriture du PDF…"))
    # Tagged PDF: headings, tables and reading order reach screen readers (RGAA).
    return Pdf(document.write_pdf(pdf_tags=True), len(document.pages), filename)


def territory_pdf(user, code: str, as_of: datetime.date, progress=None) -> Pdf:
    context = territory_context(user, code, as_of)
    filename = f"fiche-{context['territory'].code}-{as_of.isoformat()}.pdf"
    return render_pdf("stats/pdf/territory.html", context, filename, progress)


def region_pdf(user, code: str, as_of: datetime.date, progress=None) -> Pdf:
    context = region_context(user, code, as_of)
    filename = f"synthese-region-{context['region'].code}-{as_of.isoformat()}.pdf"
    return render_pdf("stats/pdf/region.html", context, filename, progress)


REPORTS = {"territory": territory_pdf, "region": region_pdf}
