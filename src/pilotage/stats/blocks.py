"""What a dashboard shows, ready for its template: the filters carried into every link, the headline tiles, and
each chart (dsfr-chart web component) with its data as an accessible table whose every number links to the list of
the records it counts. The numbers come from `figures.py` and `dashboards.py`; nothing is counted here.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from pilotage.geo.models import Department, Region
from pilotage.programme.models import ProgrammePhase, Theme
from pilotage.projects.models import ProjectStatus

from .dashboards import (
    DSFR_CHART_REGIONS,
    progress,
    projects_by_department,
    projects_by_region,
    territories_by_region,
)
from .figures import Scope, today

NO_DEPARTMENT = "aucun"  # `?departement=aucun`: the projects without a commune
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------------------------------------------------------
# Filters shared by a dashboard, its links and the record lists


@functools.cache
def records_path() -> str:
    """Reversed once: a dashboard links a few hundred numbers to their lists."""
    return reverse("stats:records")


@dataclass(frozen=True)
class Filters:
    as_of: datetime.date
    phase: str = ""
    region: str = ""
    territory: str = ""

    def params(self, **extra) -> dict[str, str]:
        values = {"as_of": self.as_of.isoformat(), "phase": self.phase, "region": self.region}
        values |= {"territory": self.territory, **extra}
        return {name: str(value) for name, value in values.items() if value not in ("", None)}

    def list_url(self, figure: str, key: str | None = None, **extra) -> str:
        return f"{records_path()}?{urlencode(self.params(figure=figure, key=key, **extra))}"

    def dashboard_query(self) -> str:
        return urlencode({k: v for k, v in self.params().items() if k in ("as_of", "phase")})


@dataclass
class FilterForm:
    """The date picker and phase selector, as typed, with their French error messages."""

    as_of: str
    phase: str
    phases: list[ProgrammePhase]
    errors: dict[str, str] = field(default_factory=dict)


def read_filters(request: HttpRequest, phases: list[ProgrammePhase], **fixed: str) -> tuple[Filters, FilterForm]:
    raw_date = request.GET.get("as_of", "").strip()
    raw_phase = request.GET.get("phase", "").strip()
    form = FilterForm(raw_date, raw_phase, phases)
    as_of = today()
    if raw_date:
        try:
            if not ISO_DATE.fullmatch(raw_date):  # fromisoformat would also take 20190101 or 2019-W01-1
                raise ValueError(raw_date)
            as_of = datetime.date.fromisoformat(raw_date)
        except ValueError:
            form.errors["as_of"] = _(
                "La date « %(value)s » n'est pas valide : saisissez une date au format AAAA-MM-JJ "
                "(par exemple %(example)s). Les chiffres affichés sont ceux du jour."
            ) % {"value": raw_date[:40], "example": today().isoformat()}
    phase = raw_phase
    if raw_phase and raw_phase not in {p.code for p in phases}:
        form.errors["phase"] = _("La phase « %(value)s » n'existe pas : toutes les phases sont affichées.") % {
            "value": raw_phase[:40]
        }
        phase = ""
    form.as_of = as_of.isoformat()  # what is shown; a date the browser cannot read would leave the field empty
    form.phase = phase
    return Filters(as_of=as_of, phase=phase, **fixed), form


# ---------------------------------------------------------------------------------------------------------------
# What a dashboard shows


@dataclass(frozen=True)
class Tile:
    figure: str
    value: str
    label: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell: the first of a row names it, the others are numbers linked to the records they count."""

    text: str
    url: str = ""


@dataclass(frozen=True)
class Graphic:
    """A dsfr-chart web component: its tag and attributes (JSON text, as the components read them)."""

    tag: str
    label: str
    attrs: dict[str, str]


@dataclass
class DataBlock:
    """A chart (or map) and its data as an accessible table, every number linked to the records it counts."""

    id: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    graphics: list[Graphic] = field(default_factory=list)
    note: str = ""


def count_text(n: int) -> str:
    return number_format(n, force_grouping=True)


