"""Back-office pages of a project (`/espace/projets/…`): create, edit, status, funding plan, indicator values,
milestones, and its history read as of a past date.

Views stay thin: they find the project among those the user may see (otherwise 404), check that the user may change
it (otherwise 403: the page answers "Accès refusé"), parse a form and call the use case of `services.py` or
`workflow.py`, which checks the permission again, validates, writes and records the history.

No lost edit: every form carries the project's version as read; a write over a newer version raises `ConflictError`
and nothing is written. The page then answers 409 with what changed meanwhile (field, the value saved by the other
person, the value entered here) and the form filled again with the values now saved. This is the governance pages'
pattern (`programme/manage_views.py`, `programme/editing.py`); projects carry an integer version of their own
(`Project.version`, also the API's ETag) rather than a signed snapshot, as their services define it.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pilotage.accounts.scopes import project_creation
from pilotage.core.models import ChangeLog
from pilotage.geo.models import Commune
from pilotage.programme.manage_views import back_office
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.programme.timeline import EMPTY, Change, TimelineEntry, Values, changes_of

from . import services, workflow
from .forms import (
    AsOfForm,
    DeleteForm,
    FundingLineForm,
    IndicatorValueForm,
    MilestoneForm,
    ProjectCreateForm,
    ProjectForm,
    StatusForm,
    funding_initial,
    project_initial,
)
from .history import project_as_of
from .models import FundingLine, IndicatorValue, Milestone, Organisation, Project, ProjectStatus
from .queries import indicator_series, projects_editable_by, projects_visible_to
from .services import ConflictError
from .templatetags.projects_tags import euros, number
from .views import total

# The timeline under each form shows the latest entries; the history page shows them all.
RECENT = 8


# --- access ---------------------------------------------------------------------------------------------------


def project_page(view: Callable) -> Callable:
    """Login required; PermissionDenied answers the French 403 page; a record that vanished (deleted, or out of
    scope as a service sees it) answers 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ObjectDoesNotExist as error:
            raise Http404(str(error)) from None

    return back_office(wrapper)


def editable_project(request: HttpRequest, id_projet: str) -> Project:
    project = (
        projects_visible_to(request.user)
        .select_related("territory__region", "phase", "owner", "commune")
        .filter(id_projet=id_projet)
        .first()
    )
    if project is None:
        raise Http404(_("Projet introuvable."))
    if not projects_editable_by(request.user).filter(pk=project.pk).exists():
        raise PermissionDenied(_("Vous pouvez consulter ce projet mais pas le modifier."))
    return project


def fresh(project: Project) -> Project:
    return Project.objects.select_related("territory__region", "phase", "owner", "commune").get(pk=project.pk)


# --- pages ----------------------------------------------------------------------------------------------------


SECTIONS = {
    "overview": gettext_lazy("Vue d'ensemble"),
    "edit": gettext_lazy("Fiche du projet"),
    "status": gettext_lazy("Statut"),
    "funding": gettext_lazy("Plan de financement"),
    "indicators": gettext_lazy("Indicateurs"),
    "milestones": gettext_lazy("Jalons"),
    "history": gettext_lazy("Historique"),
}


def url(name: str, project: Project, *args) -> str:
    return reverse(f"project_edit:{name}", args=[project.id_projet, *args])


