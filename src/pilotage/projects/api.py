"""Read API of the projects: the filtered list and one project (thin: parse, query, serialise)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from pilotage.core.errors import ErrorOut
from pilotage.core.http import etag_of, matches_if_none_match, not_modified
from pilotage.core.pagination import PageParams, page_schema, paginate

from .models import Project, ProjectStatus
from .queries import filter_projects, in_list_order, projects_visible_to, with_details, with_summary
from .schemas import ProjectDetailOut, ProjectOut

router = Router(tags=["projets"])

ProjectPage = page_schema(ProjectOut, "ProjectPage")

FILTERS_DESCRIPTION = (
    "Liste paginée, les projets les plus récemment remontés d'abord. Filtres combinables : `territory`, `region`, "
    "`phase`, `theme`, `status`, `owner_siren`, `q`. Un code inconnu (territoire, région, phase, thème) donne une "
    "liste vide ; une valeur mal formée (`status` hors de la liste des codes, `owner_siren` qui n'a pas 9 chiffres) "
    "répond 400. Un visiteur ne voit que les projets publics."
)


class ProjectFilters(Schema):
    territory: str | None = Field(None, max_length=16, description="Code `id_ti` du territoire, ex. ti-4401.")
    region: str | None = Field(None, max_length=3, description="Code INSEE de la région, ex. 44 (Grand Est).")
    phase: str | None = Field(None, max_length=20, description="Code de la phase du programme, ex. 2018-2022.")
    theme: str | None = Field(None, max_length=40, description="Code du thème, ex. innover.")
    status: ProjectStatus | None = Field(None, description="Code du statut.")
    owner_siren: str | None = Field(
        None, pattern=r"^\s*[0-9]{3}\s?[0-9]{3}\s?[0-9]{3}\s*$", description="SIREN du porteur (9 chiffres)."
    )
    q: str | None = Field(
        None,
        max_length=200,
        description="Recherche plein texte dans le titre, la description et le nom du porteur, sans tenir compte "
        "des accents ni de la casse ; chaque mot doit figurer.",
    )


def visible_filtered(request: HttpRequest, filters: ProjectFilters):
    return filter_projects(
        projects_visible_to(request.user),
        territory=filters.territory,
        region=filters.region,
        phase=filters.phase,
        theme=filters.theme,
        status=filters.status,
        owner_siren=filters.owner_siren.strip() if filters.owner_siren else None,
        q=filters.q,
    )


@router.get(
    "/projects",
    response={200: ProjectPage, 400: ErrorOut},
    summary="Liste des projets",
    description=FILTERS_DESCRIPTION,
    url_name="project-list",
)
def list_projects(request: HttpRequest, filters: Query[ProjectFilters], pages: Query[PageParams]):
    return paginate(request, in_list_order(with_summary(visible_filtered(request, filters))), pages)


@router.get(
    "/projects/{id_projet}",
    response={200: ProjectDetailOut, 304: None, 404: ErrorOut},
    summary="Un projet",
    description=(
        "Le projet avec son plan de financement, ses indicateurs (cible et valeur mesurée par date) et ses jalons. "
        "Un projet non public répond 404 à qui ne peut pas le voir, comme un identifiant inconnu. L'en-tête `ETag` "
        "permet une requête conditionnelle (`If-None-Match` → 304)."
    ),
    url_name="project-detail",
)
def get_project(request: HttpRequest, id_projet: str, response: HttpResponse):
    project = with_details(projects_visible_to(request.user)).filter(id_projet=id_projet).first()
    if project is None:
        raise HttpError(404, _("Projet introuvable : %(id)s.") % {"id": id_projet})
    payload = ProjectDetailOut.from_orm(project)
    etag = etag_of(payload)
    if matches_if_none_match(request, etag):
        return not_modified(etag)
    response["ETag"] = etag
    return payload


def project_etag(project: Project) -> str:
    """The ETag `GET /projects/{id_projet}` gives `project` (for a write's `If-Match`): reload it with its details."""
    return etag_of(ProjectDetailOut.from_orm(with_details(Project.objects.filter(pk=project.pk)).get()))
