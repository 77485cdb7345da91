"""Bearer-token authentication for the API: a bad or revoked token answers 401, never anonymous."""

from django.http import JsonResponse

from pilotage.core.errors import error_body

from .tokens import user_for_token


class ApiTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header and request.path.startswith("/api/"):
            scheme, _, key = header.partition(" ")
            user = user_for_token(key) if scheme.lower() == "bearer" and key.strip() else None
            if user is None:
                response = JsonResponse(
                    error_body("unauthorized", "Jeton d'API invalide, expiré ou révoqué."), status=401
                )
                response["WWW-Authenticate"] = 'Bearer realm="pilotage"'
                return response
            request.user = user
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)
