import datetime

from django.http import Http404
from ninja import Query, Router, Schema

from pilotage.core.errors import ErrorOut
from pilotage.core.params import IsoDate

from .figures import build_scope, programme_figures

router = Router(tags=["chiffres du programme"])


class StatsFilters(Schema):
    region: str | None = None
    territory: str | None = None
    phase: str | None = None
    as_of: IsoDate | None = None


class FunderAmounts(Schema):
    requested: float
    granted: float


class StatsOut(Schema):
    as_of: datetime.date
    territories: int
    governance_installed: int
    governance_installed_pct: float
    protocols_signed: int
    contracts_signed: int
    action_plans_validated: int
    action_plans_validated_by_year_end: int
    projects: int
    projects_by_theme: dict[str, int]
    projects_by_status: dict[str, int]
    funding_requested: float
    funding_granted: float
    funding_by_funder: dict[str, FunderAmounts]


@router.get("/stats", response={200: StatsOut, 404: ErrorOut}, summary="Chiffres du programme à une date")
def stats(request, filters: Query[StatsFilters]):
    """Programme figures over the territories of the filter, as of `as_of` (YYYY-MM-DD, default today)."""
    try:
        scope = build_scope(request.user, region=filters.region, territory=filters.territory, phase=filters.phase)
    except LookupError as exc:
        raise Http404(str(exc)) from exc
    return programme_figures(scope, filters.as_of)