def page(
    request: HttpRequest, template: str, project: Project, section: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    crumbs = [
        (_("Projets"), reverse("projects:list")),
        (project.title, reverse("projects:detail", args=[project.id_projet])),
        (str(SECTIONS[section]), None),
    ]
    context = {
        "project": project,
        "section": section,
        "sections": [(key, label, url(key, project)) for key, label in SECTIONS.items()],
        "breadcrumb": crumbs,
        "timeline_url": url("history", project),
        **context,
    }
    if "timeline" not in context:
        context["timeline"] = project_timeline(project, limit=RECENT)
        context["timeline_title"] = _("Dernières modifications")
    return render(request, f"projects/manage/{template}", context, status=status)


# --- writing through a service ----------------------------------------------------------------------------------


# Service error keys that are not the form's field names.
ERROR_FIELDS = {"owner.siren": "owner_siren", "owner.name": "owner_name"}


def add_service_errors(form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    names = {**ERROR_FIELDS, **(aliases or {})}
    for name, errors in error.message_dict.items():
        target = names.get(name, name)
        form.add_error(target if target in form.fields else None, errors)


@dataclass
class Outcome:
    ok: bool = False
    saved: Any = None
    conflict: ConflictError | None = None


def attempt(form, write: Callable[[], Any], aliases: dict[str, str] | None = None) -> Outcome:
    """Call the service once the form is valid; its ValidationErrors land on the form's fields."""
    if not form.is_valid():
        return Outcome()
    try:
        return Outcome(ok=True, saved=write())
    except ValidationError as error:
        add_service_errors(form, error, aliases)
    except ConflictError as conflict:
        return Outcome(conflict=conflict)
    return Outcome()


# --- values as people read them ---------------------------------------------------------------------------------


FIELD_LABELS = {
    "owner": gettext_lazy("Porteur"),
    "commune": gettext_lazy("Commune"),
    "funder": gettext_lazy("Financeur"),
    "indicator": gettext_lazy("Indicateur"),
    "project": gettext_lazy("Projet"),
    "id_projet": gettext_lazy("Identifiant"),
    "title": gettext_lazy("Titre"),
    "status": gettext_lazy("Statut"),
}
MONEY = {"total_cost", "requested", "granted", "paid"}


class ReadableValues(Values):
    """`programme.timeline.Values` with what a project's snapshots hold: themes by label, euros, indicator values."""

    def __init__(self, model, states: Iterable[dict]):
        states = list(states)
        super().__init__(model, states)
        keys = {str(pk) for state in states for pk in state.get("themes") or []}
        self.themes = {str(t.pk): t.label for t in Theme.objects.filter(pk__in=keys)} if keys else {}

    def label(self, name: str) -> str:
        if name in FIELD_LABELS and not (name == "status" and self.model is FundingLine):
            return str(FIELD_LABELS[name])
        return super().label(name)

    def show(self, name: str, value: Any) -> str:
        if value in (None, "", []):
            return EMPTY
        if name == "themes":
            return ", ".join(self.themes.get(str(pk), str(pk)) for pk in value)
        if name in MONEY:
            return euros(value)
        if name in ("target", "measured"):
            return number(value)
        return super().show(name, value)


def show_readable(name: str, value: Any, phase: ProgrammePhase | None = None) -> str:
    """A value of `history.readable_state` (the conflict's "read" and "current") or of a form's input, in French."""
    if value is None or value == "" or value == []:
        return EMPTY
    if name == "themes":
        codes = [t.code if isinstance(t, Theme) else str(t) for t in value]
        labels = dict(Theme.objects.filter(phase=phase, code__in=codes).values_list("code", "label")) if phase else {}
        return ", ".join(labels.get(code, code) for code in codes)
    if name == "status":
        return capfirst(dict(ProjectStatus.choices).get(value, value))
    if name == "owner":
        if isinstance(value, Organisation):
            value = {"name": value.name, "siren": value.siren}
        siren = value.get("siren")
        return f"{value.get('name') or ''} (SIREN {siren})".strip() if siren else value.get("name") or EMPTY
    if name == "commune":
        return str(value if isinstance(value, Commune) else Commune.objects.filter(pk=value).first() or value)
    if name in MONEY:
        return euros(value)
    if name == "public":
        return _("oui") if value else _("non")
    if isinstance(value, str) and (name == "on" or name.endswith("_on")):
        value = datetime.date.fromisoformat(value[:10])
    if isinstance(value, datetime.date):
        return date_format(value, "j F Y")
    return str(value)


def readable_input(name: str, value: Any) -> Any:
    """A form's input as `history.readable_state` holds it, to compare it with the version read."""
    if name == "themes":
        return sorted(t.code if isinstance(t, Theme) else str(t) for t in value or [])
    if name == "owner":
        return None if not value else {"name": value.get("name") or None, "siren": value.get("siren") or None}
    if name == "total_cost":
        return None if value is None else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def label_of(name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    try:
        return capfirst(Project._meta.get_field(name).verbose_name)
    except Exception:
        return name


# --- the conflict page --------------------------------------------------------------------------------------------


def conflict_context(
    conflict: ConflictError, submitted: dict[str, Any], record_rows: list[dict] | None = None
) -> dict[str, Any]:
    """What the conflict page shows: who saved meanwhile, each field changed (their value, the value entered here)
    and every write since the version read."""
    phase = conflict.project.phase
    read, current = conflict.read or {}, conflict.current
    theirs = [name for name in conflict.changed if name != "version"]
    mine = [
        name
        for name in submitted
        if name not in theirs
        and name in current
        and readable_input(name, submitted[name]) != read.get(name, current[name])
    ]
    rows = [
        {
            "label": label_of(name),
            "base": show_readable(name, read.get(name), phase) if read else "",
            "current": show_readable(name, current.get(name), phase),
            "submitted": show_readable(name, submitted[name], phase) if name in submitted else EMPTY,
            "theirs": name in theirs,
        }
        for name in theirs + mine
    ]
    last = conflict.changes[-1] if conflict.changes else None
    return {
        "rows": rows + (record_rows or []),
        "has_base": bool(read),
        "author": last["by"] if last else "",
        "at": parse_datetime(last["at"]) if last else None,
        "changes": readable_changes(conflict.changes),
    }


def readable_changes(changes: list[dict]) -> list[TimelineEntry]:
    """The history entries written since the version read (`ConflictError.changes`), as timeline entries."""
    by_name = {str(m._meta.verbose_name): m for m in (Project, FundingLine, IndicatorValue, Milestone)}
    kinds = [by_name.get(change["record"], Project) for change in changes]
    states: dict[type, list[dict]] = defaultdict(list)
    for model, change in zip(kinds, changes, strict=True):
        states[model].append({name: pair["before"] for name, pair in change["fields"].items()})
        states[model].append({name: pair["after"] for name, pair in change["fields"].items()})
    values = {model: ReadableValues(model, items) for model, items in states.items()}
    actions = dict(ChangeLog.Action.choices)
    rows = []
    for model, change in zip(kinds, changes, strict=True):
        shown = values[model]
        rows.append(
            TimelineEntry(
                at=parse_datetime(change["at"]),
                author=change["by"] or _("auteur inconnu"),
                action=f"{capfirst(change['record'])} — {actions.get(change['action'], change['action'])}",
                source="",
                reason=change["reason"],
                changes=[
                    Change(shown.label(name), shown.show(name, pair["before"]), shown.show(name, pair["after"]))
                    for name, pair in change["fields"].items()
                    if name != "project"
                ],
            )
        )
    return rows


def record_rows(current: dict[str, Any], submitted: dict[str, Any], labels: dict[str, str]) -> list[dict]:
    """For a funding line or a milestone: each field whose saved value differs from the one entered here."""
    return [
        {
            "label": labels[name],
            "base": "",
            "current": show_record_value(name, current.get(name)),
            "submitted": show_record_value(name, submitted.get(name)),
            "theirs": True,
        }
        for name in labels
        if readable_input(name, current.get(name)) != readable_input(name, submitted.get(name))
    ]


def show_record_value(name: str, value: Any) -> str:
    if name == "status" and value:  # a funding line's state
        return capfirst(dict(FundingLine.Status.choices).get(value, value))
    return show_readable(name, value)


# --- the timeline -------------------------------------------------------------------------------------------------


CHILD_FIELDS = {
    FundingLine: ("funder", "instrument", "requested", "granted", "paid", "decided_on", "status"),
    IndicatorValue: ("indicator", "on", "target", "measured"),
    Milestone: ("label", "planned_on", "actual_on"),
}
PROJECT_HISTORY = (
    "title",
    "territory",
    "phase",
    "themes",
    "status",
    "abandon_reason",
    "description",
    "owner",
    "commune",
    "reported_on",
    "start_on",
    "end_on",
    "total_cost",
    "public",
)


def history_entries(project: Project):
    """The entries of the project and of its funding lines, indicator values and milestones (deleted ones too: their
    snapshots name the project), newest first."""
    types = ContentType.objects.get_for_models(Project, *CHILD_FIELDS, for_concrete_models=False)
    children = [types[model].pk for model in CHILD_FIELDS]
    own = Q(content_type=types[Project], object_pk=str(project.pk))
    hanging = Q(content_type__in=children) & (Q(after__project=project.pk) | Q(before__project=project.pk))
    return ChangeLog.objects.filter(own | hanging).order_by("-at", "-id")


def project_timeline(project: Project, limit: int | None = None) -> list[TimelineEntry]:
    """Who, when, what and why, for the project and what hangs on it. A fixed number of queries: the entries, then
    one per kind of related record they name."""
    entries = list(history_entries(project)[:limit] if limit else history_entries(project))
    kinds = ContentType.objects.get_for_models(Project, *CHILD_FIELDS, for_concrete_models=False)
    models = {content_type.pk: model for model, content_type in kinds.items()}
    by_model: dict[type, list[ChangeLog]] = {}
    for entry in entries:
        by_model.setdefault(models[entry.content_type_id], []).append(entry)
    values = {
        model: ReadableValues(model, [s for e in items for s in (e.before or {}, e.after or {})])
        for model, items in by_model.items()
    }
    rows = []
    for entry in entries:
        model = models[entry.content_type_id]
        fields = PROJECT_HISTORY if model is Project else CHILD_FIELDS[model]
        action = capfirst(entry.get_action_display())
        if model is not Project:
            action = f"{subject_of(model, entry, values[model])} — {entry.get_action_display()}"
        rows.append(
            TimelineEntry(
                at=entry.at,
                author=entry.user_label or entry.get_source_display(),
                action=action,
                source=entry.get_source_display(),
                reason=entry.reason,
                changes=changes_of(entry, fields, values[model]),
            )
        )
    return rows


def subject_of(model: type, entry: ChangeLog, values: ReadableValues) -> str:
    state = entry.after or entry.before or {}
    if model is FundingLine:
        what = values.show("funder", state.get("funder"))
        if state.get("instrument"):
            what = f"{what} — {state['instrument']}"
        return _("Financement « %(line)s »") % {"line": what}
    if model is IndicatorValue:
        return _("Indicateur « %(indicator)s » au %(date)s") % {
            "indicator": values.show("indicator", state.get("indicator")),
            "date": values.show("on", state.get("on")),
        }
    return _("Jalon « %(label)s »") % {"label": state.get("label") or EMPTY}


# --- create ---------------------------------------------------------------------------------------------------------


def creation_territories(user):
    return Territory.objects.filter(project_creation(user)).order_by("name")


def where_to_create(request: HttpRequest, territories) -> tuple[Territory | None, ProgrammePhase | None]:
    """The territory and phase asked for (`?territoire=…&phase=…`), or the only possible ones."""
    code, phase_code = request.GET.get("territoire"), request.GET.get("phase")
    candidates = list(territories.prefetch_related("phases"))
    territory = next((t for t in candidates if t.code == code), None)
    if territory is None and len(candidates) == 1 and not code:
        territory = candidates[0]
    if territory is None:
        return None, None
    phases = sorted(territory.phases.all(), key=lambda p: p.starts_on, reverse=True)
    phase = next((p for p in phases if p.code == phase_code), None)
    if phase is None and len(phases) == 1 and not phase_code:
        phase = phases[0]
    return territory, phase


@project_page
def create(request: HttpRequest) -> HttpResponse:
    territories = creation_territories(request.user)
    if not territories.exists():
        raise PermissionDenied(_("Seules les équipes des territoires créent des projets, dans leur territoire."))
    territory, phase = where_to_create(request, territories)
    crumbs = [(_("Mon espace"), reverse("workspace")), (_("Nouveau projet"), None)]
    if territory is None or phase is None:
        return start(request, territories, territory, crumbs)
    kwargs = {"territory": territory, "phase": phase}
    form = (
        ProjectCreateForm(request.POST or None, **kwargs) if request.method == "POST" else ProjectCreateForm(**kwargs)
    )
    if request.method == "POST":
        outcome = attempt(
            form,
            lambda: services.create_project(request.user, form.data_for_service(), reason=form.reason),
            {"themes": "themes"},
        )
        if outcome.ok:
            messages.success(
                request,
                _("Projet créé : %(title)s (identifiant %(id)s).")
                % {"title": outcome.saved.title, "id": outcome.saved.id_projet},
            )
            return redirect(url("overview", outcome.saved))
    context = {
        "title": _("Nouveau projet — %(territory)s") % {"territory": territory.name},
        "intro": _("Phase %(phase)s. Le projet reçoit son identifiant à l'enregistrement.") % {"phase": phase.name},
        "form": form,
        "breadcrumb": crumbs,
        "cancel_url": reverse("workspace"),
        "submit_label": _("Créer le projet"),
    }
    return render(request, "projects/manage/create.html", context)


def start(request: HttpRequest, territories, territory: Territory | None, crumbs) -> HttpResponse:
    """Several places to create the project in: one link per (territory, phase), the latest phase first."""
    choices = [
        (t, phase)
        for t in territories.prefetch_related("phases")
        if territory is None or t == territory
        for phase in sorted(t.phases.all(), key=lambda p: p.starts_on, reverse=True)
    ]
    context = {"title": _("Nouveau projet"), "breadcrumb": crumbs, "choices": choices}
    return render(request, "projects/manage/start.html", context)


# --- the project ------------------------------------------------------------------------------------------------


@project_page
def overview(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    counts = {
        "funding": project.funding_lines.count(),
        "indicators": project.indicator_values.count(),
        "milestones": project.milestones.count(),
    }
    context = {
        "title": project.title,
        "counts": counts,
        "themes": list(project.themes.order_by("position", "code")),
        "next_statuses": [ProjectStatus(s).label for s in workflow.next_statuses(project.status)],
    }
    return page(request, "overview.html", project, "overview", context)


@project_page
def edit(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    kwargs = {"territory": project.territory, "phase": project.phase}

    def fresh_form(current: Project) -> ProjectForm:
        return ProjectForm(initial=project_initial(current), version=current.version, **kwargs)

    context: dict[str, Any] = {"title": _("Modifier la fiche du projet"), "cancel_url": url("overview", project)}
    status = 200
    if request.method != "POST":
        form = fresh_form(project)
    else:
        form = ProjectForm(request.POST, **kwargs)
        outcome = attempt(
            form,
            lambda: services.update_project(
                request.user,
                project,
                form.data_for_service(),
                expected_version=form.expected_version,
                reason=form.reason,
            ),
        )
        if outcome.ok:
            saved = outcome.saved
            changed = saved.version != form.expected_version
            messages.success(request, _("Modifications enregistrées.") if changed else _("Aucune modification."))
            return redirect(url("overview", saved))
        if outcome.conflict:
            project = fresh(project)
            context["conflict"] = conflict_context(outcome.conflict, form.data_for_service())
            form, status = fresh_form(project), 409
    return page(request, "form.html", project, "edit", {**context, "form": form}, status)


@project_page
def status(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    context: dict[str, Any] = {
        "title": _("Changer le statut"),
        "steps": project.status_changes.order_by("-at", "-id"),
        "cancel_url": url("overview", project),
    }
    code = 200
    form = StatusForm(project=project, version=project.version)
    if request.method == "POST":
        form = StatusForm(request.POST, project=project)
        outcome = attempt(form, lambda: transition(request, project, form), {"status": "to_status"})
        if outcome.ok:
            messages.success(
                request,
                _("Le projet est maintenant « %(status)s ».") % {"status": outcome.saved.get_status_display()},
            )
            return redirect(url("overview", outcome.saved))
        if outcome.conflict:
            submitted = {"status": form.cleaned_data["to_status"]}
            project = fresh(project)
            context["conflict"] = conflict_context(outcome.conflict, submitted)
            form, code = StatusForm(project=project, version=project.version), 409
    context["steps"] = project.status_changes.order_by("-at", "-id")
    return page(request, "status.html", project, "status", {**context, "form": form}, code)


def transition(request: HttpRequest, project: Project, form: StatusForm) -> Project:
    to_status, version = form.cleaned_data["to_status"], form.expected_version
    if to_status == StatusForm.ABANDON:
        return workflow.abandon(request.user, project, form.reason, expected_version=version)
    return workflow.advance(request.user, project, to_status, form.reason, expected_version=version)


# --- funding plan -----------------------------------------------------------------------------------------------


def funding_labels() -> dict[str, str]:
    return {
        name: str(FIELD_LABELS["funder"])
        if name == "funder"
        else capfirst(FundingLine._meta.get_field(name).verbose_name)
        for name in FundingLineForm.data_fields
    }


def funders() -> list[str]:
    return list(
        Organisation.objects.filter(kind=Organisation.Kind.FUNDER).order_by("name").values_list("name", flat=True)[:500]
    )


def funding_context(project: Project) -> dict[str, Any]:
    lines = list(project.funding_lines.select_related("funder").order_by("funder__name", "instrument", "pk"))
    totals = {name: total([getattr(line, name) for line in lines]) for name in ("requested", "granted", "paid")}
    return {"lines": lines, "funders": funders(), "totals": totals}


@project_page
def funding(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    return add_view(
        request,
        project,
        FundingLineForm,
        services.add_funding_line,
        title=_("Plan de financement"),
        done=_("Ligne de financement ajoutée."),
        section="funding",
        template="funding.html",
        listing=funding_context,
    )


def add_view(request, project, form_class, add, *, title, done, section, template, listing) -> HttpResponse:
    """The page of a project's records (funding lines, milestones) with the form adding one: the addition, its
    conflict with a concurrent change (409, what was entered kept), the page."""
    form = form_class(version=project.version)
    context: dict[str, Any] = {"title": title}
    code = 200
    if request.method == "POST":
        form = form_class(request.POST)
        outcome = attempt(
            form,
            lambda: add(
                request.user,
                project,
                form.data_for_service(),
                expected_version=form.expected_version,
                reason=form.reason,
            ),
        )
        if outcome.ok:
            messages.success(request, done)
            return redirect(url(section, project))
        if outcome.conflict:
            project, code = fresh(project), 409
            context["conflict"] = conflict_context(outcome.conflict, {})
            form = form_class(data=refilled(request.POST, project.version))
    return page(request, template, project, section, {**context, **listing(project), "form": form}, code)


def edit_view(
    request, project, record, form_class, update, *, title, done, section, initial, current, reload, labels, extra=None
):
    """The form changing one of a project's records: the update, its conflict with a concurrent change (409, the
    saved and the entered values side by side), the page."""
    context: dict[str, Any] = {"title": title, "cancel_url": url(section, project)}
    code = 200
    form = form_class(initial=initial(record), version=project.version)
    if request.method == "POST":
        form = form_class(request.POST)
        outcome = attempt(
            form,
            lambda: update(
                request.user,
                record,
                form.data_for_service(),
                expected_version=form.expected_version,
                reason=form.reason,
            ),
        )
        if outcome.ok:
            messages.success(request, done)
            return redirect(url(section, project))
        if outcome.conflict:
            project, code = fresh(project), 409
            record = reload(project)
            rows = record_rows(current(record), form.data_for_service(), labels)
            context["conflict"] = conflict_context(outcome.conflict, {}, rows)
            form = form_class(initial=initial(record), version=project.version)
    return page(request, "form.html", project, section, {**context, "form": form, **(extra or {})}, code)


def refilled(data, version: int):
    """An addition refused by a conflict: what was entered, kept, on the version now saved (nothing to overwrite)."""
    data = data.copy()
    data["version"] = str(version)
    return data


def project_line(project: Project, pk: int) -> FundingLine:
    return get_object_or_404(project.funding_lines.select_related("funder"), pk=pk)


@project_page
def funding_edit(request: HttpRequest, id_projet: str, pk: int) -> HttpResponse:
    project = editable_project(request, id_projet)
    line = project_line(project, pk)
    return edit_view(
        request,
        project,
        line,
        FundingLineForm,
        services.update_funding_line,
        title=_("Modifier le financement : %(line)s") % {"line": line},
        done=_("Ligne de financement enregistrée."),
        section="funding",
        initial=funding_initial,
        current=lambda saved: {**funding_initial(saved), "funder": saved.funder.name},
        reload=lambda fresh_project: project_line(fresh_project, pk),
        labels=funding_labels(),
        extra={"funders": funders()},
    )


@project_page
def funding_delete(request: HttpRequest, id_projet: str, pk: int) -> HttpResponse:
    project = editable_project(request, id_projet)
    line = project_line(project, pk)
    context: dict[str, Any] = {
        "title": _("Supprimer le financement : %(line)s") % {"line": line},
        "intro": _("La ligne quitte le plan de financement ; l'historique du projet garde ce qu'elle contenait."),
        "cancel_url": url("funding", project),
        "submit_label": _("Supprimer la ligne"),
        "danger": True,
    }
    code = 200
    form = DeleteForm(version=project.version)
    if request.method == "POST":
        form = DeleteForm(request.POST)
        outcome = attempt(
            form,
            lambda: services.delete_funding_line(
                request.user, line, reason=form.reason, expected_version=form.expected_version
            ),
        )
        if outcome.ok:
            messages.success(request, _("Ligne de financement supprimée."))
            return redirect(url("funding", project))
        if outcome.conflict:
            project, code = fresh(project), 409
            context["conflict"] = conflict_context(outcome.conflict, {})
            form = DeleteForm(initial={"reason": form.reason}, version=project.version)
    return page(request, "form.html", project, "funding", {**context, "form": form}, code)


# --- indicators and milestones ------------------------------------------------------------------------------------


@project_page
def indicators(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    initial: dict[str, Any] = {}
    chosen = request.GET.get("valeur")
    if chosen and chosen.isdigit():
        value = get_object_or_404(project.indicator_values, pk=int(chosen))
        initial = {"indicator": value.indicator_id, "on": value.on, "target": value.target, "measured": value.measured}
    form = IndicatorValueForm(initial=initial, phase=project.phase, version=project.version)
    context: dict[str, Any] = {"title": _("Indicateurs")}
    code = 200
    if request.method == "POST":
        form = IndicatorValueForm(request.POST, phase=project.phase)

        def write() -> IndicatorValue:
            data = form.cleaned_data
            return services.record_indicator_value(
                request.user,
                project,
                data["indicator"],
                data["on"],
                target=data["target"],
                measured=data["measured"],
                expected_version=form.expected_version,
                reason=form.reason,
            )

        outcome = attempt(form, write)
        if outcome.ok:
            messages.success(request, _("Valeur d'indicateur enregistrée."))
            return redirect(url("indicators", project))
        if outcome.conflict:
            project, code = fresh(project), 409
            context["conflict"] = conflict_context(outcome.conflict, {})
            form = IndicatorValueForm(data=refilled(request.POST, project.version), phase=project.phase)
    project_with_values = Project.objects.prefetch_related("indicator_values__indicator").get(pk=project.pk)
    context |= {"series": indicator_series(project_with_values), "form": form}
    context["has_indicators"] = form.fields["indicator"].queryset.exists()
    return page(request, "indicators.html", project, "indicators", context, code)


MILESTONE_LABELS = {
    "label": gettext_lazy("Jalon"),
    "planned_on": gettext_lazy("Date prévue"),
    "actual_on": gettext_lazy("Date réelle"),
}


def milestone_initial(milestone: Milestone) -> dict[str, Any]:
    return {"label": milestone.label, "planned_on": milestone.planned_on, "actual_on": milestone.actual_on}


@project_page
def milestones(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    return add_view(
        request,
        project,
        MilestoneForm,
        services.add_milestone,
        title=_("Jalons"),
        done=_("Jalon ajouté."),
        section="milestones",
        template="milestones.html",
        listing=lambda shown: {"milestones": shown.milestones.order_by("planned_on", "pk")},
    )


@project_page
def milestone_edit(request: HttpRequest, id_projet: str, pk: int) -> HttpResponse:
    project = editable_project(request, id_projet)
    milestone = get_object_or_404(project.milestones, pk=pk)
    return edit_view(
        request,
        project,
        milestone,
        MilestoneForm,
        services.update_milestone,
        title=_("Modifier le jalon : %(label)s") % {"label": milestone.label},
        done=_("Jalon enregistré."),
        section="milestones",
        initial=milestone_initial,
        current=milestone_initial,
        reload=lambda fresh_project: get_object_or_404(fresh_project.milestones, pk=pk),
        labels={name: str(label) for name, label in MILESTONE_LABELS.items()},
    )


# --- history ----------------------------------------------------------------------------------------------------------


@project_page
def history(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = editable_project(request, id_projet)
    form = AsOfForm(request.GET if "date" in request.GET else None)
    context: dict[str, Any] = {
        "title": _("Historique du projet"),
        "timeline": project_timeline(project),
        "timeline_title": _("Toutes les modifications"),
        "as_of_form": form,
    }
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["date"]
        end_of_day = timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
        context["as_of_date"] = day
        context["as_of"] = as_of_view(project_as_of(project, end_of_day), project.phase)
    return page(request, "history.html", project, "history", context)


def as_of_view(state: dict | None, phase: ProgrammePhase) -> dict[str, Any] | None:
    """`history.project_as_of` made readable: labels, French dates, euros."""
    if state is None:
        return None
    names = (
        "title",
        "status",
        "themes",
        "owner",
        "commune",
        "reported_on",
        "start_on",
        "end_on",
        "total_cost",
        "public",
    )
    facts = [(label_of(name), show_readable(name, state.get(name), phase)) for name in names]
    day = functools.partial(show_readable, "on")
    funding = [{**line, "decided_on": day(line.get("decided_on"))} for line in state.get("funding", [])]
    indicators = [
        {**item, "values": [{**value, "on": day(value["on"])} for value in item["values"]]}
        for item in state.get("indicators", [])
    ]
    milestones = [
        {**m, "planned_on": day(m.get("planned_on")), "actual_on": day(m.get("actual_on"))}
        for m in state.get("milestones", [])
    ]
    return {"facts": facts, "funding": funding, "indicators": indicators, "milestones": milestones}
