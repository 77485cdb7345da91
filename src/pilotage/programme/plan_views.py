"""Back-office pages of the action plan: a territory's plan (read, draft, submit, validate, return) and the regional
pilot's queue of submitted plans.

Views stay thin: every write goes through `workflows` (or `plan_drafts`), which check the permission and the plan's
state. A PermissionDenied answers the 403 page; a ValidationError redisplays the page with its message, nothing
changed.
"""

import datetime
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from dsfr.forms import DsfrBaseForm

from pilotage.accounts.models import Role
from pilotage.accounts.scopes import is_national, is_regional_pilot, is_state_services, is_territory_team, roles_of
from pilotage.core.history import history_of
from pilotage.core.models import ChangeLog

from .models import ActionPlan, ProgrammePhase, Territory
from .plan_drafts import save_draft
from .workflows import current_plan, return_plan, submit_plan, validate_plan

Status = ActionPlan.Status
EDITABLE = (Status.DRAFT, Status.RETURNED)
STALE = _("Ce plan a changé depuis l'affichage de la page : rechargez-la pour voir sa dernière version.")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")  # what a date input sends and expects, whatever the language


class DraftForm(DsfrBaseForm):
    summary = forms.CharField(
        label=gettext_lazy("Résumé du plan d'actions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Ses axes et ses principales actions, tels que la Région les lira."),
    )
    expected_validation_on = forms.DateField(
        label=gettext_lazy("Date prévue de la validation par le Conseil régional"),
        required=False,
        widget=DateInput(),
    )


