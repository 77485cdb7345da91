"""Back-office forms of a territory's governance, contracts and meetings (DSFR, French).

Forms only parse and check the shape of the input; the business rules live in the services (`governance`,
`contracts`, `meetings`), whose ValidationErrors come back on the fields they name. Edit forms carry the version
of the record they were opened on (`editing`), so that a save over a newer version is refused.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import signing
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from pilotage.core.uploads import PdfField

from .editing import read_version, version_token
from .models import Contract, GovernanceMember, Meeting, ProgrammePhase

Role = GovernanceMember.Role


def capitalised(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Model choices are lower case (they are used inside sentences); a list shows them capitalised."""
    return [(value, capfirst(label)) for value, label in choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs, format="%Y-%m-%d")  # what a date input sends and expects, whatever the language


def past_date_input() -> DateInput:
    """A date input whose picker stops at today (the server checks it again)."""
    return DateInput({"max": timezone.localdate().isoformat()})


class BackOfficeForm(DsfrBaseForm):
    """Every write may carry its reason, recorded in the history."""

    reason = forms.CharField(
        label=_("Motif ou commentaire"),
        required=False,
        max_length=500,
        help_text=_("Facultatif ; conservé dans l'historique avec cet enregistrement."),
    )
    data_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields([name for name in self.fields if name not in ("reason", "version")])  # they come last

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.data_fields}


class VersionedForm(BackOfficeForm):
    """An edit form: the hidden `version` is the record's state when the form was opened."""

    version = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, state: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if state is not None:
            self.initial["version"] = version_token(state)

    def clean_version(self) -> dict | None:
        try:
            return read_version(self.cleaned_data["version"])
        except signing.BadSignature:
            # On the whole form: the field is hidden, its own errors would not be shown.
            self.add_error(None, _("Ce formulaire est incomplet ou a été altéré : rechargez la page puis recommencez."))
            return None

    @property
    def base(self) -> dict:
        return self.cleaned_data["version"]


phone_validator = RegexValidator(
    r"^\+?[0-9 .()\-]{6,30}$",
    _("Numéro de téléphone invalide : chiffres, espaces, points ou tirets, éventuellement précédés de « + »."),
)


