"""Back-office forms of a project (DSFR, French): the project itself, its status, funding plan, indicator values and
milestones.

Forms parse the input into the values the services take (`services.py`, `workflow.py`) and say each rule in their
help text; the services check the rules again and their ValidationErrors come back on the fields they name. Every
form carries the project's `version` as it was read: a save over a newer version is refused by the service
(`ConflictError`), never an overwrite.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm
from dsfr.utils import dsfr_input_class_attr

from pilotage.geo.models import Commune
from pilotage.opendata.parsing import ParseError, parse_amount, parse_siren
from pilotage.programme.forms import BackOfficeForm, DateInput, capitalised
from pilotage.programme.models import ProgrammePhase, Territory, Theme

from .models import FundingLine, Indicator, Organisation, Project, ProjectStatus
from .workflow import may_abandon, next_statuses


class AmountField(forms.CharField):
    """Euros as people type them: `1200000`, `1 200 000,50 €` (the import's rule, `parsing.parse_amount`)."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        self.allow_negative = allow_negative
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            text = f"{Decimal(str(value)):,.2f}".replace(",", " ").replace(".", ",")
            return text.removesuffix(",00")  # as typed in French: "1 350 000", "85 000,50"
        return value

    def clean(self, value: Any) -> Decimal | None:
        value = super().clean(value)
        try:
            amount = parse_amount(value)
        except ParseError as error:
            raise forms.ValidationError(error.message) from None
        if amount is not None and amount < 0 and not self.allow_negative:
            raise forms.ValidationError(_("Le montant ne peut pas être négatif."))
        return amount


class ProjectVersionForm(BackOfficeForm):
    """A write to a project: the version of the project it was opened on travels in a hidden field."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, version: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if version is not None:
            self.initial["version"] = version

    def refresh_fields(self) -> None:
        """After a subclass changes its fields' labels, help texts or widgets: the DSFR form has already built (and
        cached) their bound fields, which copy the label and help text."""
        self._bound_fields_cache.clear()
        for visible in self.visible_fields():
            dsfr_input_class_attr(visible)

    @property
    def expected_version(self) -> int:
        return self.cleaned_data["version"]

    def clean(self):
        data = super().clean()
        if "version" in self.errors:  # hidden: its own error would not be shown
            self.add_error(None, _("Ce formulaire est incomplet ou a été altéré : rechargez la page puis recommencez."))
        return data

    @property
    def reason(self) -> str:
        return (self.cleaned_data.get("reason") or "").strip()


def commune_choices(territory: Territory) -> list:
    """The communes of the territory's perimeter grouped by EPCI (a perimeter may hold hundreds of them)."""
    communes = Commune.objects.filter(epci__territories=territory).select_related("epci").order_by("epci__name", "name")
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for commune in communes:
        groups[commune.epci.name].append((commune.insee, f"{commune.name} ({commune.insee})"))
    return [("", _("— Choisir une commune —")), *groups.items()]


class ThemeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Theme) -> str:
        return obj.label


