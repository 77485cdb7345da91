"""Read side of projects: what a user may see, and the list filters shared by pages, API and exports."""

from django.db.models import QuerySet

from pilotage.accounts.scopes import project_edition, project_visibility
from pilotage.core.text import search_terms

from .models import Project


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
    if territory:
        qs = qs.filter(territory__code=territory)
    if region:
        qs = qs.filter(territory__region_id=region)
    if phase:
        qs = qs.filter(phase__code=phase)
    if theme:
        qs = qs.filter(themes__code=theme).distinct()
    if status:
        qs = qs.filter(status=status)
    if owner_siren:
        qs = qs.filter(owner__siren=owner_siren.replace(" ", ""))
    for term in search_terms(q):
        qs = qs.filter(search_text__contains=term)
    return qs
