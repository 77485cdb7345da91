"""Public pages of the projects: the faceted search and a project's page (thin: parse, query, render)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pilotage.core.pagination import page_numbers

from .models import FundingLine, Milestone
from .queries import (
    FacetValue,
    facet_counts,
    filter_projects,
    in_list_order,
    indicator_series,
    projects_visible_to,
    with_details,
    with_summary,
)

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200

# The facets of the search page, in the order shown, with the label of their "any value" option.
FACET_LABELS = {
    "region": (gettext_lazy("Région"), gettext_lazy("Toutes les régions")),
    "territory": (gettext_lazy("Territoire d'industrie"), gettext_lazy("Tous les territoires")),
    "theme": (gettext_lazy("Thème"), gettext_lazy("Tous les thèmes")),
    "status": (gettext_lazy("Statut"), gettext_lazy("Tous les statuts")),
    "phase": (gettext_lazy("Phase du programme"), gettext_lazy("Toutes les phases")),
}


@dataclass
class Facet:
    name: str
    label: str
    any_label: str
    selected: str
    options: list[FacetValue]

    @property
    def selected_label(self) -> str:
        return next((o.label for o in self.options if o.value == self.selected), self.selected)


def search_filters(query: QueryDict) -> dict[str, str]:
    """The facet values and the text searched, as typed; unknown values simply match nothing."""
    filters = {name: query.get(name, "").strip()[:MAX_QUERY_LENGTH] for name in FACET_LABELS}
    filters["q"] = query.get("q", "").strip()[:MAX_QUERY_LENGTH]
    return filters


def build_facets(visible, filters: dict[str, str]) -> list[Facet]:
    """Each facet counts the projects matching every other filter, so that its options show where a change leads.

    One GROUP BY query per facet, whatever the number of projects.
    """
    facets = []
    for name, (label, any_label) in FACET_LABELS.items():
        others = {**filters, name: ""}
        options = facet_counts(filter_projects(visible, **others), name)
        selected = filters[name]
        if selected and all(o.value != selected for o in options):
            options.append(FacetValue(selected, selected, 0))
        facets.append(Facet(name, str(label), str(any_label), selected, options))
    return facets


def without(query: QueryDict, name: str) -> str:
    """The current search without one filter (and back to page 1): the target of a filter tag's close button."""
    rest = query.copy()
    rest.pop(name, None)
    rest.pop("page", None)
    return f"?{rest.urlencode()}" if rest else "?"


def project_search(request: HttpRequest) -> HttpResponse:
    visible = projects_visible_to(request.user)
    filters = search_filters(request.GET)
    facets = build_facets(visible, filters)
    results = in_list_order(with_summary(filter_projects(visible, **filters), funding=False))
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    active = [(f, without(request.GET, f.name)) for f in facets if f.selected]
    return render(
        request,
        "projects/project_search.html",
        {
            "title": _("Projets"),
            "breadcrumb": [(_("Projets"), None)],
            "q": filters["q"],
            "facets": facets,
            "active_facets": active,
            "q_removal": without(request.GET, "q") if filters["q"] else "",
            "filtered": any(filters.values()),
            "page": page,
            "page_numbers": page_numbers(page),
        },
    )


@dataclass(frozen=True)
class FundingTotals:
    requested: Decimal | None
    granted: Decimal | None


def total(amounts: list[Decimal | None]) -> Decimal | None:
    known = [a for a in amounts if a is not None]
    return sum(known, Decimal(0)) if known else None


def funding_totals(lines: list[FundingLine]) -> FundingTotals:
    return FundingTotals(total([line.requested for line in lines]), total([line.granted for line in lines]))


@dataclass(frozen=True)
class MilestoneRow:
    milestone: Milestone
    state: str  # done, late, planned
    label: str
    late_by: int = 0  # days between the planned and the actual date, when both are known
    early_by: int = 0


def milestone_rows(milestones: list[Milestone], today: datetime.date) -> list[MilestoneRow]:
    rows = []
    for m in milestones:
        if m.actual_on:
            state, label = "done", _("Atteint")
        elif m.planned_on and m.planned_on < today:
            state, label = "late", _("En retard")
        else:
            state, label = "planned", _("À venir")
        delay = (m.actual_on - m.planned_on).days if m.actual_on and m.planned_on else 0
        rows.append(MilestoneRow(m, state, label, late_by=max(delay, 0), early_by=max(-delay, 0)))
    return rows


def project_detail(request: HttpRequest, id_projet: str) -> HttpResponse:
    # A project the user may not see is exactly as absent as an unknown one.
    project = with_details(projects_visible_to(request.user)).filter(id_projet=id_projet).first()
    if project is None:
        raise Http404(_("Projet introuvable."))
    lines = list(project.funding_lines.all())
    return render(
        request,
        "projects/project_detail.html",
        {
            "title": project.title,
            "breadcrumb": [(_("Projets"), reverse("projects:list")), (project.title, None)],
            "project": project,
            "themes": list(project.themes.all()),
            "funding_lines": lines,
            "funding_totals": funding_totals(lines),
            "indicators": indicator_series(project),
            "milestones": milestone_rows(list(project.milestones.all()), timezone.localdate()),
        },
    )
