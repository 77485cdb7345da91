from django.conf import settings


def site(request) -> dict:
    return {"SITE_NAME": settings.PILOTAGE_SITE_NAME}
