"""The HTTP API under /api/v1/, assembling each app's router, with the pinned error format.

Every answer under /api/v1/ is JSON, errors included: `{"error": {"code", "message", "details"}}` with French
messages. Bad query or path parameters answer 400, an invalid body 422. django-ninja leaves a few answers outside its
exception handlers (unknown paths, 405, the API root), so `PilotageAPI.urls` wraps its views and ends with a
catch-all. The interactive docs are served from django-ninja's own static files (no CDN): `ninja` is in
INSTALLED_APPS.
"""

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, re_path, reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from pilotage.core.errors import ErrorOut, error_body

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    422: "validation_error",
    429: "too_many_requests",
}

# Parameters live in these parts of the request: an error there is bad input (400), not an invalid body (422).
PARAMETER_SOURCES = {"query", "path", "header", "cookie"}


class PilotageAPI(NinjaAPI):
    @property
    def urls(self) -> tuple[list, str, str]:
        patterns, app_name, namespace = super().urls
        wrapped = [
            URLPattern(p.pattern, json_errors(api_root if p.name == "api-root" else p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        wrapped.append(re_path(r"^.*$", json_errors(unknown_path), name="api-unknown"))
        return wrapped, app_name, namespace

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> dict:
        """Document the error answers every operation may give, even where its router did not declare them."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorOut" not in components:
            error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(error_schema.pop("$defs", {}))
            components["ErrorOut"] = error_schema
        for operation in (op for ops in schema["paths"].values() for op in ops.values()):
            # django-ninja keys responses by int, `openapi_extra` by str: both would be written as the same key.
            operation["responses"] = {str(status): answer for status, answer in operation["responses"].items()}
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    parameter["schema"] = without_null(parameter["schema"])
                    forbid_null_character(parameter["schema"])
            for status in implied_error_statuses(operation):
                operation["responses"].setdefault(str(status), error_openapi_response(status))
            for status, description in ERROR_DESCRIPTIONS.items():
                if str(status) in operation["responses"]:
                    operation["responses"][str(status)]["description"] = description
        for name in request_body_components(schema):
            for field in components[name].get("properties", {}).values():
                forbid_null_character(field)
        return schema


api = PilotageAPI(
    title="Pilotage — API Territoires d'industrie",
    version="1",
    description=(
        "Données du programme Territoires d'industrie : territoires, projets, financements, indicateurs. "
        "Lecture publique ; écriture avec un jeton (`Authorization: Bearer …`). "
        'Erreurs : `{"error": {"code", "message", "details"}}` — 400 paramètre invalide, 401 jeton absent ou '
        "invalide, 404 inconnu ou hors de votre périmètre, 405 méthode non permise, 409 conflit de modification, "
        "422 données invalides."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    # validatorUrl: Swagger UI would otherwise load a badge from validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "defaultModelsExpandDepth": 0}),
)


ERROR_DESCRIPTIONS = {
    400: "Paramètre invalide",
    401: "Jeton invalide, expiré ou révoqué",
    404: "Inconnu ou hors de votre périmètre",
    422: "Données invalides",
    429: "Trop de jetons invalides depuis votre réseau : réessayez plus tard",
}


def implied_error_statuses(operation: dict) -> list[int]:
    # 401 and 429: the token middleware answers them on every path when a bad token is sent (429 past too many).
    statuses = [401, 429]
    parameters = operation.get("parameters", [])
    if any(p.get("in") != "path" or p.get("schema", {}).get("type") != "string" for p in parameters):
        statuses.append(400)  # any text is a well-formed path segment: only other parameters can be malformed
    if any(p.get("in") == "path" for p in parameters):
        statuses.append(404)
    if "requestBody" in operation:
        statuses.append(422)
    return statuses


# No text parameter or body field takes the NUL character (PostgreSQL cannot store it; nobody types it): the
# document says so, and `refuse_null_characters` answers 400 (parameter), 404 (path) or 422 (body) to it.
NO_NULL_CHARACTER = r"^[^\x00]*$"


def without_null(schema: dict) -> dict:
    """A query string has no null: an optional parameter is absent, never `null` (django-ninja writes `anyOf`)."""
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    if "anyOf" not in schema or len(options) != 1:
        return schema
    return {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}


def forbid_null_character(schema: dict) -> None:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "string" and not {"pattern", "format", "enum"} & set(option):
            option["pattern"] = NO_NULL_CHARACTER
        elif option.get("type") == "array" and isinstance(option.get("items"), dict):
            forbid_null_character(option["items"])


def request_body_components(schema: dict) -> set[str]:
    """The components a request body uses, directly or through another component."""
    components = schema.get("components", {}).get("schemas", {})
    pending = [
        body
        for ops in schema["paths"].values()
        for op in ops.values()
        for body in op.get("requestBody", {}).get("content", {}).values()
    ]
    found: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None
            if name and name not in found and name in components:
                found.add(name)
                pending.append(components[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def error_openapi_response(status: int) -> dict:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, STATUS_CODES.get(status, "Erreur")),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }


def error_response(status: int, message: str, details: Any = None, code: str | None = None) -> JsonResponse:
    body = error_body(code or STATUS_CODES.get(status, "error"), message, details)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def json_errors(view: Callable) -> Callable:
    """Turn the few non-JSON answers django-ninja gives outside its exception handlers into the pinned format,
    and answer HEAD like GET without the body (django-ninja would answer 405)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        method = request.method
        if method == "HEAD":
            request.method = "GET"
        try:
            response = refuse_null_characters(request) or view(request, *args, **kwargs)
        except Http404:
            response = error_response(404, _("Ressource introuvable."))
        except SuspiciousOperation as exc:  # too many parameters, a malformed query string…
            response = on_suspicious_request(request, exc)
        finally:
            request.method = method
        if isinstance(response, HttpResponseNotAllowed):
            response = method_not_allowed(method, response["Allow"])
        if method == "HEAD" and not response.streaming:
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response

    return wrapper


NULL_CHARACTER = "\x00"


def refuse_null_characters(request: HttpRequest) -> HttpResponse | None:
    """The answer to a request with a NUL character in its path, parameters or JSON body; None for any other."""
    message = _("Le caractère nul (U+0000) n'est permis nulle part.")
    if NULL_CHARACTER in request.path:
        return error_response(404, _("Ressource introuvable."))
    fields = [key for key, values in request.GET.lists() if NULL_CHARACTER in key + "".join(values)]
    if fields:
        details = [{"location": "query", "field": f, "message": message, "type": "null_character"} for f in fields]
        return error_response(400, _("Paramètre invalide."), details)
    if request.method in ("POST", "PUT", "PATCH") and b"\\u0000" in request.body.lower():
        try:
            fields = null_character_fields(json.loads(request.body))
        except ValueError:
            return None  # not JSON: django-ninja answers it
        if fields:
            details = [{"location": "body", "field": f, "message": message, "type": "null_character"} for f in fields]
            return error_response(422, _("Données invalides."), details)
    return None


def null_character_fields(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path] if NULL_CHARACTER in value else []
    if isinstance(value, dict):
        keys = [path] if any(NULL_CHARACTER in key for key in value) else []
        return keys + [f for k, v in value.items() for f in null_character_fields(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in null_character_fields(v, f"{path}.{i}".lstrip("."))]
    return []


def method_not_allowed(method: str, allowed: str) -> HttpResponse:
    response = error_response(
        405,
        _("Méthode %(method)s non permise ici.") % {"method": method},
        {"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
    )
    response["Allow"] = allowed
    return response


def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(404, _("Adresse inconnue dans l'API : %(path)s.") % {"path": request.path})


def api_root(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The API's entry point: where its description and documentation are."""
    return JsonResponse(
        {
            "title": api.title,
            "version": api.version,
            "openapi": request.build_absolute_uri(reverse("api:openapi-json")),
            "docs": request.build_absolute_uri(reverse("api:openapi-view")),
        }
    )


# French messages for the validation errors that parameters and bodies commonly raise (pydantic's types).
VALIDATION_MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "int_parsing": "Doit être un nombre entier.",
    "int_type": "Doit être un nombre entier.",
    "int_from_float": "Doit être un nombre entier.",
    "float_parsing": "Doit être un nombre.",
    "float_type": "Doit être un nombre.",
    "decimal_parsing": "Doit être un nombre.",
    "decimal_type": "Doit être un nombre.",
    "bool_parsing": "Doit valoir true ou false.",
    "bool_type": "Doit valoir true ou false.",
    "string_type": "Doit être du texte.",
    "date_parsing": "Doit être une date au format AAAA-MM-JJ.",
    "date_from_datetime_parsing": "Doit être une date au format AAAA-MM-JJ.",
    "date_type": "Doit être une date au format AAAA-MM-JJ.",
    "datetime_parsing": "Doit être une date et heure ISO 8601.",
    "datetime_from_date_parsing": "Doit être une date et heure ISO 8601.",
    "greater_than": "Doit être strictement supérieur à %(gt)s.",
    "greater_than_equal": "Doit être supérieur ou égal à %(ge)s.",
    "less_than": "Doit être strictement inférieur à %(lt)s.",
    "less_than_equal": "Doit être inférieur ou égal à %(le)s.",
    "string_too_short": "Doit contenir au moins %(min_length)s caractère(s).",
    "string_too_long": "Doit contenir au plus %(max_length)s caractères.",
    "too_short": "Doit contenir au moins %(min_length)s élément(s).",
    "too_long": "Doit contenir au plus %(max_length)s éléments.",
    "string_pattern_mismatch": "Format invalide.",
    "literal_error": "Valeur non permise ; valeurs possibles : %(expected)s.",
    "enum": "Valeur non permise ; valeurs possibles : %(expected)s.",
    "list_type": "Doit être une liste.",
    "dict_type": "Doit être un objet.",
    "model_type": "Doit être un objet.",
    "model_attributes_type": "Doit être un objet.",
    "json_invalid": "JSON invalide.",
    "extra_forbidden": "Champ inconnu.",
    "url_parsing": "Adresse invalide.",
}


def french_message(error: dict) -> str:
    if error.get("type") == "value_error":
        # Our own validators raise ValueError with a French message; pydantic prefixes it.
        return str(error.get("msg", "")).removeprefix("Value error, ")
    template = VALIDATION_MESSAGES.get(error.get("type", ""))
    if template is None:
        return _("Valeur invalide.")
    try:
        return _(template) % (error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return _("Valeur invalide.")


def describe_validation_error(error: dict) -> dict:
    loc = [str(part) for part in error.get("loc", ())]
    source, path = (loc[0], loc[1:]) if loc else ("", [])
    if source == "body" and len(path) > 1:
        path = path[1:]  # drop the view's parameter name: the client never saw it
    return {"location": source, "field": ".".join(path), "message": french_message(error), "type": error.get("type")}


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [describe_validation_error(error) for error in exc.errors]
    if any(d["location"] in PARAMETER_SOURCES for d in details):
        message, status = _("Paramètre invalide."), 400
    else:
        message, status = _("Données invalides."), 422
    return api.create_response(request, error_body(STATUS_CODES[status], message, details), status=status)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Django's own messages ("No Territory matches the given query.") are English and name models: not shown.
    text = str(exc)
    message = text if text and not text.endswith("matches the given query.") else _("Ressource introuvable.")
    return api.create_response(request, error_body("not_found", message), status=404)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, error_body("unauthorized", _("Jeton absent, invalide ou révoqué.")), status=401)


# django-ninja's own messages, in English, and what a French user reads instead.
NINJA_MESSAGES = {
    "Cannot parse request body": "Corps de la requête illisible : JSON attendu.",
    "Unauthorized": "Jeton absent, invalide ou révoqué.",
    "Forbidden": "Action non permise.",
    "CSRF check Failed": "Jeton CSRF absent ou invalide.",
    "Too many requests.": "Trop de requêtes : réessayez plus tard.",
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = STATUS_CODES.get(exc.status_code, "error")
    message = str(exc.message)
    message = _(NINJA_MESSAGES[message]) if message in NINJA_MESSAGES else message
    return api.create_response(request, error_body(code, message), status=exc.status_code)


@api.exception_handler(SuspiciousOperation)
def on_suspicious_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, _("Requête trop volumineuse."))
    # Django's own messages (too many fields, a malformed header…) are English: the status says enough.
    return error_response(400, _("Requête invalide."))


@api.exception_handler(Exception)
def on_server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Erreur dans l'API : %s %s", request.method, request.path)
    details = repr(exc) if settings.DEBUG else None
    return api.create_response(
        request, error_body("server_error", _("Erreur interne du serveur."), details), status=500
    )


def _register_routers() -> None:
    from pilotage.opendata.api import router as opendata_router
    from pilotage.programme.api import router as programme_router
    from pilotage.projects.api import router as projects_router
    from pilotage.stats.api import router as stats_router

    api.add_router("/", programme_router)
    api.add_router("/", projects_router)
    api.add_router("/", stats_router)
    api.add_router("/", opendata_router)


_register_routers()
