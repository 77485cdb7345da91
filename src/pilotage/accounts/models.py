from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email or username)
        user = self.model(email=email, username=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractUser):
    """A person who signs in with their e-mail address. Roles and scopes are in `Role`."""

    email = models.EmailField(_("adresse électronique"), unique=True)
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def save(self, *args, **kwargs):
        self.username = self.email
        super().save(*args, **kwargs)


class Role(models.Model):
    """A role a user holds, with its scope (PRODUCT.md, "Who uses it")."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("coordination nationale (ANCT / État)")
        REGIONAL_PILOT = "regional_pilot", _("pilote régional (Conseil régional)")
        STATE_SERVICES = "state_services", _("services de l'État (préfecture)")
        TERRITORY_TEAM = "territory_team", _("équipe du territoire")
        PROJECT_OWNER = "project_owner", _("porteur de projet")
        FUNDER = "funder", _("financeur")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(_("rôle"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey("geo.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(
        "programme.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey("projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "projects.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("rôle")
        verbose_name_plural = _("rôles")

    def __str__(self) -> str:
        scope = self.region or self.territory or self.project or self.organisation
        return f"{self.get_kind_display()}{f' — {scope}' if scope else ''}"


class ApiToken(models.Model):
    """An API token: only its SHA-256 is stored; the clear value is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LoginThrottle(models.Model):
    """Failed attempts counted per account or per network, in the database so that every app server sees them
    (pilotage.accounts.throttle holds the rules)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("connexion, par adresse électronique")
        LOGIN_IP = "login_ip", _("connexion, par adresse IP")
        RESET_IP = "reset_ip", _("mot de passe oublié, par adresse IP")
        RESET_ADDRESS = "reset_address", _("mot de passe oublié, par adresse électronique")
        API_IP = "api_ip", _("jeton d'API, par adresse IP")

    scope = models.CharField(_("portée"), max_length=20, choices=Scope.choices)
    key = models.CharField(_("clé"), max_length=254)
    failures = models.PositiveIntegerField(_("tentatives"), default=0)
    window_start = models.DateTimeField(_("début de la fenêtre"))
    locked_until = models.DateTimeField(_("bloqué jusqu'à"), null=True, blank=True)

    class Meta:
        verbose_name = _("limitation de connexion")
        verbose_name_plural = _("limitations de connexion")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="login_throttle_scope_key")]
        indexes = [models.Index(fields=["window_start"], name="login_throttle_window")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} : {self.key}"
