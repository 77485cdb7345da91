"""Bearer-token authentication for the API: a bad or revoked token answers 401, never anonymous. Too many bad tokens
from one network answer 429 for a while (pilotage.accounts.throttle), without being looked up."""

from django.conf import settings
from django.http import JsonResponse

from pilotage.core.errors import error_body

from . import throttle
from .tokens import user_for_token

TOO_MANY_BAD_TOKENS = "Trop de jetons invalides depuis votre réseau : réessayez plus tard."


class ApiTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header and request.path.startswith("/api/"):
            if throttle.api_refused(request):
                response = JsonResponse(error_body("too_many_requests", TOO_MANY_BAD_TOKENS), status=429)
                response["Retry-After"] = str(settings.PILOTAGE_THROTTLE_LOCK_SECONDS)
                return response
            scheme, _, key = header.partition(" ")
            user = user_for_token(key) if scheme.lower() == "bearer" and key.strip() else None
            if user is None:
                throttle.api_token_failed(request)
                response = JsonResponse(
                    error_body("unauthorized", "Jeton d'API invalide, expiré ou révoqué."), status=401
                )
                response["WWW-Authenticate"] = 'Bearer realm="pilotage"'
                return response
            request.user = user
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)