def euros(amount: float) -> str:
    return f"{number_format(round(amount), 0, force_grouping=True)} €"


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def headline_tiles(figures: dict, filters: Filters, *, with_territories: bool) -> list[Tile]:
    url = filters.list_url
    total = figures["territories"]
    tiles = [
        Tile("territories", count_text(total), _("territoires d'industrie"), url("territories")),
        Tile(
            "governance_installed",
            f"{number_format(figures['governance_installed_pct'], 1)} %",
            _("ont installé leur gouvernance"),
            url("governance_installed"),
            _("%(n)s territoires sur %(total)s") % {"n": figures["governance_installed"], "total": total},
        ),
        Tile(
            "protocols_signed", count_text(figures["protocols_signed"]), _("protocoles signés"), url("protocols_signed")
        ),
        Tile(
            "contracts_signed", count_text(figures["contracts_signed"]), _("contrats signés"), url("contracts_signed")
        ),
        Tile(
            "action_plans_validated",
            count_text(figures["action_plans_validated"]),
            _("plans d'actions validés par le Conseil régional"),
            url("action_plans_validated"),
        ),
        Tile(
            "action_plans_validated_by_year_end",
            count_text(figures["action_plans_validated_by_year_end"]),
            _("plans validés ou attendus d'ici le 31 décembre %(year)s") % {"year": filters.as_of.year},
            url("action_plans_validated_by_year_end"),
        ),
        Tile("projects", count_text(figures["projects"]), _("projets remontés"), url("projects")),
        Tile(
            "funding_requested",
            euros(figures["funding_requested"]),
            _("de financements demandés"),
            url("funding_requested"),
        ),
        Tile(
            "funding_granted",
            euros(figures["funding_granted"]),
            _("de financements accordés"),
            url("funding_granted"),
            _("soit %(pct)s %% des montants demandés")
            % {"pct": number_format(pct(figures["funding_granted"], figures["funding_requested"]), 1)},
        ),
    ]
    return tiles if with_territories else tiles[1:]


def pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def theme_block(figures: dict, filters: Filters, themes: list[Theme]) -> DataBlock:
    labels = {t.code: t.label for t in themes}
    counts = figures["projects_by_theme"]
    codes = [code for code in labels if code in counts]
    names = [labels[code] for code in codes]
    rows = [
        [Cell(labels[code]), Cell(count_text(counts[code]), filters.list_url("projects_by_theme", code))]
        for code in codes
    ]
    chart = Graphic(
        "bar-chart",
        _("Projets par thème"),
        {
            "x": as_json([names]),
            "y": as_json([[counts[c] for c in codes]]),
            "name": as_json([_("Projets")]),
            "horizontal": "true",
            "selected-palette": "default",
        },
    )
    note = _("Un projet rattaché à deux thèmes est compté sous chacun d'eux.")
    return DataBlock("themes", _("Projets par thème"), [_("Thème"), _("Projets")], rows, [chart], note)


def status_block(figures: dict, filters: Filters) -> DataBlock:
    counts = figures["projects_by_status"]
    labels = [str(label) for label in ProjectStatus.labels]
    rows = [
        [Cell(str(label)), Cell(count_text(counts[code]), filters.list_url("projects_by_status", code))]
        for code, label in ProjectStatus.choices
    ]
    chart = Graphic(
        "bar-chart",
        _("Projets par statut"),
        {
            "x": as_json([labels]),
            "y": as_json([[counts[c] for c in ProjectStatus.values]]),
            "name": as_json([_("Projets")]),
            "selected-palette": "default",
        },
    )
    note = _("Le statut de chaque projet est celui qu'il avait à la date choisie.")
    return DataBlock("statuses", _("Projets par statut"), [_("Statut"), _("Projets")], rows, [chart], note)


CHARTED_FUNDERS = 10


def funder_block(figures: dict, filters: Filters) -> DataBlock:
    by_funder = sorted(figures["funding_by_funder"].items(), key=lambda item: (-item[1]["requested"], item[0]))
    rows = [
        [
            Cell(name),
            Cell(euros(amounts["requested"]), filters.list_url("funding_by_funder", name)),
            Cell(euros(amounts["granted"]), filters.list_url("funding_by_funder", name)),
        ]
        for name, amounts in by_funder
    ]
    rows.append(
        [
            Cell(_("Total")),
            Cell(euros(figures["funding_requested"]), filters.list_url("funding_requested")),
            Cell(euros(figures["funding_granted"]), filters.list_url("funding_granted")),
        ]
    )
    charted = by_funder[:CHARTED_FUNDERS]
    names = [name for name, _amounts in charted]
    chart = Graphic(
        "bar-chart",
        _("Financements demandés et accordés par financeur"),
        {
            "x": as_json([names, names]),
            "y": as_json([[a["requested"] for _n, a in charted], [a["granted"] for _n, a in charted]]),
            "name": as_json([_("Demandé"), _("Accordé")]),
            "horizontal": "true",
            "unit-tooltip": "€",
            # Flatter with few funders, so that two or three bars do not fill the screen.
            "aspect-ratio": str(round(min(5.0, max(2.0, 20 / max(len(charted), 1))), 1)),
        },
    )
    note = ""
    if len(by_funder) > CHARTED_FUNDERS:
        note = _(
            "Le graphique montre les %(n)s financeurs aux montants demandés les plus élevés ; "
            "le tableau les montre tous."
        ) % {"n": CHARTED_FUNDERS}
    columns = [_("Financeur"), _("Demandé"), _("Accordé")]
    return DataBlock("funders", _("Financements par financeur"), columns, rows, [chart] if charted else [], note)


