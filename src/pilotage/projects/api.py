"""API of the projects: the filtered list, one project (now or as of a past moment), and the authenticated writes
(thin: parse, call the use case of `services.py` / `workflow.py`, render; the rules live there)."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from pilotage.accounts.scopes import project_scope
from pilotage.core.errors import ErrorOut, error_body
from pilotage.core.history import Source
from pilotage.core.http import etag_of, matches_if_none_match, not_modified
from pilotage.core.pagination import PageParams, page_schema
from pilotage.core.params import AS_OF_PATTERN

from . import services, workflow
from .history import last_change_at, project_as_of
from .listing import json_response, page_of_projects
from .models import FundingLine, Project, ProjectStatus
from .queries import filter_projects, in_list_order, projects_visible_to, with_details
from .schemas import (
    FundingDecisionIn,
    FundingLineIn,
    FundingLineOut,
    FundingLinePatchIn,
    IndicatorValueIn,
    IndicatorValueOut,
    ProjectAsOfOut,
    ProjectCreateIn,
    ProjectDetailOut,
    ProjectOut,
    ProjectPatchIn,
    StatusIn,
    amount,
)
from .services import ConflictError

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
    return json_response(page_of_projects(request, in_list_order(visible_filtered(request, filters)), pages))


@router.get(
    "/projects/{id_projet}",
    # With `as_of`, the project as it stood then (`ProjectAsOfOut`: no version, `as_of` added).
    response={200: ProjectDetailOut | ProjectAsOfOut, 304: None, 400: ErrorOut, 404: ErrorOut},
    summary="Un projet",
    description=(
        "Le projet avec son plan de financement, ses indicateurs (cible et valeur mesurée par date) et ses jalons. "
        "Un projet non public répond 404 à qui ne peut pas le voir, comme un identifiant inconnu. L'en-tête `ETag` "
        "permet une requête conditionnelle (`If-None-Match` → 304) et une écriture sans conflit (`If-Match`).\n\n"
        "`as_of` (`AAAA-MM-JJ`, fin de journée, ou `AAAA-MM-JJTHH:MM`, heure de Paris) donne le projet tel qu'il "
        "était à ce moment, d'après son historique : mêmes champs, `updated_at` étant la date de la dernière "
        "modification connue à ce moment. 404 si le projet n'existait pas encore (un projet saisi plus tard mais "
        "remonté au programme avant ce moment est montré tel que saisi la première fois)."
    ),
    url_name="project-detail",
)
def get_project(
    request: HttpRequest,
    id_projet: str,
    response: HttpResponse,
    as_of: str | None = Query(
        None, pattern=AS_OF_PATTERN, description="`AAAA-MM-JJ` (fin de journée) ou `AAAA-MM-JJTHH:MM`, heure de Paris."
    ),
):
    project = with_details(projects_visible_to(request.user)).filter(id_projet=id_projet).first()
    if project is None:
        raise HttpError(404, _("Projet introuvable : %(id)s.") % {"id": id_projet})
    if as_of:
        return project_as_of_response(request, project, parse_as_of(as_of))
    payload = ProjectDetailOut.from_orm(project)
    etag = versioned_etag(payload)
    if matches_if_none_match(request, etag):
        return not_modified(etag)
    response["ETag"] = etag
    # Rendered here: django-ninja would validate the payload again against the union of the two answers' schemas.
    from pilotage.api import api  # the API imports this module

    return api.create_response(request, payload.model_dump(), temporal_response=response)


def versioned_etag(payload: ProjectDetailOut) -> str:
    """The answer's digest, prefixed with the project's version: an `If-Match` that is stale tells which version its
    sender read, so that the conflict can say what changed since."""
    return f'"{payload.version}-{etag_of(payload).strip(chr(34))}"'


def project_etag(project: Project) -> str:
    """The ETag `GET /projects/{id_projet}` gives `project` (for a write's `If-Match`): reload it with its details."""
    return versioned_etag(ProjectDetailOut.from_orm(with_details(Project.objects.filter(pk=project.pk)).get()))


# --- reading as of a past moment --------------------------------------------------------------------------------------

AS_OF = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?$")


def parse_as_of(text: str) -> datetime.datetime:
    """A date means the end of that day; a time without offset is Paris time."""
    match = AS_OF.match(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        day = datetime.date.fromisoformat(match.group(1))
        moment = (
            datetime.datetime.combine(day, datetime.time.fromisoformat(match.group(2)))
            if match.group(2)
            else datetime.datetime.combine(day, datetime.time.max)
        )
    except ValueError:
        raise HttpError(400, _("Paramètre as_of invalide : AAAA-MM-JJ ou AAAA-MM-JJTHH:MM attendu.")) from None
    # The first hours of year 1 in Paris are in year 0 in UTC, which no datetime holds: nothing existed then anyway.
    return timezone.make_aware(max(moment, EARLIEST))


EARLIEST = datetime.datetime(1, 1, 2)


def project_as_of_response(request: HttpRequest, project: Project, when: datetime.datetime) -> HttpResponse:
    data = project_as_of(project, when)
    # A project private then is shown only to those whose scope holds it (being public now is not enough).
    if data is not None and not data["public"] and not in_user_scope(request.user, project):
        data = None
    if data is None:
        raise HttpError(404, _("Le projet %(id)s n'existait pas à cette date.") % {"id": project.id_projet})
    data.update(
        status_label=str(dict(ProjectStatus.choices).get(data["status"], data["status"])),
        updated_at=last_change_at(project, when),
        as_of=when,
    )
    payload = ProjectAsOfOut(**data)
    response = HttpResponse(payload.model_dump_json(), content_type="application/json")
    response["ETag"] = etag_of(payload)
    return response


def in_user_scope(user, project: Project) -> bool:
    scope = project_scope(user)
    return scope is None or Project.objects.filter(scope, pk=project.pk).exists()


# --- writes -----------------------------------------------------------------------------------------------------------


class BearerToken(HttpBearer):
    """Writes need an API token (`Authorization: Bearer …`). `ApiTokenMiddleware` has already checked it (an invalid or
    revoked token answers 401 there) and set `request.user`: this only declares the scheme and refuses a request
    without a token (401), a signed-in browser session included."""

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if request.headers.get("Authorization") and user is not None and user.is_authenticated:
            return user
        return None

    def authenticate(self, request: HttpRequest, token: str):  # pragma: no cover - __call__ decides
        return None


token_auth = BearerToken()
# A funding line's id, as the database can hold it (a larger number would be an error of the database, not a 404).
LineId = Annotated[int, Path(..., ge=1, le=2**63 - 1, description="Identifiant de la ligne de financement (`id`).")]
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
CONCURRENCY = (
    "\n\nPas de modification perdue : avec `If-Match` (l'ETag lu) ou `version` dans le corps, une écriture sur "
    "un projet modifié entre-temps répond 409 sans rien changer, avec dans `details` les valeurs actuelles "
    "(`current`), les champs changés depuis la version lue (`changed`) et les modifications enregistrées depuis "
    "(`changes` : qui, quand, quoi, pourquoi). Sans l'un ni l'autre, l'écriture s'applique à la version courante "
    "(seuls les champs envoyés changent). Toute écriture augmente la `version` du projet ; la réponse porte son "
    "nouvel `ETag`."
)
ERRORS_DESCRIPTION = (
    "\n\nErreurs : 401 sans jeton, 403 projet visible mais hors de votre périmètre d'édition, 404 inconnu ou "
    "invisible pour vous, 409 conflit de modification, 422 données invalides (`details` par champ)."
)


def error(status: int, message: str, details=None) -> JsonResponse:
    body = error_body(STATUS_CODES[status], message, details)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


STATUS_CODES = {403: "forbidden", 404: "not_found", 409: "conflict", 422: "validation_error"}


def field_errors(exc: ValidationError) -> list[dict]:
    """A service's ValidationError in the format of the API's other validation errors: one entry per field."""
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    return [
        {"location": "body", "field": "" if name == NON_FIELD_ERRORS else name, "message": str(m), "type": "invalid"}
        for name, items in messages.items()
        for m in items
    ]


def conflict_response(conflict: ConflictError) -> JsonResponse:
    response = error(409, str(conflict), jsonable(conflict.as_details()))
    response["ETag"] = project_etag(conflict.project)
    return response


def jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def run_service(call: Callable[[], Any]) -> Any:
    """Call a use case, turning what it refuses into the API's error answers."""
    try:
        return call()
    except ConflictError as conflict:
        return conflict_response(conflict)
    except ObjectDoesNotExist as exc:
        return error(404, str(exc) or _("Ressource introuvable."))
    except PermissionDenied as exc:
        return error(403, str(exc) or _("Action non permise."))
    except ValidationError as exc:
        return error(422, _("Données invalides."), field_errors(exc))


def visible_project(request: HttpRequest, id_projet: str) -> Project:
    project = projects_visible_to(request.user).filter(id_projet=id_projet).first()
    if project is None:
        raise HttpError(404, _("Projet introuvable : %(id)s.") % {"id": id_projet})
    return project


def expected_version(request: HttpRequest, project: Project, body_version: int | None) -> int | None:
    """The version the writer read, from `If-Match` (an ETag of the project) or else the body's `version`; None when
    the writer gave neither (the write applies to the current version). A stale or unknown tag is a conflict."""
    header = request.headers.get("If-Match")
    if not header:
        return body_version
    tags = parse_etags(header)
    if "*" in tags:
        return body_version
    if project_etag(project) in tags:
        return project.version
    read = [int(m.group(1)) for m in (TAG_VERSION.match(tag) for tag in tags) if m]
    # A tag of the current version that does not match: something shown changed without a new version.
    raise ConflictError(project, min(read) if read else None)


TAG_VERSION = re.compile(r'^(?:W/)?"(\d+)-')


def with_etag(response: HttpResponse, project: Project, status: int | None = None) -> HttpResponse:
    response["ETag"] = project_etag(project)
    if status is not None:
        response.status_code = status
    return response


def detail(project: Project) -> ProjectDetailOut:
    return ProjectDetailOut.from_orm(with_details(Project.objects.filter(pk=project.pk)).get())


def written(project: Project, response: HttpResponse) -> ProjectDetailOut:
    payload = detail(project)
    response["ETag"] = versioned_etag(payload)
    return payload


@router.post(
    "/projects",
    response={201: ProjectDetailOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Créer un projet",
    description=(
        "Crée un projet dans le territoire de votre équipe (rôle territory_team). Réponse 201 avec l'en-tête "
        "`Location` (adresse du projet) et son `ETag`. `id_projet` est attribué s'il n'est pas donné."
        + ERRORS_DESCRIPTION
    ),
    url_name="project-create",
)
def create_project(request: HttpRequest, payload: ProjectCreateIn, response: HttpResponse):
    data = payload.model_dump(exclude_unset=True)
    reason = data.pop("reason", "")
    result = run_service(lambda: services.create_project(request.user, data, reason=reason, source=Source.API))
    if isinstance(result, HttpResponse):
        return result
    response["Location"] = reverse("api:project-detail", kwargs={"id_projet": result.id_projet})
    return Status(201, written(result, response))


@router.patch(
    "/projects/{id_projet}",
    response={200: ProjectDetailOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Modifier un projet",
    description=(
        "Modifie tout sous-ensemble des champs modifiables (les champs absents ne changent pas ; `null` vide un champ "
        "facultatif). Le statut ne se change pas ici mais par `POST …/status`. Changer `total_cost` demande un "
        "motif (`reason`)." + CONCURRENCY + ERRORS_DESCRIPTION
    ),
    url_name="project-update",
)
def update_project(request: HttpRequest, id_projet: str, payload: ProjectPatchIn, response: HttpResponse):
    data = payload.model_dump(exclude_unset=True)
    reason, version = data.pop("reason", ""), data.pop("version", None)
    data.pop("status", None)
    project = visible_project(request, id_projet)

    def call() -> Project:
        expected = expected_version(request, project, version)
        return services.update_project(
            request.user, project, data, expected_version=expected, reason=reason, source=Source.API
        )

    result = run_service(call)
    return result if isinstance(result, HttpResponse) else written(result, response)


@router.post(
    "/projects/{id_projet}/status",
    response={200: ProjectDetailOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Changer le statut d'un projet",
    description=(
        "Fait avancer le projet vers un statut suivant (idea → maturing → ready → in_progress → completed ; on peut "
        "sauter des étapes, jamais revenir en arrière) ou l'abandonne (`abandoned`, depuis tout statut ouvert). "
        "Le motif est obligatoire ; qui, quand et pourquoi sont gardés dans l'historique."
        + CONCURRENCY
        + ERRORS_DESCRIPTION
    ),
    url_name="project-status",
)
def change_status(request: HttpRequest, id_projet: str, payload: StatusIn, response: HttpResponse):
    project = visible_project(request, id_projet)

    def call() -> Project:
        expected = expected_version(request, project, payload.version)
        history = {"expected_version": expected, "source": Source.API}
        if payload.status == ProjectStatus.ABANDONED:
            return workflow.abandon(request.user, project, payload.reason, **history)
        return workflow.advance(request.user, project, payload.status, payload.reason, **history)

    result = run_service(call)
    return result if isinstance(result, HttpResponse) else written(result, response)


# --- funding lines and indicator values ----------------------------------------------------------------------------


def project_line(request: HttpRequest, id_projet: str, line_id: int) -> tuple[Project, FundingLine]:
    project = visible_project(request, id_projet)
    line = FundingLine.objects.filter(pk=line_id, project=project).select_related("funder").first()
    if line is None:
        raise HttpError(404, _("Ligne de financement introuvable : %(id)s.") % {"id": line_id})
    return project, line


def line_written(line: FundingLine, response: HttpResponse) -> FundingLine:
    response["ETag"] = project_etag(line.project)
    return FundingLine.objects.select_related("funder").get(pk=line.pk)


FUNDING_NOTE = " L'en-tête `ETag` de la réponse est celui du projet (sa nouvelle version)."


@router.post(
    "/projects/{id_projet}/funding",
    response={201: FundingLineOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Ajouter une ligne de financement",
    description="Ajoute une ligne au plan de financement du projet." + FUNDING_NOTE + CONCURRENCY + ERRORS_DESCRIPTION,
    url_name="project-funding-add",
)
def add_funding_line(request: HttpRequest, id_projet: str, payload: FundingLineIn, response: HttpResponse):
    data = payload.model_dump(exclude_unset=True)
    reason, version = data.pop("reason", ""), data.pop("version", None)
    project = visible_project(request, id_projet)

    def call() -> FundingLine:
        expected = expected_version(request, project, version)
        return services.add_funding_line(
            request.user, project, data, expected_version=expected, reason=reason, source=Source.API
        )

    result = run_service(call)
    return result if isinstance(result, HttpResponse) else Status(201, line_written(result, response))


@router.patch(
    "/projects/{id_projet}/funding/{line_id}",
    response={200: FundingLineOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Modifier une ligne de financement",
    description=(
        "Modifie une ligne du plan de financement (équipe du territoire, porteur). Changer un montant demande un "
        "motif (`reason`). Les financeurs et les services de l'État enregistrent leurs décisions par "
        "`POST …/decision`." + FUNDING_NOTE + CONCURRENCY + ERRORS_DESCRIPTION
    ),
    url_name="project-funding-update",
)
def update_funding_line(
    request: HttpRequest, id_projet: str, line_id: LineId, payload: FundingLinePatchIn, response: HttpResponse
):
    data = payload.model_dump(exclude_unset=True)
    reason, version = data.pop("reason", ""), data.pop("version", None)
    project, line = project_line(request, id_projet, line_id)

    def call() -> FundingLine:
        expected = expected_version(request, project, version)
        return services.update_funding_line(
            request.user, line, data, expected_version=expected, reason=reason, source=Source.API
        )

    result = run_service(call)
    return result if isinstance(result, HttpResponse) else line_written(result, response)


@router.delete(
    "/projects/{id_projet}/funding/{line_id}",
    response={204: None, **WRITE_ERRORS},
    auth=token_auth,
    summary="Supprimer une ligne de financement",
    description=(
        "Retire la ligne du plan de financement ; son historique reste. Le motif (`reason`, paramètre) est "
        "obligatoire." + FUNDING_NOTE + CONCURRENCY + ERRORS_DESCRIPTION
    ),
    url_name="project-funding-delete",
)
def delete_funding_line(
    request: HttpRequest,
    id_projet: str,
    line_id: LineId,
    response: HttpResponse,
    reason: str = Query("", max_length=2000, description="Motif de la suppression (obligatoire)."),
    version: int | None = Query(None, description="Version lue du projet : 409 s'il a changé depuis."),
):
    project, line = project_line(request, id_projet, line_id)

    def call() -> None:
        expected = expected_version(request, project, version)
        services.delete_funding_line(request.user, line, reason=reason, expected_version=expected, source=Source.API)

    result = run_service(call)
    if isinstance(result, HttpResponse):
        return result
    response["ETag"] = project_etag(project)
    return Status(204, None)


@router.post(
    "/projects/{id_projet}/funding/{line_id}/decision",
    response={200: FundingLineOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Enregistrer la décision sur une ligne de financement",
    description=(
        "Le financeur de la ligne (rôle funder) ou les services de l'État de la région du projet (rôle "
        "state_services) enregistrent leur décision : montant accordé, date, état, motif (obligatoire)."
        + FUNDING_NOTE
        + CONCURRENCY
        + ERRORS_DESCRIPTION
    ),
    url_name="project-funding-decision",
)
def decide_funding_line(
    request: HttpRequest, id_projet: str, line_id: LineId, payload: FundingDecisionIn, response: HttpResponse
):
    project, line = project_line(request, id_projet, line_id)

    def call() -> FundingLine:
        expected = expected_version(request, project, payload.version)
        return services.decide_funding_line(
            request.user,
            line,
            payload.granted,
            payload.decided_on,
            payload.status,
            payload.reason,
            expected_version=expected,
            source=Source.API,
        )

    result = run_service(call)
    return result if isinstance(result, HttpResponse) else line_written(result, response)


@router.post(
    "/projects/{id_projet}/indicators",
    response={200: IndicatorValueOut, 201: IndicatorValueOut, **WRITE_ERRORS},
    auth=token_auth,
    summary="Enregistrer une valeur d'indicateur",
    description=(
        "Enregistre la valeur cible et/ou mesurée d'un indicateur à une date : 201 pour une nouvelle date, 200 quand "
        "la valeur de cette date est remplacée." + FUNDING_NOTE + CONCURRENCY + ERRORS_DESCRIPTION
    ),
    url_name="project-indicator-value",
)
def record_indicator_value(request: HttpRequest, id_projet: str, payload: IndicatorValueIn, response: HttpResponse):
    project = visible_project(request, id_projet)
    existed = project.indicator_values.filter(indicator__code=payload.indicator, on=payload.on).exists()

    def call():
        expected = expected_version(request, project, payload.version)
        return services.record_indicator_value(
            request.user,
            project,
            payload.indicator,
            payload.on,
            target=payload.target,
            measured=payload.measured,
            expected_version=expected,
            reason=payload.reason,
            source=Source.API,
        )

    result = run_service(call)
    if isinstance(result, HttpResponse):
        return result
    response["ETag"] = project_etag(project)
    body = {
        "indicator": result.indicator.code,
        "on": result.on,
        "target": amount(result.target),
        "measured": amount(result.measured),
    }
    return Status(200 if existed else 201, body)
