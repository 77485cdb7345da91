"""Public pages of the programme: the list of territories and a territory's page (thin: parse, query, render)."""

import datetime
from dataclasses import dataclass

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pilotage.core.pagination import page_numbers
from pilotage.geo.models import Commune, Epci, Region
from pilotage.projects.queries import projects_visible_to
from pilotage.stats.figures import Scope, territory_conditions

from .models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory
from .permissions import publicly_visible
from .queries import filter_territories, territories_visible_to

PAGE_SIZE = 50


@dataclass(frozen=True)
class MilestoneFilter:
    """A list filter such as `?gouvernance=installee`: the target of a programme figure's link.

    `figure` names the figure in `pilotage.stats.figures`, whose condition selects the territories it counts.
    """

    param: str
    value: str
    figure: str
    label: str

    @property
    def query(self) -> str:
        return f"{self.param}={self.value}"


MILESTONE_FILTERS = [
    MilestoneFilter("gouvernance", "installee", "governance_installed", gettext_lazy("Gouvernance installée")),
    MilestoneFilter("protocole", "signe", "protocols_signed", gettext_lazy("Protocole signé")),
    MilestoneFilter("contrat", "signe", "contracts_signed", gettext_lazy("Contrat signé")),
    MilestoneFilter(
        "plan", "valide", "action_plans_validated", gettext_lazy("Plan d'actions validé par le Conseil régional")
    ),
]


class TerritoryFilterForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("Région"), required=False)
    phase = forms.ChoiceField(label=gettext_lazy("Phase du programme"), required=False)
    q = forms.CharField(label=gettext_lazy("Rechercher un territoire"), required=False, max_length=200)

    def __init__(self, data, *, regions: QuerySet[Region], phases: QuerySet[ProgrammePhase]):
        super().__init__(data)
        self.fields["region"].choices = [("", _("Toutes les régions")), *((r.code, r.name) for r in regions)]
        self.fields["phase"].choices = [("", _("Toutes les phases")), *((p.code, p.name) for p in phases)]

    def value(self, name: str) -> str:
        """The cleaned value, or "" when absent or invalid (an unknown region is ignored, not an error page)."""
        self.is_valid()
        return (self.cleaned_data.get(name) or "").strip()


def epci_count() -> Coalesce:
    through = Territory.epcis.through
    counts = through.objects.filter(territory=OuterRef("pk")).order_by().values("territory").annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n")), 0)


def list_rows(qs: QuerySet[Territory]) -> QuerySet[Territory]:
    """What one row of the list needs, in a fixed number of queries whatever the number of rows."""
    phases = Prefetch("phases", queryset=ProgrammePhase.objects.order_by("starts_on"))
    qs = qs.select_related("region").prefetch_related(phases).annotate(epci_count=epci_count())
    return qs.order_by("name", "code")


