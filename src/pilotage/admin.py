"""Django's admin is the super-users' tool (data repairs, the read-only referential): staff status alone does not
open it. The national coordination works in its own pages (`/espace/national/`), through the services and their
history."""

from django.contrib import admin
from django.http import HttpRequest


def superusers_only(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


def restrict_to_superusers(site: admin.AdminSite = admin.site) -> None:
    from pilotage.accounts.forms import AdminLoginForm  # its login counts failures like ours (accounts/throttle.py)

    site.has_permission = superusers_only
    site.login_form = AdminLoginForm
