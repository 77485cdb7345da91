"""Account pages: log in and out, reset a forgotten password, "Mon compte" with roles and API tokens (thin views)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import throttle
from .forms import THROTTLED, LoginForm, NewPasswordForm, ResetRequestForm, TokenForm
from .models import ApiToken
from .scopes import roles_of
from .tokens import create_token, revoke_token

ACCOUNT_TITLE = gettext_lazy("Mon compte")


def _page(title, *crumbs) -> dict:
    """The title and breadcrumb that base.html shows."""
    return {"title": title, "breadcrumb": [*crumbs, (title, None)]}


class ThrottledForm:
    """The form again, with 429 Too Many Requests when the throttle refused it (pilotage.accounts.throttle)."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, THROTTLED):
            response.status_code = 429
            response["Retry-After"] = str(settings.PILOTAGE_THROTTLE_LOCK_SECONDS)
        return response


class LoginView(ThrottledForm, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("workspace")  # unless ?next= says where the visitor was going
    extra_context = _page(gettext_lazy("Connexion"))

    def form_valid(self, form):
        throttle.login_succeeded(form.get_user().email)
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link or an image cannot log someone out."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("Vous êtes déconnecté."))
        return response


_reset_crumbs = ((gettext_lazy("Connexion"), reverse_lazy("accounts:login")),)


class PasswordResetView(ThrottledForm, auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = ResetRequestForm
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_context = _page(gettext_lazy("Mot de passe oublié"), *_reset_crumbs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    extra_context = _page(gettext_lazy("Vérifiez votre messagerie"), *_reset_crumbs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")
    extra_context = _page(gettext_lazy("Choisir un nouveau mot de passe"), *_reset_crumbs)

    def form_valid(self, form):
        """Whoever opened the link holds the mailbox: the address's failed logins no longer count."""
        throttle.login_succeeded(form.user.email)
        return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
    extra_context = _page(gettext_lazy("Mot de passe enregistré"), *_reset_crumbs)


def _account_page(request: HttpRequest, form: TokenForm, status: int = 200) -> HttpResponse:
    context = {
        **_page(ACCOUNT_TITLE),
        "roles": sorted(roles_of(request.user), key=lambda r: (r.kind, str(r))),
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk"),
        "form": form,
    }
    return render(request, "accounts/account.html", context, status=status)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request, TokenForm())


@never_cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """The clear token is in this response only: never stored, nor cached (`never_cache` sends no-store)."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, form)
    key = create_token(request.user, form.cleaned_data["name"])
    context = {
        **_page(_("Votre nouveau jeton d'API"), (ACCOUNT_TITLE, reverse("accounts:account"))),
        "name": form.cleaned_data["name"],
        "key": key,
    }
    return render(request, "accounts/token_created.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # another user's token: 404, not 403
    if revoke_token(request.user, token.pk):
        message = _("Le jeton « %(name)s » est révoqué : l'API le refuse désormais.") % {"name": token.name}
        messages.success(request, message)
    else:
        messages.info(request, _("Le jeton « %(name)s » était déjà révoqué.") % {"name": token.name})
    return redirect("accounts:account")
