import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """A step of a web import (checking the file for its preview, or writing it) run in the background, so that a
    page can show its progress. See `pilotage.opendata.jobs` for how it runs and when it is declared interrupted."""

    class Kind(models.TextChoices):
        PREVIEW = "preview", _("vérification")
        CONFIRM = "confirm", _("enregistrement")

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("échoué")

    # Not guessable: the progress page's address is only known to the one who started the job (and it checks them).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("étape"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    filename = models.CharField(_("fichier"), max_length=200, blank=True)
    pending = models.JSONField(_("fichier en attente"), default=dict, blank=True)
    done = models.PositiveIntegerField(_("lignes traitées"), default=0)
    total = models.PositiveIntegerField(_("lignes à traiter"), default=0)  # 0: not known yet
    message = models.CharField(_("étape en cours"), max_length=300, blank=True)
    # The encoder takes lazy texts (field labels of the preview) as the strings they are.
    result = models.JSONField(_("résultat"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now, db_index=True)
    heartbeat = models.DateTimeField(_("dernier signe de vie"), default=timezone.now)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("import en cours")
        verbose_name_plural = _("imports en cours")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        """None while the total is not known (the page then shows a bar without value)."""
        return min(100, self.done * 100 // self.total) if self.total else None