def month_label(day: datetime.date) -> str:
    return f"{day.month:02d}/{day.year}"


def progress_block(scope: Scope, filters: Filters, start: datetime.date) -> DataBlock:
    points = progress(scope, filters.as_of, start)
    rows = []
    for point in reversed(points):  # the most recent month first in the table
        at = replace(filters, as_of=point.on)
        rows.append(
            [
                Cell(date_format(point.on, "j F Y")),
                Cell(count_text(point.governance_installed), at.list_url("governance_installed")),
                Cell(count_text(point.action_plans_validated), at.list_url("action_plans_validated")),
                Cell(count_text(point.projects), at.list_url("projects")),
            ]
        )
    months = [month_label(p.on) for p in points]
    graphics = []
    if points:
        graphics = [
            Graphic(
                "line-chart",
                _("Territoires ayant installé leur gouvernance et dont le plan d'actions est validé, fin de mois"),
                {
                    "x": as_json([months, months]),
                    "y": as_json(
                        [[p.governance_installed for p in points], [p.action_plans_validated for p in points]]
                    ),
                    "name": as_json([_("Gouvernance installée"), _("Plan d'actions validé")]),
                    "aspect-ratio": "3",
                },
            ),
            Graphic(
                "line-chart",
                _("Projets remontés, fin de mois"),
                {
                    "x": as_json([months]),
                    "y": as_json([[p.projects for p in points]]),
                    "name": as_json([_("Projets remontés")]),
                    "aspect-ratio": "3",
                },
            ),
        ]
    columns = [_("Fin du mois"), _("Gouvernance installée"), _("Plans d'actions validés"), _("Projets remontés")]
    note = _(
        "Chaque point compte les territoires et les projets au dernier jour du mois "
        "(à la date choisie pour le dernier)."
    )
    return DataBlock("progress", _("Progression mois par mois"), columns, rows, graphics, note)


def region_map_block(scope: Scope, filters: Filters, figures: dict) -> DataBlock:
    territories = territories_by_region(scope)
    projects = projects_by_region(scope, filters.as_of)
    regions = Region.objects.filter(pk__in={*DSFR_CHART_REGIONS, *territories, *projects}).order_by("name")
    rows = []
    for region in regions:
        dashboard = f"{reverse('stats:region', args=[region.code])}?{filters.dashboard_query()}"
        at_region = replace(filters, region=region.code)
        rows.append(
            [
                Cell(region.name, dashboard),
                Cell(count_text(territories.get(region.code, 0)), at_region.list_url("territories")),
                Cell(count_text(projects.get(region.code, 0)), at_region.list_url("projects")),
            ]
        )
    data = {chart_code: projects.get(code, 0) for code, chart_code in DSFR_CHART_REGIONS.items()}
    chart = Graphic(
        "map-chart",
        _("Carte des projets remontés par région"),
        {
            "level": "reg",
            "data": as_json(data),
            "value": count_text(figures["projects"]),
            "name": _("Projets remontés"),
            "date": date_format(filters.as_of, "SHORT_DATE_FORMAT"),
            "selected-palette": "sequentialAscending",
        },
    )
    columns = [_("Région"), _("Territoires"), _("Projets remontés")]
    note = _(
        "La carte colore chaque région selon le nombre de projets remontés ; "
        "le nom d'une région mène à son tableau de bord."
    )
    return DataBlock("regions", _("Projets remontés par région"), columns, rows, [chart], note)


@dataclass
class DepartmentMap:
    block: DataBlock
    values: dict[str, dict]  # department code -> {name, value, url}, for the Leaflet choropleth


def department_map_block(scope: Scope, filters: Filters, region: Region) -> DepartmentMap:
    counts = projects_by_department(scope, filters.as_of)
    departments = list(
        Department.objects.filter(Q(region=region) | Q(pk__in=[c for c in counts if c])).order_by("code")
    )
    rows, values = [], {}
    for department in departments:
        n = counts.get(department.code, 0)
        url = filters.list_url("projects", departement=department.code)
        rows.append([Cell(f"{department.name} ({department.code})"), Cell(count_text(n), url)])
        values[department.code] = {"name": department.name, "value": n, "url": url}
    if counts.get(None):
        url = filters.list_url("projects", departement=NO_DEPARTMENT)
        rows.append([Cell(_("Commune non renseignée")), Cell(count_text(counts[None]), url)])
    note = _("Un projet est compté dans le département de sa commune.")
    block = DataBlock(
        "departments", _("Projets remontés par département"), [_("Département"), _("Projets remontés")], rows, [], note
    )
    return DepartmentMap(block, values)