class ProjectForm(ProjectVersionForm):
    """Create or edit a project of a territory and a phase: themes of that phase, communes of that perimeter."""

    title = forms.CharField(
        label=_("Titre"),
        max_length=300,
        help_text=_("L'intitulé publié du projet : court et parlant (300 caractères au plus)."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Ce que fait le projet, pour qui, avec quels partenaires. Publiée si le projet est public."),
    )
    themes = ThemeChoiceField(
        label=_("Thèmes"),
        queryset=Theme.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    owner_name = forms.CharField(
        label=_("Porteur du projet"),
        max_length=300,
        required=False,
        help_text=_(
            "L'entreprise, la collectivité ou l'association qui porte le projet. Une organisation inconnue est créée."
        ),
    )
    owner_siren = forms.CharField(
        label=_("SIREN du porteur"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_(
            "9 chiffres, sa clé de contrôle est vérifiée (par exemple 732829320). Laissez vide pour un porteur "
            "sans SIREN."
        ),
    )
    commune = forms.ChoiceField(label=_("Commune"), required=False)
    reported_on = forms.DateField(
        label=_("Date de remontée"),
        required=False,
        widget=DateInput(),
        help_text=_("Date à laquelle le projet a été remonté au programme : elle le compte dans les chiffres."),
    )
    start_on = forms.DateField(
        label=_("Date de début"), required=False, widget=DateInput(), help_text=_("Début prévu ou réel.")
    )
    end_on = forms.DateField(
        label=_("Date de fin"),
        required=False,
        widget=DateInput(),
        help_text=_("Fin prévue ou réelle ; pas avant la date de début."),
    )
    total_cost = AmountField(
        label=_("Coût total (€)"),
        help_text=_("En euros, 0 ou plus (par exemple 1 200 000,50). Tout changement du coût demande un motif."),
    )
    public = forms.BooleanField(
        label=_("Projet public"),
        required=False,
        help_text=_(
            "Un projet public figure sur le site et dans les données ouvertes ; sinon seuls les gestionnaires du "
            "programme le voient."
        ),
    )

    def __init__(self, *args, territory: Territory, phase: ProgrammePhase, **kwargs):
        super().__init__(*args, **kwargs)
        self.territory, self.phase = territory, phase
        themes = self.fields["themes"]
        themes.queryset = phase.themes.order_by("position", "code")
        themes.help_text = _("Un ou plusieurs thèmes de la phase %(phase)s.") % {"phase": phase.name}
        commune = self.fields["commune"]
        commune.choices = commune_choices(territory)
        commune.help_text = _(
            "Une commune du périmètre du territoire %(territory)s, classées par intercommunalité."
        ) % {"territory": territory.name}
        self.fields["reason"].help_text = _(
            "Obligatoire si vous changez le coût total ; conservé dans l'historique du projet."
        )
        self.refresh_fields()

    def clean_owner_siren(self) -> str:
        try:
            return parse_siren(self.cleaned_data.get("owner_siren")) or ""
        except ParseError as error:
            raise forms.ValidationError(error.message) from None

    def clean(self):
        data = super().clean()
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", _("La date de fin est antérieure à la date de début."))
        if data.get("owner_siren") and not data.get("owner_name"):
            known = Organisation.objects.filter(siren=data["owner_siren"]).exists()
            if not known:
                self.add_error("owner_name", _("Indiquez le nom du porteur : aucune organisation n'a ce SIREN."))
        return data

    def data_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        owner = {"name": data["owner_name"], "siren": data["owner_siren"]}
        return {
            "title": data["title"],
            "description": data["description"],
            "themes": list(data["themes"]),
            "owner": owner if owner["name"] or owner["siren"] else None,
            "commune": data["commune"] or None,
            "reported_on": data["reported_on"],
            "start_on": data["start_on"],
            "end_on": data["end_on"],
            "total_cost": data["total_cost"],
            "public": data["public"],
        }


def project_initial(project: Project) -> dict[str, Any]:
    owner = project.owner
    return {
        "title": project.title,
        "description": project.description,
        "themes": list(project.themes.values_list("pk", flat=True)),
        "owner_name": owner.name if owner else "",
        "owner_siren": owner.siren if owner else "",
        "commune": project.commune_id or "",
        "reported_on": project.reported_on,
        "start_on": project.start_on,
        "end_on": project.end_on,
        "total_cost": project.total_cost,
        "public": project.public,
    }


class ProjectCreateForm(ProjectForm):
    version = None  # a new project has no version yet
    status = forms.ChoiceField(
        label=_("Statut de départ"),
        choices=[],
        initial=ProjectStatus.IDEA,
        help_text=_(
            "Le plus souvent « Idée ». Un projet déjà avancé quand il est remonté au programme peut partir d'un "
            "statut plus loin ; ensuite, le statut ne fait qu'avancer."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        open_statuses = [ProjectStatus.IDEA, *next_statuses(ProjectStatus.IDEA)]
        self.fields["status"].choices = [(s.value, s.label) for s in open_statuses]
        self.fields["reason"].help_text = _("Facultatif ; conservé dans l'historique du projet.")
        self.initial.setdefault("reported_on", timezone.localdate())
        self.initial.setdefault("public", True)
        self.order_fields(["title", "description", "themes", "status", *self.fields])
        self.refresh_fields()

    def data_for_service(self) -> dict[str, Any]:
        data = super().data_for_service()
        return {**data, "territory": self.territory, "phase": self.phase, "status": self.cleaned_data["status"]}


class StatusForm(ProjectVersionForm):
    """Move a project forward along its statuses, or abandon it: always with a reason."""

    ABANDON = ProjectStatus.ABANDONED

    to_status = forms.ChoiceField(label=_("Nouveau statut"), widget=forms.RadioSelect, choices=[])

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(code, ProjectStatus(code).label) for code in next_statuses(project.status)]
        if may_abandon(project.status):
            choices.append((self.ABANDON, _("Abandonné (le motif est publié avec le projet)")))
        field = self.fields["to_status"]
        # Any status is accepted here and offered as the project stands: a form opened on an older status gets the
        # service's answer (an edit conflict, or the rule), not "invalid choice".
        field.choices = [*ProjectStatus.choices]
        field.widget.choices = choices
        field.help_text = _(
            "Le statut avance d'une ou plusieurs étapes (idée → en maturation → prêt → engagé → réalisé), jamais en "
            "arrière ; un projet ouvert peut être abandonné."
        )
        reason = self.fields["reason"]
        reason.required = True
        reason.label = _("Motif")
        reason.widget = forms.Textarea(attrs={"rows": 3})
        reason.help_text = _(
            "Obligatoire : pourquoi le projet change de statut (décision, étape franchie…). Conservé dans "
            "l'historique avec votre nom et la date."
        )
        self.refresh_fields()


class FundingLineForm(ProjectVersionForm):
    funder = forms.CharField(
        label=_("Financeur"),
        max_length=300,
        help_text=_("Par exemple Bpifrance, Banque des Territoires, la Région… Un financeur inconnu est créé."),
        widget=forms.TextInput(attrs={"list": "funders", "autocomplete": "off"}),
    )
    instrument = forms.CharField(
        label=_("Dispositif"),
        max_length=200,
        required=False,
        help_text=_("L'aide ou le programme sollicité (prêt, subvention, appel à projets…)."),
    )
    requested = AmountField(label=_("Montant demandé (€)"), help_text=_("En euros, 0 ou plus."))
    granted = AmountField(
        label=_("Montant accordé (€)"),
        help_text=_("Une fois la décision connue ; un montant accordé fait passer la ligne à « accordé »."),
    )
    paid = AmountField(label=_("Montant versé (€)"), help_text=_("En euros, ce qui a déjà été versé."))
    decided_on = forms.DateField(
        label=_("Date de décision"),
        required=False,
        widget=DateInput(),
        help_text=_("Date de la décision du financeur ; vide tant qu'elle est attendue."),
    )
    status = forms.ChoiceField(
        label=_("État"),
        choices=capitalised(FundingLine.Status.choices),
        initial=FundingLine.Status.REQUESTED,
    )
    data_fields = ("funder", "instrument", "requested", "granted", "paid", "decided_on", "status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("Obligatoire si un montant change ; conservé dans l'historique du projet.")
        self.refresh_fields()


def funding_initial(line: FundingLine) -> dict[str, Any]:
    return {
        "funder": line.funder.name,
        "instrument": line.instrument,
        "requested": line.requested,
        "granted": line.granted,
        "paid": line.paid,
        "decided_on": line.decided_on,
        "status": line.status,
    }


class DeleteForm(ProjectVersionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        reason.required = True
        reason.label = _("Motif de la suppression")
        reason.help_text = _("Obligatoire ; la ligne supprimée reste lisible dans l'historique du projet.")
        self.refresh_fields()


class IndicatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Indicator) -> str:
        return f"{capfirst(obj.label)} ({obj.unit})" if obj.unit else capfirst(obj.label)


class IndicatorValueForm(ProjectVersionForm):
    indicator = IndicatorChoiceField(
        label=_("Indicateur"), queryset=Indicator.objects.none(), empty_label=_("— Choisir un indicateur —")
    )
    on = forms.DateField(
        label=_("Date"),
        widget=DateInput(),
        help_text=_(
            "La date de la valeur (souvent le 31 décembre). Une valeur déjà saisie à cette date est remplacée."
        ),
    )
    target = AmountField(label=_("Valeur cible"), help_text=_("Ce que le projet vise à cette date ; 0 ou plus."))
    measured = AmountField(
        label=_("Valeur mesurée"), help_text=_("Ce qui est constaté à cette date ; 0 ou plus. Une des deux au moins.")
    )

    def __init__(self, *args, phase: ProgrammePhase, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["indicator"]
        field.queryset = Indicator.objects.filter(phase=phase).order_by("label")
        field.help_text = _("Les indicateurs suivis pendant la phase %(phase)s.") % {"phase": phase.name}
        self.initial.setdefault("on", timezone.localdate())
        self.refresh_fields()

    def clean(self):
        data = super().clean()
        if data.get("target") is None and data.get("measured") is None and "measured" not in self.errors:
            self.add_error("measured", _("Indiquez une valeur cible ou mesurée."))
        return data


class MilestoneForm(ProjectVersionForm):
    label = forms.CharField(
        label=_("Jalon"),
        max_length=200,
        help_text=_("Une étape du projet : permis de construire, premier recrutement, mise en service…"),
    )
    planned_on = forms.DateField(label=_("Date prévue"), required=False, widget=DateInput())
    actual_on = forms.DateField(
        label=_("Date réelle"),
        required=False,
        widget=DateInput(),
        help_text=_("Quand l'étape est franchie ; un jalon sans date réelle après sa date prévue est en retard."),
    )
    data_fields = ("label", "planned_on", "actual_on")


class AsOfForm(DsfrBaseForm):
    """ "Voir tel qu'il était le …": a past day, read at its end."""

    date = forms.DateField(
        label=_("Voir le projet tel qu'il était le"),
        widget=DateInput(),
        help_text=_("Les valeurs enregistrées à la fin de cette journée."),
    )

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("Choisissez une date passée ou aujourd'hui."))
        return value
