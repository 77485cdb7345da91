"""Projects (fiches action), their owners, funding plans, indicators and milestones."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pilotage.core.text import fold
from pilotage.geo.models import Commune
from pilotage.programme.models import ProgrammePhase, Territory, Theme


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("entreprise")
        LOCAL_AUTHORITY = "local_authority", _("collectivité")
        FUNDER = "funder", _("financeur")
        STATE_SERVICE = "state_service", _("service de l'État")
        ASSOCIATION = "association", _("association")
        OTHER = "other", _("autre")

    name = models.CharField(_("nom"), max_length=300)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, db_index=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.OTHER)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["siren"], condition=~models.Q(siren=""), name="organisation_unique_siren")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        renamed = getattr(self, "_loaded_name", None) not in (None, self.name)
        super().save(*args, **kwargs)
        self._loaded_name = self.name
        if renamed:
            # The owner's name is part of its projects' search text.
            Project.objects.filter(owner=self).refresh_search_text()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_name = instance.__dict__.get("name")
        return instance


class ProjectStatus(models.TextChoices):
    IDEA = "idea", _("Idée")
    MATURING = "maturing", _("En maturation")
    READY = "ready", _("Prêt")
    IN_PROGRESS = "in_progress", _("Engagé")
    COMPLETED = "completed", _("Réalisé")
    ABANDONED = "abandoned", _("Abandonné")


# The fields Project.search_text is made of (the owner's name too, through `owner`).
SEARCHED_FIELDS = frozenset({"title", "description", "owner", "owner_id"})


class ProjectQuerySet(models.QuerySet):
    def refresh_search_text(self, batch_size: int = 1000) -> int:
        """Recompute the search text of these projects; returns how many changed.

        For writers that bypass `save()` (bulk_create, queryset.update) and after an owner is renamed:
        one read and one batched update, whatever the number of projects.
        """
        rows = self.select_related("owner").only("title", "description", "search_text", "owner__name")
        changed = []
        for project in rows.iterator(chunk_size=batch_size):
            text = project.build_search_text()
            if text != project.search_text:
                project.search_text = text
                changed.append(project)
        Project.objects.bulk_update(changed, ["search_text"], batch_size=batch_size)
        return len(changed)


class Project(models.Model):
    id_projet = models.CharField(_("identifiant (id_projet)"), max_length=64, unique=True)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="projects")
    phase = models.ForeignKey(ProgrammePhase, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("titre"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    themes = models.ManyToManyField(Theme, related_name="projects", verbose_name=_("thèmes"))
    owner = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="projects")
    commune = models.ForeignKey(Commune, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("statut"), max_length=12, choices=ProjectStatus.choices, default="idea")
    abandon_reason = models.TextField(_("motif d'abandon"), blank=True)
    reported_on = models.DateField(_("remonté le"), null=True, blank=True)
    start_on = models.DateField(_("début"), null=True, blank=True)
    end_on = models.DateField(_("fin"), null=True, blank=True)
    total_cost = models.DecimalField(_("coût total (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    public = models.BooleanField(_("public"), default=True)
    featured = models.BooleanField(_("projet remarquable"), default=False)
    # Lower-case, accent-free title + description + owner, for engine-independent French search.
    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("projet")
        verbose_name_plural = _("projets")
        ordering = ["-reported_on", "id_projet"]
        indexes = [
            models.Index(fields=["territory", "status"]),
            models.Index(fields=["reported_on"]),
            models.Index(fields=["public", "territory"]),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        """Keeps `search_text` in step with what it is made of (bulk writers call `refresh_search_text()`)."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or SEARCHED_FIELDS.intersection(update_fields):
            self.search_text = self.build_search_text()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def build_search_text(self) -> str:
        owner_name = self.owner.name if self.owner_id else ""
        return fold(" ".join([self.title, self.description, owner_name]))


class ProjectStatusChange(models.Model):
    """Every status transition: who, when, why. Gives the status as of any date."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=12, choices=ProjectStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["project", "at"]),
            # The status as of a date, for every counted project (stats): answered from the index alone.
            models.Index(fields=["project", "at", "status"], name="statuschange_project_at_status"),
        ]


class FundingLine(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("demandé")
        GRANTED = "granted", _("accordé")
        REFUSED = "refused", _("refusé")
        PAID = "paid", _("versé")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="funding_lines")
    funder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="funding_lines")
    instrument = models.CharField(_("dispositif"), max_length=200, blank=True)
    requested = models.DecimalField(_("montant demandé (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    granted = models.DecimalField(_("montant accordé (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    paid = models.DecimalField(_("montant versé (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    decided_on = models.DateField(_("date de décision"), null=True, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.REQUESTED)

    class Meta:
        verbose_name = _("ligne de financement")
        verbose_name_plural = _("plan de financement")
        ordering = ["project", "funder__name", "instrument"]
        indexes = [
            # The funding figures sum the lines of the counted projects by funder: answered from the index alone.
            models.Index(fields=["project", "funder", "requested", "granted"], name="fundingline_project_amounts"),
        ]

    def __str__(self) -> str:
        return f"{self.funder} — {self.instrument}"


class Indicator(models.Model):
    phase = models.ForeignKey(ProgrammePhase, on_delete=models.PROTECT, related_name="indicators")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=200)
    unit = models.CharField(_("unité"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("indicateur")
        verbose_name_plural = _("indicateurs")
        ordering = ["phase", "code"]
        constraints = [models.UniqueConstraint(fields=["phase", "code"], name="indicator_unique_code")]

    def __str__(self) -> str:
        return self.label


class IndicatorValue(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="indicator_values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    on = models.DateField(_("date"))
    target = models.DecimalField(_("cible"), max_digits=14, decimal_places=2, null=True, blank=True)
    measured = models.DecimalField(_("mesuré"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("valeur d'indicateur")
        verbose_name_plural = _("valeurs d'indicateurs")
        ordering = ["project", "indicator", "on"]


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    label = models.CharField(_("jalon"), max_length=200)
    planned_on = models.DateField(_("date prévue"), null=True, blank=True)
    actual_on = models.DateField(_("date réelle"), null=True, blank=True)

    class Meta:
        verbose_name = _("jalon")
        verbose_name_plural = _("jalons")
        ordering = ["project", "planned_on"]