def url_without(request: HttpRequest, param: str) -> str:
    """This page's URL without one filter (and back to the first page)."""
    query = request.GET.copy()
    for name in (param, "page"):
        query.pop(name, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def list_title(page) -> str:
    if page.number > 1:
        return _("Territoires, page %(number)s sur %(total)s") % {
            "number": page.number,
            "total": page.paginator.num_pages,
        }
    return _("Territoires")


def territory_list(request: HttpRequest) -> HttpResponse:
    regions = Region.objects.filter(territories__isnull=False).distinct().order_by("name")
    phases = ProgrammePhase.objects.order_by("starts_on")
    form = TerritoryFilterForm(request.GET, regions=regions, phases=phases)
    region, phase, q = form.value("region"), form.value("phase"), form.value("q")
    active = [f for f in MILESTONE_FILTERS if request.GET.get(f.param) == f.value]
    today = timezone.localdate()

    qs = filter_territories(territories_visible_to(request.user), region=region, phase=phase, q=q)
    if active:  # the same conditions as the figures linking here, so that the list has as many rows
        conditions = territory_conditions(Scope(qs, projects_visible_to(request.user), phase or None), today)
        for milestone in active:
            qs = qs.filter(conditions[milestone.figure])
    page = Paginator(list_rows(qs), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "programme/territory_list.html",
        {
            "title": list_title(page),
            "breadcrumb": [(_("Territoires"), None)],
            "form": form,
            "page": page,
            "page_numbers": page_numbers(page),
            "active_milestones": [(f, url_without(request, f.param)) for f in active],
            "today": today,
            "filtered": bool(region or phase or q or active),
        },
    )


@dataclass(frozen=True)
class MilestoneRow:
    label: str
    phase: ProgrammePhase | None
    date: datetime.date | None
    state: str
    reached: bool


def contract_row(kind: Contract.Kind, phase: ProgrammePhase, contract: Contract | None, today) -> MilestoneRow:
    date = contract.signed_on if contract else None
    reached = bool(date and date <= today)
    state = _("Signé") if reached else (_("Signature prévue") if date else _("Non signé"))
    return MilestoneRow(capfirst(kind.label), phase, date, state, reached)


def plan_row(phase: ProgrammePhase, plan: ActionPlan | None, today) -> MilestoneRow:
    label = _("Plan d'actions")
    if plan is None:
        return MilestoneRow(label, phase, None, _("Pas encore de plan d'actions"), False)
    label = _("Plan d'actions (version %(version)s)") % {"version": plan.version}
    validated = plan.status == ActionPlan.Status.VALIDATED and plan.decided_on and plan.decided_on <= today
    if validated:
        return MilestoneRow(label, phase, plan.decided_on, _("Validé par le Conseil régional"), True)
    if plan.status == ActionPlan.Status.RETURNED:
        return MilestoneRow(label, phase, plan.decided_on, _("Renvoyé pour modification"), False)
    if plan.expected_validation_on:
        state = _("%(status)s ; validation prévue") % {"status": plan.get_status_display().capitalize()}
        return MilestoneRow(label, phase, plan.expected_validation_on, state, False)
    return MilestoneRow(label, phase, plan.submitted_on, plan.get_status_display().capitalize(), False)


def milestone_rows(territory: Territory, phases: list[ProgrammePhase], today: datetime.date) -> list[MilestoneRow]:
    """Governance, then for each phase: protocol, contract, latest action plan (planned dates when not reached)."""
    installed = territory.governance_installed_on
    reached = bool(installed and installed <= today)
    rows = [
        MilestoneRow(
            _("Gouvernance installée"), None, installed, _("Installée") if reached else _("Non installée"), reached
        )
    ]
    contracts = {(c.phase_id, c.kind): c for c in territory.contracts.all()}
    plans: dict[int, ActionPlan] = {}
    for plan in territory.action_plans.order_by("-version"):
        plans.setdefault(plan.phase_id, plan)
    shown = {p.pk: p for p in phases}
    missing = {*(k[0] for k in contracts), *plans} - set(shown)
    if missing:  # rare: a contract or plan of a phase the territory is no longer in
        shown |= {p.pk: p for p in ProgrammePhase.objects.filter(pk__in=missing)}
    for phase in sorted(shown.values(), key=lambda p: p.starts_on):
        for kind in (Contract.Kind.PROTOCOL, Contract.Kind.CONTRACT):
            rows.append(contract_row(kind, phase, contracts.get((phase.pk, kind)), today))
        rows.append(plan_row(phase, plans.get(phase.pk), today))
    return rows


def governance_by_role(territory: Territory, today: datetime.date) -> list[tuple[str, list[GovernanceMember]]]:
    """Current members grouped by role. Contact details are personal data: they are not even loaded."""
    members = (
        territory.governance_members.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .only("role", "full_name", "position", "organisation", "territory_id")
        .order_by("full_name")
    )
    by_role: dict[str, list[GovernanceMember]] = {}
    for member in members:
        by_role.setdefault(member.role, []).append(member)
    return [(label, by_role[code]) for code, label in GovernanceMember.Role.choices if code in by_role]


def perimeter_geojson(epcis: list[Epci]) -> dict:
    features = [
        {"type": "Feature", "geometry": e.geometry, "properties": {"name": e.name, "siren": e.siren}}
        for e in epcis
        if e.geometry
    ]
    return {"type": "FeatureCollection", "features": features}


def territory_detail(request: HttpRequest, code: str) -> HttpResponse:
    territories = territories_visible_to(request.user).select_related("region")
    territory = get_object_or_404(territories, code=code)
    today = timezone.localdate()
    phases = list(territory.phases.order_by("starts_on"))
    epcis = list(territory.epcis.order_by("name"))
    epci_names = {e.siren: e.name for e in epcis}
    communes = [
        {**c, "epci_name": epci_names.get(c["epci_id"], "")}
        for c in Commune.objects.filter(epci__in=list(epci_names))
        .order_by("name")
        .values("insee", "name", "population", "epci_id")
    ]
    return render(
        request,
        "programme/territory_detail.html",
        {
            "title": territory.name,
            "breadcrumb": [(_("Territoires"), reverse("programme:list")), (territory.name, None)],
            "territory": territory,
            "phases": phases,
            "epcis": epcis,
            "communes": communes,
            "governance": governance_by_role(territory, today),
            "milestones": milestone_rows(territory, phases, today),
            "perimeter": perimeter_geojson(epcis),
            "mapped_epcis": sum(1 for e in epcis if e.geometry),
            # Past public meetings, minutes included; participants are not published.
            "meetings": list(territory.meetings.filter(publicly_visible()).defer("participants").order_by("-held_on")),
            "today": today,
        },
    )
