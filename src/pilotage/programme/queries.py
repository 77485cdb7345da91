"""Read side of the programme: what a user may see, and the list filters shared by pages, API and exports."""

from django.db.models import QuerySet

from pilotage.core.text import search_terms

from .models import Territory


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
