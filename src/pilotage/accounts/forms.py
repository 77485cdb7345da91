"""Forms of the account pages, rendered with the DSFR (django-dsfr's `DsfrBaseForm` adds the classes).

Labels are declared on the fields, not set in `__init__`: `DsfrBaseForm.__init__` builds the bound fields, which keep
the label they were built with.
"""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm, UsernameField
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from . import throttle
from .models import User

# One message whether the address is unknown, the password wrong or the account disabled: a login form must not tell
# who has an account.
INVALID_LOGIN = _(
    "Adresse électronique ou mot de passe incorrect. Vérifiez votre saisie, ou réinitialisez votre mot de passe."
)
EMAIL_HINT = _("Format attendu : nom@domaine.fr")
# The same whether the address has an account or not, and whether the address or the network is locked.
LOGIN_LOCKED = _(
    "Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est suspendue pendant "
    "%(minutes)s minutes au plus pour cette adresse électronique ou depuis votre réseau. Réessayez plus tard, ou "
    "choisissez un nouveau mot de passe avec le lien « Mot de passe oublié »."
)
RESET_LOCKED = _(
    "Trop de demandes de réinitialisation ont été faites depuis votre réseau. Par sécurité, ce formulaire est "
    "suspendu pendant %(minutes)s minutes au plus : réessayez plus tard."
)
THROTTLED = "throttled"  # the error code with which the views answer 429


class ThrottledLogin:
    """Refuses the login while the address or the network is locked, before checking the password, and counts each
    failure (pilotage.accounts.throttle). For `AuthenticationForm` and its subclasses."""

    def clean(self):
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not (email and password):
            return super().clean()
        if throttle.login_refused(self.request, email):
            raise ValidationError(LOGIN_LOCKED, code=THROTTLED, params={"minutes": throttle.lock_minutes()})
        try:
            return super().clean()
        except ValidationError:
            if throttle.login_failed(self.request, email):
                raise ValidationError(
                    LOGIN_LOCKED, code=THROTTLED, params={"minutes": throttle.lock_minutes()}
                ) from None
            raise


class AdminLoginForm(ThrottledLogin, AdminAuthenticationForm):
    """Django admin's login page, under the same counters as ours: it must not be a way around them."""


class LoginForm(ThrottledLogin, DsfrBaseForm, AuthenticationForm):
    username = UsernameField(
        label=_("Adresse électronique"),
        help_text=EMAIL_HINT,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INVALID_LOGIN}

    def clean_username(self) -> str:
        """Addresses are stored in lower case (`create_or_update_user`): `Jean@Region.fr` logs in as well."""
        return (self.cleaned_data.get("username") or "").strip().lower()


class ResetRequestForm(DsfrBaseForm, PasswordResetForm):
    """The page answers the same whether the address has an account or not; only an account's owner gets a mail.

    Built with the `request` (the public page), it is throttled: per network, the page refuses past the limit; per
    address, the mails stop silently. Without it (the invitations the national coordination sends), it is not."""

    email = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        help_text=EMAIL_HINT,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        if self.request is not None and throttle.reset_refused(self.request):
            raise ValidationError(RESET_LOCKED, code=THROTTLED, params={"minutes": throttle.lock_minutes()})
        return super().clean()

    def get_users(self, email: str):
        """Active accounts with this address, including those without a password yet: `pilotage create_user` makes
        accounts without one, and this mail is how their owners choose it (Django would skip them)."""
        if self.request is not None and not throttle.reset_mail_allowed(email):
            return User.objects.none()
        return User.objects.filter(email__iexact=email.strip(), is_active=True)


class NewPasswordForm(DsfrBaseForm, SetPasswordForm):
    new_password1 = forms.CharField(
        label=_("Nouveau mot de passe"),
        strip=False,
        help_text=_("Au moins 12 caractères, ni trop courant, ni proche de votre adresse, ni seulement des chiffres."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("Confirmation du nouveau mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class TokenForm(DsfrBaseForm):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=100,
        help_text=_("Pour le reconnaître dans la liste, par exemple « import du tableur régional »."),
        error_messages={"required": _("Donnez un nom au jeton.")},
    )
