"""Security headers sent with every answer (docs/security.md says why each source is allowed)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Scripts only from our own static files: no inline code runs (json_script blocks are data, never executed).
# Inline styles stay allowed: dsfr-chart (Vue/Chart.js), Leaflet and Swagger UI set `style` attributes from script.
# Images and fonts may be data: URIs (Leaflet markers, Swagger UI icons, DSFR icons); blob: for chart downloads.
DEFAULT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Powerful browser features the platform never uses.
DEFAULT_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"


class SecurityHeadersMiddleware:
    """Adds CSP, Permissions-Policy and cross-origin isolation headers unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.headers = {
            "Content-Security-Policy": getattr(settings, "PILOTAGE_CSP", DEFAULT_CSP),
            "Permissions-Policy": DEFAULT_PERMISSIONS_POLICY,
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in self.headers.items():
            if value:
                response.headers.setdefault(name, value)
        return response