class ValidateForm(DsfrBaseForm):
    decided_on = forms.DateField(
        label=gettext_lazy("Date de la décision du Conseil régional"),
        widget=DateInput(),
        help_text=gettext_lazy("La date de la délibération, pas celle de sa saisie ; jamais dans le futur."),
        error_messages={"required": gettext_lazy("La date de la décision du Conseil régional est obligatoire.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decided_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class ReturnForm(DsfrBaseForm):
    reason = forms.CharField(
        label=gettext_lazy("Motif du renvoi"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Ce que l'équipe du territoire doit modifier ; il lui est envoyé par courriel."),
        error_messages={"required": gettext_lazy("Le motif du renvoi est obligatoire.")},
    )


FORMS = {"draft": DraftForm, "validate": ValidateForm, "return": ReturnForm}


def can_read_plans(user, territory: Territory) -> bool:
    """Who reads a territory's action plans in the back office: its team, its Region's pilot, the national level."""
    # State services read all of their region (PRODUCT.md); they neither submit nor decide.
    return (
        is_national(user)
        or is_territory_team(user, territory)
        or is_regional_pilot(user, territory.region_id)
        or is_state_services(user, territory.region_id)
    )


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    context = {"title": _("Accès refusé"), "message": message}
    return render(request, "programme/plan/forbidden.html", context, status=403)


def back_office(view: Callable) -> Callable:
    """Login required; a PermissionDenied raised by the view or a workflow answers the French 403 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, str(exc) or _("Cette page n'entre pas dans le périmètre de vos rôles."))

    return login_required(wrapper)


def readable_territory(request: HttpRequest, code: str) -> Territory:
    territory = get_object_or_404(Territory.objects.select_related("region"), code=code)
    if not can_read_plans(request.user, territory):
        raise PermissionDenied(
            _(
                "Le plan d'actions de %(territory)s est réservé à l'équipe du territoire, au pilote de sa Région et à "
                "la coordination nationale."
            )
            % {"territory": territory.name}
        )
    return territory


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class TimelineEntry:
    entry: ChangeLog
    version: int | None
    changes: list[Change]

    @property
    def author(self) -> str:
        return self.entry.user_label or _("système")


def display_value(name: str, value) -> str:
    if value in (None, ""):
        return "—"
    if name == "status":
        return str(Status(value).label) if value in Status.values else str(value)
    if isinstance(value, str) and name.endswith("_on"):
        try:
            return formats.date_format(datetime.date.fromisoformat(value), "j F Y")
        except ValueError:
            return value
    return Truncator(str(value)).chars(120)


def changes_of(entry: ChangeLog) -> list[Change]:
    """The fields a history entry changed (all that it set, for a creation), in words."""
    before, after = entry.before or {}, entry.after or {}
    out = []
    for name, value in after.items():
        if name in ("territory", "phase", "version") or before.get(name) == value:
            continue
        if entry.before is None and value in (None, ""):
            continue
        try:
            label = str(ActionPlan._meta.get_field(name).verbose_name)
        except Exception:  # a field that no longer exists: show its name
            label = name
        label = label[:1].upper() + label[1:]
        out.append(Change(label, display_value(name, before.get(name)), display_value(name, value)))
    return out


def timeline_of(plans: list[ActionPlan]) -> list[TimelineEntry]:
    """The history of every version, newest first, in one query."""
    if not plans:
        return []
    versions = {str(p.pk): p.version for p in plans}
    entries = functools.reduce(operator.or_, (history_of(p) for p in plans)).order_by("-at", "-id")
    return [TimelineEntry(e, versions.get(e.object_pk), changes_of(e)) for e in entries]


@dataclass
class PhaseSection:
    phase: ProgrammePhase
    versions: list[ActionPlan]  # newest first
    timeline: list[TimelineEntry]
    action_forms: dict[str, forms.Form] = field(default_factory=dict)
    can_submit: bool = False
    errors: list[str] = field(default_factory=list)  # of an action whose form is no longer offered

    @property
    def current(self) -> ActionPlan | None:
        return self.versions[0] if self.versions else None

    @property
    def last_return(self) -> ActionPlan | None:
        """The version the Region returned most recently, while the team prepares the next one."""
        if self.current is None or self.current.status != Status.DRAFT:
            return None
        return next((p for p in self.versions[1:] if p.status == Status.RETURNED), None)

    @property
    def prefix(self) -> str:
        return f"phase{self.phase.pk}"


def add_forms(section: PhaseSection, user, territory: Territory, in_phase: bool) -> None:
    """The forms a user may use on this phase's plan (the workflows check again on submission)."""
    current = section.current
    team = is_territory_team(user, territory) and in_phase
    if team and (current is None or current.status in EDITABLE):
        initial = {}
        if current is not None:
            initial = {"summary": current.summary, "expected_validation_on": current.expected_validation_on}
        section.action_forms["draft"] = DraftForm(initial=initial, prefix=section.prefix)
    section.can_submit = team and current is not None and current.status in EDITABLE
    if current is not None and current.status == Status.SUBMITTED and is_regional_pilot(user, territory.region_id):
        section.action_forms["validate"] = ValidateForm(prefix=section.prefix)
        section.action_forms["return"] = ReturnForm(prefix=section.prefix)


def phase_sections(user, territory: Territory) -> list[PhaseSection]:
    """One section per phase of the territory (and per phase it has a plan in), the latest phase first."""
    plans = list(
        ActionPlan.objects.filter(territory=territory).select_related("phase").order_by("phase__starts_on", "-version")
    )
    own_phases = {p.pk: p for p in territory.phases.all()}
    phases = own_phases | {p.phase_id: p.phase for p in plans}
    timeline = timeline_of(plans)
    sections = []
    for phase in sorted(phases.values(), key=lambda p: p.starts_on, reverse=True):
        versions = [p for p in plans if p.phase_id == phase.pk]
        keys = {str(p.pk) for p in versions}
        section = PhaseSection(phase, versions, [t for t in timeline if t.entry.object_pk in keys])
        add_forms(section, user, territory, phase.pk in own_phases)
        sections.append(section)
    return sections


def render_plan_page(
    request: HttpRequest, territory: Territory, bound: tuple[int, str, forms.Form] | None = None
) -> HttpResponse:
    sections = phase_sections(request.user, territory)
    page_errors: list[str] = []
    if bound:  # the form just posted, with its errors, in place of the blank one
        phase_pk, kind, form = bound
        section = next((s for s in sections if s.phase.pk == phase_pk), None)
        if section and (kind in section.action_forms or (kind == "submit" and section.can_submit)):
            section.action_forms[kind] = form
        elif section:  # the plan moved on (decided, resubmitted) since the page was shown
            section.errors = [str(e) for e in form.non_field_errors()]
        else:  # a phase the territory is not in
            page_errors = [str(e) for e in form.non_field_errors()]
    context = {
        "title": _("Plan d'actions — %(territory)s") % {"territory": territory.name},
        "breadcrumb": [
            (_("Mon espace"), reverse("workspace")),
            (territory.name, reverse("programme:detail", args=[territory.code])),
            (_("Plan d'actions"), None),
        ],
        "territory": territory,
        "sections": sections,
        "page_errors": page_errors,
    }
    return render(request, "programme/plan/detail.html", context)


@back_office
def plan_detail(request: HttpRequest, code: str) -> HttpResponse:
    return render_plan_page(request, readable_territory(request, code))


# --- writing ---------------------------------------------------------------------------------------------------


def done(request: HttpRequest, territory: Territory, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("plans:detail", args=[territory.code]))


def posted_plan(request: HttpRequest, territory: Territory) -> ActionPlan:
    """The version the form was shown for; it must still be the current one (no decision on a stale page)."""
    plan = get_object_or_404(
        ActionPlan.objects.select_related("territory", "phase"), pk=request.POST.get("plan") or 0, territory=territory
    )
    latest = current_plan(territory, plan.phase)
    if latest is None or latest.pk != plan.pk:
        raise ValidationError(STALE)
    return plan


def run(request, territory, phase_pk: int, kind: str, form: forms.Form | None, action: Callable) -> HttpResponse:
    """Call the workflow; on a ValidationError the page comes back with the message and the input, nothing written."""
    try:
        return action()
    except ValidationError as exc:
        form = form or FORMS.get(kind, forms.Form)(request.POST, prefix=f"phase{phase_pk}")
        form.is_valid()
        form.add_error(None, ValidationError(exc.messages))  # a model error may name a field the form lacks
        return render_plan_page(request, territory, (phase_pk, kind, form))
    except IntegrityError:
        form = form or forms.Form(request.POST)
        form.is_valid()
        form.add_error(None, STALE)
        return render_plan_page(request, territory, (phase_pk, kind, form))


@back_office
@require_POST
def plan_save_draft(request: HttpRequest, code: str) -> HttpResponse:
    territory = readable_territory(request, code)
    phase = get_object_or_404(ProgrammePhase, code=request.POST.get("phase", ""))
    form = DraftForm(request.POST, prefix=f"phase{phase.pk}")

    def action() -> HttpResponse:
        if not form.is_valid():
            raise ValidationError(_("Corrigez les champs signalés."))
        plan = save_draft(request.user, territory, phase, **form.cleaned_data)
        message = _("Brouillon du plan d'actions (version %(v)s) enregistré.") % {"v": plan.version}
        return done(request, territory, message)

    return run(request, territory, phase.pk, "draft", form, action)


def _decision_view(kind: str, apply: Callable[[HttpRequest, ActionPlan, forms.Form | None], str]) -> Callable:
    """A POST that acts on the posted plan version through a workflow function and reports `apply`'s message."""

    @back_office
    @require_POST
    def view(request: HttpRequest, code: str) -> HttpResponse:
        territory = readable_territory(request, code)
        plan = get_object_or_404(ActionPlan, pk=request.POST.get("plan") or 0, territory=territory)
        form_class = FORMS.get(kind)
        form = form_class(request.POST, prefix=f"phase{plan.phase_id}") if form_class else None

        def action() -> HttpResponse:
            if form is not None and not form.is_valid():
                raise ValidationError(_("Corrigez les champs signalés."))
            return done(request, territory, apply(request, posted_plan(request, territory), form))

        return run(request, territory, plan.phase_id, kind, form, action)

    return view


def _submit(request, plan, form) -> str:
    result = submit_plan(request.user, plan)
    return _("Plan d'actions (version %(v)s) soumis à la Région.") % {"v": result.version}


def _validate(request, plan, form) -> str:
    result = validate_plan(request.user, plan, decided_on=form.cleaned_data["decided_on"])
    return _("Plan d'actions (version %(v)s) validé ; l'équipe du territoire est prévenue.") % {"v": result.version}


def _return(request, plan, form) -> str:
    result = return_plan(request.user, plan, reason=form.cleaned_data["reason"])
    return _("Plan d'actions (version %(v)s) renvoyé ; l'équipe du territoire est prévenue.") % {"v": result.version}


plan_submit = _decision_view("submit", _submit)
plan_validate = _decision_view("validate", _validate)
plan_return = _decision_view("return", _return)


# --- the regional pilot's queue ----------------------------------------------------------------------------------


def pilot_regions(user) -> list[str]:
    return sorted({r.region_id for r in roles_of(user) if r.kind == Role.Kind.REGIONAL_PILOT and r.region_id})


def submitted_plans(user):
    """The plans waiting for a decision that this user may see: their Regions' (everybody's for the national level),
    oldest submission first."""
    plans = ActionPlan.objects.filter(status=Status.SUBMITTED)
    if not is_national(user):
        plans = plans.filter(territory__region_id__in=pilot_regions(user))
    return plans.select_related("territory__region", "phase").order_by(
        F("submitted_on").asc(nulls_last=True), "territory__name", "pk"
    )


@back_office
def plan_queue(request: HttpRequest) -> HttpResponse:
    if not (is_national(request.user) or pilot_regions(request.user)):
        raise PermissionDenied(_("La file des plans d'actions à décider est réservée aux pilotes régionaux."))
    plans = list(submitted_plans(request.user))
    today = timezone.localdate()
    rows = [(p, (today - p.submitted_on).days if p.submitted_on else None) for p in plans]
    context = {
        "title": _("Plans d'actions à décider"),
        "breadcrumb": [(_("Mon espace"), reverse("workspace")), (_("Plans d'actions à décider"), None)],
        "rows": rows,
        "several_regions": len({p.territory.region_id for p in plans}) > 1 or is_national(request.user),
    }
    return render(request, "programme/plan/queue.html", context)
