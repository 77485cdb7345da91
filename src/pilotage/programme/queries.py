"""Read side of the programme: what a user may see, and the list filters shared by pages, API and exports."""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from pilotage.core.text import search_terms

from .models import ActionPlan, Contract, Territory


def territories_visible_to(user) -> QuerySet[Territory]:
    """Territories are public records: everybody sees all of them."""
    return Territory.objects.all()


def filter_territories(
    qs: QuerySet[Territory], *, region: str | None = None, phase: str | None = None, q: str | None = None
) -> QuerySet[Territory]:
    if region:
        qs = qs.filter(region_id=region)
    if phase:
        qs = qs.filter(phases__code=phase)
    for term in search_terms(q):
        qs = qs.filter(search_text__contains=term)
    return qs.distinct() if phase else qs


# Programme milestones a territory may have reached by a date, as the list pages filter them. Each matches the
# definition of the figure of the same name in `pilotage.stats.figures`, so that a figure links to exactly the
# territories it counts.
MILESTONES = ("governance", "protocol", "contract", "action_plan")


def milestone_condition(milestone: str, as_of: datetime.date, phase: str | None = None) -> Q | Exists:
    """A condition on Territory: the milestone was reached on or before `as_of` (in `phase` when given)."""
    if milestone == "governance":
        return Q(governance_installed_on__lte=as_of)
    if milestone in ("protocol", "contract"):
        kind = Contract.Kind.PROTOCOL if milestone == "protocol" else Contract.Kind.CONTRACT
        related = Contract.objects.filter(territory=OuterRef("pk"), kind=kind, signed_on__lte=as_of)
    elif milestone == "action_plan":
        related = ActionPlan.objects.filter(
            territory=OuterRef("pk"), status=ActionPlan.Status.VALIDATED, decided_on__lte=as_of
        )
    else:
        raise ValueError(f"unknown milestone: {milestone}")
    if phase:
        related = related.filter(phase__code=phase)
    return Exists(related)


def filter_territories_by_milestones(
    qs: QuerySet[Territory], milestones: list[str], as_of: datetime.date, phase: str | None = None
) -> QuerySet[Territory]:
    for milestone in milestones:
        qs = qs.filter(milestone_condition(milestone, as_of, phase))
    return qs
