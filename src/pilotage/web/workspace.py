"""The workspace ("Mon espace"): what the signed-in user can act on, one block per role they hold.

Other screens of the back office (governance, contracts, projects, funding decisions) are built elsewhere; until they
exist, the blocks lead to the public pages of what each role may see.
"""

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from pilotage.accounts.models import Role
from pilotage.accounts.scopes import is_national, roles_of
from pilotage.programme.models import ActionPlan, ProgrammePhase, Territory
from pilotage.programme.plan_views import submitted_plans
from pilotage.projects.models import Project

K = Role.Kind
# Enough to find one's way; beyond, the block links to the full list.
SHORT_LIST = 10


@dataclass
class TerritoryRow:
    territory: Territory
    plans: list[tuple[ProgrammePhase, ActionPlan | None]]  # the current version per phase, the latest phase first

    def cells(self, columns: list[ProgrammePhase]) -> list[tuple[bool, ActionPlan | None]]:
        """For each column's phase: whether the territory takes part in it, and its current plan there."""
        mine = {phase.pk: plan for phase, plan in self.plans}
        return [(phase.pk in mine, mine.get(phase.pk)) for phase in columns]


@dataclass
class Block:
    kind: str
    role: Role | None = None
    territories: list[TerritoryRow] = field(default_factory=list)
    phases: list[ProgrammePhase] = field(default_factory=list)  # the columns of the territories' table
    rows: list[tuple[TerritoryRow, list]] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    project_count: int = 0
    queue: list[ActionPlan] = field(default_factory=list)
    queue_count: int = 0


def territory_rows(territories: QuerySet[Territory]) -> list[TerritoryRow]:
    """Each territory with the current version of its plan per phase: three queries whatever their number."""
    territories = list(territories.select_related("region").prefetch_related("phases").order_by("name"))
    plans = ActionPlan.objects.filter(territory__in=territories).select_related("phase").order_by("-version")
    current: dict[tuple[int, int], ActionPlan] = {}
    phases: dict[int, dict[int, ProgrammePhase]] = {t.pk: {p.pk: p for p in t.phases.all()} for t in territories}
    for plan in plans:
        current.setdefault((plan.territory_id, plan.phase_id), plan)
        phases[plan.territory_id].setdefault(plan.phase_id, plan.phase)
    return [
        TerritoryRow(
            t,
            [(p, current.get((t.pk, p.pk))) for p in sorted(phases[t.pk].values(), key=lambda p: p.starts_on)][::-1],
        )
        for t in territories
    ]


def region_block(kind: str, role: Role, **extra) -> Block:
    """A region's territories as a table: one column per phase, latest first."""
    territories = territory_rows(Territory.objects.filter(region_id=role.region_id))
    phases = {phase.pk: phase for row in territories for phase, _ in row.plans}
    columns = sorted(phases.values(), key=lambda p: p.starts_on, reverse=True)
    rows = [(row, row.cells(columns)) for row in territories]
    return Block(kind, role, territories=territories, phases=columns, rows=rows, **extra)


def queue_block(kind: str, user, role: Role | None = None, **extra) -> Block:
    queue = submitted_plans(user)
    return Block(kind, role, queue=list(queue[:SHORT_LIST]), queue_count=queue.count(), **extra)


def role_block(user, role: Role) -> Block:
    if role.kind == K.TERRITORY_TEAM:
        return Block(role.kind, role, territories=territory_rows(Territory.objects.filter(pk=role.territory_id)))
    if role.kind == K.REGIONAL_PILOT:
        queue = submitted_plans(user).filter(territory__region_id=role.region_id)
        return region_block(role.kind, role, queue_count=queue.count())
    if role.kind == K.STATE_SERVICES:
        return region_block(role.kind, role)
    if role.kind == K.FUNDER:
        projects = Project.objects.filter(funding_lines__funder_id=role.organisation_id).distinct()
        recent_first = (F("reported_on").desc(nulls_last=True), "title")
        listed = list(projects.select_related("territory").order_by(*recent_first)[:SHORT_LIST])
        return Block(role.kind, role, projects=listed, project_count=projects.count())
    if role.kind == K.PROJECT_OWNER:
        projects = Project.objects.filter(pk=role.project_id).select_related("territory")
        return Block(role.kind, role, projects=list(projects), project_count=1)
    return Block(role.kind, role)


def workspace_blocks(user) -> list[Block]:
    roles = sorted(roles_of(user), key=lambda r: (list(K.values).index(r.kind), str(r)))
    blocks = [role_block(user, role) for role in roles if role.kind != K.NATIONAL]
    if is_national(user):  # one national block, also for a super-user without a role
        blocks.insert(0, queue_block(K.NATIONAL, user))
    return blocks


@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    blocks = workspace_blocks(request.user)
    context = {"title": _("Mon espace"), "breadcrumb": [(_("Mon espace"), None)], "blocks": blocks}
    return render(request, "web/workspace.html", context)
