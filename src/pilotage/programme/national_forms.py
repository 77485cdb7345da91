"""Forms of the national coordination's back office (DSFR, French).

They parse and check the shape of the input; the rules (unique codes, SIREN key, `id_ti`, perimeter) are the services'
(`national`), whose errors come back on the fields they name. Edit forms carry the version they were opened on.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from pilotage.accounts.models import Role
from pilotage.geo.models import Commune, Epci, Region

from .forms import BackOfficeForm, DateInput, VersionedForm, capitalised
from .models import ProgrammePhase

# --- phases and themes ----------------------------------------------------------------------------------------


class PhaseFields(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_(
            "Chiffres, lettres minuscules sans accent et tirets, par exemple 2028-2032. Les fichiers d'import et "
            "l'API désignent la phase par ce code : il ne change plus dès qu'un territoire, un projet, un contrat "
            "ou un plan d'actions s'y rattache."
        ),
    )
    name = forms.CharField(
        label=_("Nom"), max_length=200, help_text=_("Par exemple : Territoires d'industrie 2028-2032.")
    )
    starts_on = forms.DateField(label=_("Début"), widget=DateInput())
    ends_on = forms.DateField(label=_("Fin"), widget=DateInput(), help_text=_("Après le début."))


PHASE_DATA = tuple(PhaseFields.base_fields)


class PhaseCreateForm(PhaseFields, BackOfficeForm):
    data_fields = PHASE_DATA


class PhaseEditForm(PhaseFields, VersionedForm):
    data_fields = PHASE_DATA

    def __init__(self, *args, code_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if code_locked:
            # A disabled field keeps its initial value whatever is posted.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _(
                "La phase est utilisée (territoires, projets, contrats ou plans d'actions) : son code ne change plus."
            )


class ThemeFields(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_(
            "Lettres sans accent, chiffres, « _ » ou « - », unique dans la phase (ex. transition_ecologique). "
            "Les fichiers et l'API l'emploient : il ne change plus dès qu'un projet a ce thème."
        ),
    )
    label = forms.CharField(
        label=_("Libellé"), max_length=200, help_text=_("Unique dans la phase : un fichier peut citer le thème ainsi.")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    position = forms.IntegerField(
        label=_("Ordre d'affichage"),
        min_value=0,
        max_value=999,
        initial=0,
        help_text=_("Les thèmes d'une phase sont présentés du plus petit au plus grand numéro."),
    )


THEME_DATA = tuple(ThemeFields.base_fields)


class ThemeCreateForm(ThemeFields, BackOfficeForm):
    data_fields = THEME_DATA


class ThemeEditForm(ThemeFields, VersionedForm):
    data_fields = THEME_DATA

    def __init__(self, *args, code_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if code_locked:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("Des projets ont ce thème : son code ne change plus.")


# --- funders --------------------------------------------------------------------------------------------------


class FunderFields(forms.Form):
    name = forms.CharField(
        label=_("Nom"),
        max_length=300,
        help_text=_("Unique parmi les financeurs ; c'est aussi le périmètre du rôle « financeur » de ses agents."),
    )
    siren = forms.CharField(
        label=_("SIREN"),
        required=False,
        max_length=20,
        help_text=_("Facultatif : 9 chiffres, dont le dernier est une clé de contrôle vérifiée (ex. 180020026)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


FUNDER_DATA = tuple(FunderFields.base_fields)


class FunderCreateForm(FunderFields, BackOfficeForm):
    data_fields = FUNDER_DATA


class FunderEditForm(FunderFields, VersionedForm):
    data_fields = FUNDER_DATA


# --- territories ----------------------------------------------------------------------------------------------


def epci_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every EPCI of the referential, grouped under the region holding most of its communes (three queries)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = Commune.objects.filter(epci__isnull=False).values_list("epci_id", "department__region_id")
    for siren, region, n in rows.annotate(n=Count("pk")).order_by():
        counts[siren][region] = n
    names = dict(Region.objects.values_list("code", "name"))
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for siren, name in Epci.objects.order_by("name", "siren").values_list("siren", "name"):
        regions = counts.get(siren) or {}
        main = max(regions, key=lambda code: (regions[code], code)) if regions else None
        groups[names.get(main, _("Sans commune"))].append((siren, f"{name} — {siren}"))
    return sorted(groups.items())


class EpciField(forms.MultipleChoiceField):
    """The perimeter: EPCI SIRENs, chosen in a list filtered as one types (`national.js`)."""

    widget = forms.SelectMultiple(attrs={"size": 12, "data-pil-filter": "epci"})

    def valid_value(self, value) -> bool:
        # Every posted SIREN reaches the service, which checks it against the referential with the import's
        # messages ("L'EPCI de SIREN … est inconnu du référentiel.").
        return True


class TerritoryFields(forms.Form):
    name = forms.CharField(label=_("Nom (lib_ti)"), max_length=200)
    phases = forms.ModelMultipleChoiceField(
        label=_("Phases du programme"),
        queryset=ProgrammePhase.objects.order_by("starts_on"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Au moins une."),
    )
    epcis = EpciField(
        label=_("Périmètre : EPCI"),
        help_text=_(
            "Tapez une partie du nom ou le SIREN pour filtrer la liste, puis cliquez sur un EPCI pour l'ajouter ou le "
            "retirer. Au moins un EPCI doit avoir des communes dans la région du territoire. La population, les "
            "communes et la carte s'en déduisent."
        ),
        required=False,
    )

    def set_epci_choices(self) -> None:
        self.fields["epcis"].choices = epci_choices()


TERRITORY_DATA = tuple(TerritoryFields.base_fields)


class TerritoryCreateForm(TerritoryFields, BackOfficeForm):
    code = forms.CharField(
        label=_("Identifiant (id_ti)"),
        max_length=16,
        help_text=_(
            "Code ANCT de la forme ti-RRNN, RR étant le code INSEE de la région (ex. ti-4405 en Grand Est) : "
            "la région s'en déduit. Il ne change plus ensuite."
        ),
    )
    data_fields = ("code", *TERRITORY_DATA)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["code", *TERRITORY_DATA])
        self.set_epci_choices()


class TerritoryEditForm(TerritoryFields, VersionedForm):
    data_fields = TERRITORY_DATA

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_epci_choices()


# --- users ----------------------------------------------------------------------------------------------------

SCOPE_FIELD_HELP = _(
    "Selon le rôle : code INSEE de la région (pilote régional, services de l'État ; ex. 44), id_ti du territoire "
    "(équipe du territoire ; ex. ti-4401), id_projet du projet (porteur de projet) ou nom exact du financeur "
    "(financeur). Laissez vide pour la coordination nationale."
)


class RoleFields(forms.Form):
    kind = forms.ChoiceField(label=_("Rôle"), choices=[("", _("Choisissez un rôle")), *capitalised(Role.Kind.choices)])
    scope = forms.CharField(label=_("Périmètre du rôle"), required=False, max_length=300, help_text=SCOPE_FIELD_HELP)


class InviteForm(RoleFields, BackOfficeForm):
    email = forms.EmailField(
        label=_("Adresse électronique"),
        help_text=_(
            "Une personne sans compte reçoit un courriel pour choisir son mot de passe ; un compte existant reçoit "
            "ce rôle en plus des siens."
        ),
    )
    data_fields = ("email", "kind", "scope")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["email", "kind", "scope", "reason"])


class RoleForm(RoleFields, BackOfficeForm):
    data_fields = ("kind", "scope")


class ReasonForm(BackOfficeForm):
    """A confirmation (deactivate, remove a role, delete a theme): only its reason."""


class FeatureForm(DsfrBaseForm):
    reason = forms.CharField(
        label=_("Pourquoi ce projet est-il remarquable ?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Conservé dans l'historique du projet."),
        error_messages={"required": _("Indiquez pourquoi ce projet est mis en avant.")},
    )


class UnfeatureForm(DsfrBaseForm):
    reason = forms.CharField(
        label=_("Motif du retrait"),
        required=False,
        max_length=500,
        help_text=_("Facultatif ; conservé dans l'historique du projet."),
    )
