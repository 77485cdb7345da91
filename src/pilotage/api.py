"""The HTTP API under /api/v1/, assembling each app's router, with the pinned error format."""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from pilotage.core.errors import error_body

api = NinjaAPI(
    title="Pilotage — API Territoires d'industrie",
    version="1",
    description=(
        "Données du programme Territoires d'industrie : territoires, projets, financements, indicateurs. "
        "Lecture publique ; écriture avec un jeton (`Authorization: Bearer …`). "
        'Erreurs : `{"error": {"code", "message", "details"}}`.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
}


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    return api.create_response(request, error_body("bad_request", "Paramètres invalides.", exc.errors), status=400)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body("not_found", "Ressource introuvable."), status=404)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return api.create_response(request, error_body("unauthorized", "Jeton absent, invalide ou révoqué."), status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = STATUS_CODES.get(exc.status_code, "error")
    return api.create_response(request, error_body(code, str(exc.message)), status=exc.status_code)


def _register_routers() -> None:
    from pilotage.programme.api import router as programme_router
    from pilotage.stats.api import router as stats_router

    api.add_router("/", programme_router)
    api.add_router("/", stats_router)


_register_routers()
