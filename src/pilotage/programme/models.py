"""Programme phases and themes, territories, their governance, contracts and action plans."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pilotage.geo.models import Epci, Region


class ProgrammePhase(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)  # e.g. "2018-2022"
    name = models.CharField(_("nom"), max_length=200)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))

    class Meta:
        verbose_name = _("phase du programme")
        verbose_name_plural = _("phases du programme")
        ordering = ["starts_on"]

    def __str__(self) -> str:
        return self.name


class Theme(models.Model):
    """A theme (axe) of a phase. Themes are data, never an enum: each phase has its own."""

    phase = models.ForeignKey(ProgrammePhase, on_delete=models.PROTECT, related_name="themes")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("thème")
        verbose_name_plural = _("thèmes")
        ordering = ["phase__starts_on", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["phase", "code"], name="theme_unique_code_per_phase")]

    def __str__(self) -> str:
        return self.label


class Territory(models.Model):
    """A Territoire d'industrie, identified by its ANCT code `id_ti` (ti-RRNN)."""

    code = models.CharField(_("identifiant (id_ti)"), max_length=16, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="territories")
    phases = models.ManyToManyField(ProgrammePhase, related_name="territories", verbose_name=_("phases"))
    epcis = models.ManyToManyField(Epci, related_name="territories", verbose_name=_("périmètre (EPCI)"))
    # Derived from the perimeter when it changes, so that lists need no aggregate per row.
    population = models.PositiveIntegerField(_("population"), default=0)
    communes_count = models.PositiveIntegerField(_("nombre de communes"), default=0)
    # Folded code, name and EPCI names, for accent-insensitive search on every engine.
    search_text = models.TextField(editable=False, default="")
    governance_installed_on = models.DateField(_("gouvernance installée le"), null=True, blank=True)
    is_demo = models.BooleanField(_("donnée de démonstration"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("territoire d'industrie")
        verbose_name_plural = _("territoires d'industrie")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def refresh_derived(self) -> None:
        """Recompute what derives from the perimeter (population, communes, search text) and save it."""
        from pilotage.core.text import fold
        from pilotage.geo.models import Commune

        epcis = list(self.epcis.all())
        self.population = sum(e.population for e in epcis)
        self.communes_count = Commune.objects.filter(epci__in=epcis).count()
        self.search_text = fold(" ".join([self.code, self.name, *(e.name for e in epcis)]))
        Territory.objects.filter(pk=self.pk).update(
            population=self.population, communes_count=self.communes_count, search_text=self.search_text
        )


class GovernanceMember(models.Model):
    class Role(models.TextChoices):
        ELECTED_LEAD = "elected_lead", _("élu référent (binôme)")
        INDUSTRIAL_LEAD = "industrial_lead", _("industriel référent (binôme)")
        PROJECT_MANAGER = "project_manager", _("chef de projet")
        STATE_REFERENT = "state_referent", _("référent État")
        REGION_REFERENT = "region_referent", _("référent Région")
        OTHER = "other", _("autre membre")

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="governance_members")
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    full_name = models.CharField(_("nom"), max_length=200)
    position = models.CharField(_("fonction"), max_length=200, blank=True)
    organisation = models.CharField(_("structure"), max_length=200, blank=True)
    # Contact details are personal data: never shown publicly nor exported.
    email = models.EmailField(_("adresse électronique"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    starts_on = models.DateField(_("début du mandat"), null=True, blank=True)
    ends_on = models.DateField(_("fin du mandat"), null=True, blank=True)

    class Meta:
        verbose_name = _("membre de la gouvernance")
        verbose_name_plural = _("membres de la gouvernance")
        ordering = ["territory", "role", "full_name"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_role_display()})"


class Contract(models.Model):
    class Kind(models.TextChoices):
        PROTOCOL = "protocol", _("protocole")
        CONTRACT = "contract", _("contrat de Territoire d'industrie")

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="contracts")
    phase = models.ForeignKey(ProgrammePhase, on_delete=models.PROTECT, related_name="contracts")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    signed_on = models.DateField(_("signé le"), null=True, blank=True)
    signatories = models.TextField(_("signataires"), blank=True)
    document = models.FileField(_("document"), upload_to="contracts/", blank=True)
    signed_at_meeting = models.ForeignKey(
        "Meeting",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signed_contracts",
        verbose_name=_("signé lors de la réunion"),
    )

    class Meta:
        verbose_name = _("protocole ou contrat")
        verbose_name_plural = _("protocoles et contrats")
        ordering = ["territory", "phase", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "phase", "kind"], name="contract_unique_kind_per_phase")
        ]
        indexes = [
            models.Index(fields=["kind", "signed_on"]),
            # The figures ask, per territory, "a contract of this kind signed by that date?": without it SQLite
            # (no statistics) walks the (kind, signed_on) index for every territory.
            models.Index(fields=["territory", "kind", "signed_on"], name="contract_territory_kind_signed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.territory}"


class ActionPlan(models.Model):
    """A version of a territory's action plan: draft → submitted → validated | returned."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        SUBMITTED = "submitted", _("soumis à la Région")
        VALIDATED = "validated", _("validé par le Conseil régional")
        RETURNED = "returned", _("renvoyé pour modification")

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="action_plans")
    phase = models.ForeignKey(ProgrammePhase, on_delete=models.PROTECT, related_name="action_plans")
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(_("résumé"), blank=True)
    submitted_on = models.DateField(_("soumis le"), null=True, blank=True)
    # Date of the Regional Council's decision (validation or return).
    decided_on = models.DateField(_("décision du Conseil régional le"), null=True, blank=True)
    expected_validation_on = models.DateField(_("validation prévue le"), null=True, blank=True)
    return_reason = models.TextField(_("motif du renvoi"), blank=True)

    class Meta:
        verbose_name = _("plan d'actions")
        verbose_name_plural = _("plans d'actions")
        ordering = ["territory", "phase", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "phase", "version"], name="action_plan_unique_version"),
            models.CheckConstraint(
                condition=~Q(status="validated") | Q(decided_on__isnull=False),
                name="action_plan_validated_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "decided_on"]),
            # Per territory "a plan validated by that date?" (the figures), for the same reason as Contract's.
            models.Index(fields=["territory", "status", "decided_on"], name="plan_territory_status_decided"),
        ]

    def __str__(self) -> str:
        return f"Plan d'actions v{self.version} — {self.territory}"


class Meeting(models.Model):
    """A meeting of a territory's governance, or of a Region (`region` set instead of `territory`).

    Visitors see the past meetings flagged `public` (and their minutes); `public` defaults to true for the kinds
    held in public (`PUBLIC_BY_DEFAULT`), the team decides otherwise.
    """

    class Kind(models.TextChoices):
        STEERING_COMMITTEE = "steering_committee", _("comité de pilotage")
        FOLLOW_UP_COMMITTEE = "follow_up_committee", _("comité de suivi")
        GENERAL_ASSEMBLY = "general_assembly", _("assemblée générale")
        SIGNING_CEREMONY = "signing_ceremony", _("cérémonie de signature")
        OTHER = "other", _("autre réunion")

    PUBLIC_BY_DEFAULT = frozenset({Kind.GENERAL_ASSEMBLY})

    territory = models.ForeignKey(
        Territory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("territoire"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings", verbose_name=_("région")
    )
    kind = models.CharField(_("type de réunion"), max_length=20, choices=Kind.choices)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("lieu"), max_length=200, blank=True)
    participants = models.TextField(_("participants"), blank=True)
    minutes = models.TextField(_("compte rendu"), blank=True)
    minutes_document = models.FileField(_("compte rendu (PDF)"), upload_to="meetings/", blank=True)
    decisions = models.TextField(_("relevé de décisions"), blank=True)
    public = models.BooleanField(_("publique"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("réunion")
        verbose_name_plural = _("réunions")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(territory__isnull=False, region__isnull=True)
                | Q(territory__isnull=True, region__isnull=False),
                name="meeting_of_a_territory_or_a_region",
            )
        ]
        indexes = [models.Index(fields=["public", "held_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display().capitalize()} du {self.held_on:%d/%m/%Y}"

    @classmethod
    def public_by_default(cls, kind: str) -> bool:
        return kind in cls.PUBLIC_BY_DEFAULT
