from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# Header navigation: (label, URL name or absolute path). Resolved per request without touching the database.
NAV = [
    (_("Territoires"), "programme:list"),
    (_("Projets"), "projects:list"),
    (_("Tableaux de bord"), "stats:national"),
    (_("API"), "/api/v1/docs"),
]


def _resolve(target: str) -> str | None:
    if target.startswith("/"):
        return target
    try:
        return reverse(target)
    except NoReverseMatch:
        return None


def nav_items(path: str) -> list[dict]:
    items = []
    for label, target in NAV:
        url = _resolve(target)
        if url:
            items.append({"label": label, "url": url, "current": path.startswith(url)})
    return items


def site(request) -> dict:
    return {"SITE_NAME": settings.PILOTAGE_SITE_NAME, "NAV_ITEMS": nav_items(request.path)}