class MemberFields(forms.Form):
    role = forms.ChoiceField(
        label=_("Rôle"),
        choices=capitalised(Role.choices),
        help_text=_(
            "Le binôme réunit un élu référent et un industriel référent : un seul de chaque en fonction à la fois."
        ),
    )
    full_name = forms.CharField(label=_("Prénom et nom"), max_length=200)
    position = forms.CharField(
        label=_("Fonction"),
        max_length=200,
        required=False,
        help_text=_("Par exemple : vice-président de la communauté d'agglomération, directrice d'usine."),
    )
    organisation = forms.CharField(label=_("Structure"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("Adresse électronique"),
        required=False,
        help_text=_("Coordonnées réservées aux gestionnaires du programme : jamais publiées ni exportées."),
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=30,
        required=False,
        validators=[phone_validator],
        help_text=_("Jamais publié ni exporté."),
    )
    starts_on = forms.DateField(label=_("Début du mandat"), required=False, widget=DateInput())
    ends_on = forms.DateField(
        label=_("Fin du mandat"),
        required=False,
        widget=DateInput(),
        help_text=_("Laissez vide tant que le mandat court ; elle ne peut pas précéder son début."),
    )


MEMBER_DATA = tuple(MemberFields.base_fields)


class MemberCreateForm(MemberFields, BackOfficeForm):
    data_fields = MEMBER_DATA


class MemberEditForm(MemberFields, VersionedForm):
    data_fields = MEMBER_DATA


class EndMandateForm(VersionedForm):
    ends_on = forms.DateField(
        label=_("Date de fin du mandat"),
        widget=DateInput(),
        help_text=_(
            "Elle ne peut pas précéder le début du mandat. Le membre reste dans l'historique de la gouvernance."
        ),
    )
    data_fields = ("ends_on",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("ends_on", timezone.localdate())


class InstallationForm(VersionedForm):
    governance_installed_on = forms.DateField(
        label=_("Date d'installation de la gouvernance"),
        required=False,
        widget=past_date_input(),
        help_text=_(
            "Date de la première réunion de la gouvernance installée (binôme élu-industriel désigné). "
            "Jamais dans le futur ; laissez vide si la gouvernance n'est pas encore installée."
        ),
    )
    data_fields = ("governance_installed_on",)


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Meeting) -> str:
        kind, date = obj.get_kind_display().capitalize(), f"{obj.held_on:%d/%m/%Y}"
        label = _("%(kind)s du %(date)s") % {"kind": kind, "date": date}
        if obj.place:
            label = f"{label} — {obj.place}"
        return _("%(meeting)s (réunion régionale)") % {"meeting": label} if obj.region_id else label


class ContractFields(forms.Form):
    phase = forms.ModelChoiceField(label=_("Phase du programme"), queryset=ProgrammePhase.objects.none())
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=capitalised(Contract.Kind.choices),
        help_text=_("Un protocole et un contrat au plus par phase du programme."),
    )
    signed_on = forms.DateField(
        label=_("Date de signature"),
        required=False,
        widget=past_date_input(),
        help_text=_("Jamais dans le futur : laissez vide tant que le document n'est pas signé."),
    )
    signed_at_meeting = MeetingChoiceField(
        label=_("Signé lors de la réunion"),
        queryset=Meeting.objects.none(),
        required=False,
        empty_label=_("Aucune (signé hors réunion)"),
        help_text=_(
            "Une réunion du territoire ou de sa région (cérémonie de signature, comité…). La date de signature est "
            "alors celle de la réunion : laissez-la vide pour la reprendre."
        ),
    )
    signatories = forms.CharField(
        label=_("Signataires"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Un signataire par ligne : nom, fonction, structure."),
    )
    document = PdfField(label=_("Document signé"))


CONTRACT_DATA = (*ContractFields.base_fields, "remove_document")


def _contract_choices(form: forms.Form, phases: QuerySet[ProgrammePhase], meetings: QuerySet[Meeting]) -> None:
    form.fields["phase"].queryset = phases
    form.fields["signed_at_meeting"].queryset = meetings


class ContractCreateForm(ContractFields, BackOfficeForm):
    data_fields = CONTRACT_DATA

    def __init__(self, *args, phases: QuerySet[ProgrammePhase], meetings: QuerySet[Meeting], **kwargs):
        super().__init__(*args, **kwargs)
        _contract_choices(self, phases, meetings)


class ContractEditForm(ContractFields, VersionedForm):
    remove_document = forms.BooleanField(
        label=_("Retirer le document actuel"),
        required=False,
        help_text=_("Le document retiré reste cité dans l'historique."),
    )
    data_fields = CONTRACT_DATA

    def __init__(self, *args, phases, meetings, has_document: bool, **kwargs):
        super().__init__(*args, **kwargs)
        _contract_choices(self, phases, meetings)
        if not has_document:
            del self.fields["remove_document"]


PUBLIC_CHOICES = [
    ("", _("Selon le type de réunion : publique pour une assemblée générale")),
    ("oui", _("Publique")),
    ("non", _("Non publique")),
]


class MeetingFields(forms.Form):
    kind = forms.ChoiceField(label=_("Type de réunion"), choices=capitalised(Meeting.Kind.choices))
    held_on = forms.DateField(
        label=_("Date"),
        widget=DateInput(),
        help_text=_("Une réunion à venir peut être annoncée : le public ne la voit qu'une fois passée."),
    )
    place = forms.CharField(label=_("Lieu"), max_length=200, required=False)
    public = forms.TypedChoiceField(
        label=_("Visibilité"),
        choices=PUBLIC_CHOICES,
        required=False,
        coerce=lambda value: value == "oui",
        empty_value=None,
        help_text=_(
            "Une réunion publique passée figure sur la page publique du territoire, avec son compte rendu et ses "
            "décisions (jamais la liste des participants)."
        ),
    )
    participants = forms.CharField(
        label=_("Participants"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Une personne ou une structure par ligne ; réservé aux gestionnaires du programme."),
    )
    minutes = forms.CharField(label=_("Compte rendu"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    minutes_document = PdfField(label=_("Compte rendu (document PDF)"))
    decisions = forms.CharField(
        label=_("Relevé de décisions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Une décision par ligne."),
    )


MEETING_DATA = (*MeetingFields.base_fields, "remove_minutes_document")


class MeetingCreateForm(MeetingFields, BackOfficeForm):
    data_fields = MEETING_DATA


class MeetingEditForm(MeetingFields, VersionedForm):
    remove_minutes_document = forms.BooleanField(
        label=_("Retirer le compte rendu PDF actuel"),
        required=False,
        help_text=_("Le document retiré reste cité dans l'historique."),
    )
    data_fields = MEETING_DATA

    def __init__(self, *args, has_document: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_document:
            del self.fields["remove_minutes_document"]


def public_initial(meeting: Meeting) -> str:
    return "oui" if meeting.public else "non"
