"""Read side of projects: what a user may see, and the list filters shared by pages, API and exports."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, Min, OuterRef, Prefetch, QuerySet

from pilotage.accounts.scopes import project_edition, project_visibility
from pilotage.core.text import search_terms
from pilotage.programme.models import Theme

from .models import FundingLine, Indicator, IndicatorValue, Milestone, Project, ProjectStatus


def projects_visible_to(user) -> QuerySet[Project]:
    """Visitors see public projects; each role adds its scope (pilotage.accounts.scopes)."""
    constraint = project_visibility(user)
    return Project.objects.all() if constraint is None else Project.objects.filter(constraint)


def projects_editable_by(user) -> QuerySet[Project]:
    return Project.objects.filter(project_edition(user))


def filter_projects(
    qs: QuerySet[Project],
    *,
    territory: str | None = None,
    region: str | None = None,
    theme: str | None = None,
    status: str | None = None,
    owner_siren: str | None = None,
    phase: str | None = None,
    q: str | None = None,
) -> QuerySet[Project]:
    """Every filter narrows; an unknown value matches nothing. `q` matches projects holding every word of it,
    accents and case ignored (`search_text` is folded the same way), on any database engine."""
    if territory:
        qs = qs.filter(territory__code=territory)
    if region:
        qs = qs.filter(territory__region_id=region)
    if phase:
        qs = qs.filter(phase__code=phase)
    if theme:
        # EXISTS rather than a join: one row per project, so no DISTINCT under pagination and facet counts.
        tagged = Project.themes.through.objects.filter(project=OuterRef("pk"), theme__code=theme)
        qs = qs.filter(Exists(tagged))
    if status:
        qs = qs.filter(status=status)
    if owner_siren:
        qs = qs.filter(owner__siren=owner_siren.replace(" ", ""))
    for term in search_terms(q):
        qs = qs.filter(search_text__contains=term)
    return qs


def in_list_order(qs: QuerySet[Project]) -> QuerySet[Project]:
    """Most recently reported first, the same on every engine (NULL dates last), then by id for a stable order."""
    return qs.order_by(F("reported_on").desc(nulls_last=True), "id_projet")


def with_summary(qs: QuerySet[Project], funding: bool = True) -> QuerySet[Project]:
    """What a list row needs (themes, owner, funding plan) in a fixed number of queries whatever its length."""
    qs = qs.select_related("territory", "phase", "owner", "commune").prefetch_related(
        Prefetch("themes", queryset=Theme.objects.order_by("position", "code"))
    )
    if funding:
        qs = qs.prefetch_related(Prefetch("funding_lines", queryset=FundingLine.objects.select_related("funder")))
    return qs


def with_details(qs: QuerySet[Project]) -> QuerySet[Project]:
    """The summary plus indicators and milestones: what a project's page and API answer show."""
    return (
        with_summary(qs)
        .select_related("territory__region")
        .prefetch_related(
            Prefetch(
                "indicator_values",
                queryset=IndicatorValue.objects.select_related("indicator").order_by("indicator__code", "on", "pk"),
            ),
            Prefetch("milestones", queryset=Milestone.objects.order_by(F("planned_on").asc(nulls_last=True), "pk")),
        )
    )


@dataclass
class IndicatorSeries:
    indicator: Indicator
    values: list[IndicatorValue]


def indicator_series(project: Project) -> list[IndicatorSeries]:
    """A project's indicator values grouped by indicator, by date (from the prefetch of `with_details`)."""
    series: dict[int, IndicatorSeries] = {}
    for value in project.indicator_values.all():
        series.setdefault(value.indicator_id, IndicatorSeries(value.indicator, [])).values.append(value)
    return list(series.values())


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


FACETS = ("region", "territory", "theme", "status", "phase")


def facet_counts(qs: QuerySet[Project], facet: str) -> list[FacetValue]:
    """How many projects of `qs` fall under each value of a facet: one GROUP BY query."""
    qs = qs.order_by()  # the default ordering would join the GROUP BY
    if facet == "status":
        labels = dict(ProjectStatus.choices)
        counts = {row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("pk"))}
        return [FacetValue(code, str(labels[code]), counts[code]) for code in ProjectStatus.values if code in counts]
    key, label = {
        "region": ("territory__region_id", "territory__region__name"),
        "territory": ("territory__code", "territory__name"),
        "theme": ("themes__code", "themes__label"),
        "phase": ("phase__code", "phase__name"),
    }[facet]
    order = ORDER_OF.get(facet, (label,))
    rows = (
        qs.values(key)
        .annotate(label=Min(label), n=Count("pk", distinct=True), **{f"o{i}": Min(f) for i, f in enumerate(order)})
        .order_by(*(f"o{i}" for i in range(len(order))), "label")
    )
    return [FacetValue(row[key], row["label"], row["n"]) for row in rows if row[key] is not None]


# Facets listed in the programme's order rather than alphabetically.
ORDER_OF = {"theme": ("themes__phase__starts_on", "themes__position"), "phase": ("phase__starts_on",)}
