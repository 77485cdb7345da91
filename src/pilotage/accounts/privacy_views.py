"""The "Mes données" page (RGPD): what the platform holds about the signed-in user, its download, its erasure.

Thin views over `privacy.py`.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from dsfr.forms import DsfrBaseForm

from pilotage.core.history import Source

from .privacy import export_user_data, forget_user, holdings
from .views import ACCOUNT_TITLE, _page

MY_DATA_TITLE = gettext_lazy("Mes données personnelles")


class ErasureForm(DsfrBaseForm):
    """The person confirms by typing their address again: a click alone cannot erase an account."""

    confirm_email = forms.CharField(
        label=gettext_lazy("Pour confirmer, saisissez votre adresse électronique"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Saisissez votre adresse électronique pour confirmer.")},
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_confirm_email(self) -> str:
        value = (self.cleaned_data.get("confirm_email") or "").strip().lower()
        if value != self.user.email.lower():
            raise forms.ValidationError(
                _("Cette adresse n'est pas celle de votre compte : rien n'a été supprimé."), code="mismatch"
            )
        return value


def _my_data_page(request: HttpRequest, form: ErasureForm) -> HttpResponse:
    context = {
        **_page(MY_DATA_TITLE, (ACCOUNT_TITLE, reverse("accounts:account"))),
        "held": holdings(request.user),
        "form": form,
    }
    return render(request, "accounts/my_data.html", context)


@never_cache
@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    return _my_data_page(request, ErasureForm(user=request.user))


@never_cache
@login_required
def my_data_download(request: HttpRequest) -> HttpResponse:
    body = json.dumps(export_user_data(request.user), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = f"pilotage-mes-donnees-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
@require_POST
def my_data_erase(request: HttpRequest) -> HttpResponse:
    form = ErasureForm(request.POST, user=request.user)
    if not form.is_valid():
        return _my_data_page(request, form)
    forget_user(request.user, source=Source.WEB, by_self=True)
    logout(request)
    messages.success(
        request,
        _(
            "Votre compte est supprimé : votre adresse et votre nom sont effacés, les modifications que vous avez "
            "faites restent dans l'historique sous un pseudonyme. Vous êtes déconnecté."
        ),
    )
    return redirect("web:home")
