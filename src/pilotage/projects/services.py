"""Write use cases of projects. Each checks the acting user's scope, writes in one transaction and records history:
a `ChangeLog` entry per record written (before/after snapshots) and a `ProjectStatusChange` each time a project's
status is set or changes.

- `create_project`, `update_project`, `add_funding_line`, `update_funding_line`, `delete_funding_line`,
  `decide_funding_line`, `record_indicator_value`, `add_milestone`, `update_milestone`: one write by an acting user
  (pages and API), with optimistic locking on `Project.version` (`ConflictError`); status transitions are in
  `workflow.py`. See the section "one write by an acting user" below;
- `save_project`: one project, as a form has built it (the older entry point, kept for its callers);
- `import_projects`: a whole file (see `importer.py` for the format and its checks), all-or-nothing, in bulk:
  a fixed number of queries to check it, batched writes. Projects are upserted by `id_projet`; funding lines by
  (project, funder name whatever its case, instrument) and never deleted: a line absent from the file stays.
  A project whose every value already matches is `unchanged` and gets no write at all (no history, same
  `updated_at`). Setting a project to `abandoned` needs no reason on import: the import's reason is recorded.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pilotage.accounts.scopes import funding_decision, project_creation
from pilotage.core.bulk import insert_rows
from pilotage.core.history import Action, Source, build_change, record_change, snapshot
from pilotage.geo.models import Commune
from pilotage.opendata.importing import LONG_FILE_ROWS, Progress, chunks, import_reason
from pilotage.opendata.parsing import ParseError, parse_siren
from pilotage.opendata.readers import ReadError
from pilotage.opendata.report import ImportReport
from pilotage.programme.models import ProgrammePhase, Territory, Theme

from .importer import (
    KEEP,
    CheckedFile,
    FundingDraft,
    OrganisationRef,
    ProjectDraft,
    check_tables,
    name_key,
    read_tables,
)
from .models import (
    FundingLine,
    Indicator,
    IndicatorValue,
    Milestone,
    Organisation,
    Project,
    ProjectStatus,
    ProjectStatusChange,
)
from .queries import projects_editable_by, projects_visible_to

PROJECT_FIELDS = (
    "id_projet",
    "territory",
    "phase",
    "title",
    "description",
    "status",
    "abandon_reason",
    "owner",
    "commune",
    "reported_on",
    "start_on",
    "end_on",
    "total_cost",
    "public",
)
FUNDING_FIELDS = ("project", "funder", "instrument", "requested", "granted", "paid", "decided_on", "status")
ORGANISATION_FIELDS = ("name", "siren", "kind")
BATCH = 500


def project_state(project: Project, theme_ids: Iterable[int]) -> dict[str, Any]:
    """The history snapshot of a project; its themes are given (as keys, like `snapshot` does) to cost no query.
    The cost has its two decimals, as stored, so that 85000 and 85000.00 are the same state."""
    state = snapshot(project, PROJECT_FIELDS)
    if project.total_cost is not None:
        state["total_cost"] = f"{Decimal(project.total_cost):.2f}"
    return {**state, "themes": sorted(str(pk) for pk in theme_ids)}


def versioned_state(project: Project, theme_ids: Iterable[int]) -> dict[str, Any]:
    """What the history keeps of a project: its state and the version it is (to tell, on an edit conflict, what
    changed since the version a client read). The version is left out of `project_state`, which says whether a
    write changes anything."""
    return {**project_state(project, theme_ids), "version": project.version}


def actor_label(user, user_label: str = "") -> str:
    return (user_label or (str(user) if getattr(user, "is_authenticated", False) else ""))[:200]


def status_change(
    project: Project, *, user=None, user_label: str = "", reason: str = "", at=None
) -> ProjectStatusChange:
    """An unsaved record of the project's current status, for `save` or `bulk_create`."""
    return ProjectStatusChange(
        project=project,
        status=project.status,
        at=at or timezone.now(),
        by_label=actor_label(user, user_label),
        reason=reason,
    )


# --- one project ----------------------------------------------------------------------------------------------------


def check_may_write(project: Project, user, *, territory_changed: bool) -> None:
    """A user (None: the operator, who may do everything) may change the projects of their scope, and create or move
    projects only in the territories they may edit (pilotage.accounts.scopes)."""
    if user is None:
        return
    if project.pk is not None and not projects_editable_by(user).filter(pk=project.pk).exists():
        raise PermissionDenied(_("Ce projet est hors de votre périmètre."))
    if territory_changed and not Territory.objects.filter(project_creation(user), pk=project.territory_id).exists():
        raise PermissionDenied(_("Ce territoire est hors de votre périmètre."))


def save_project(
    project: Project,
    *,
    theme_ids: Iterable[int] | None = None,
    user=None,
    user_label: str = "",
    source: str = Source.WEB,
    reason: str = "",
) -> bool:
    """Create or update one validated project (and its themes when given); False when nothing changed.

    Abandoning a project needs a reason (`abandon_reason`), except on import where the import's reason is used.
    """
    with transaction.atomic():
        stored = Project.objects.select_for_update().filter(pk=project.pk).first() if project.pk else None
        old_themes = set(stored.themes.values_list("pk", flat=True)) if stored else set()
        themes = old_themes if theme_ids is None else set(theme_ids)
        check_may_write(project, user, territory_changed=stored is None or stored.territory_id != project.territory_id)
        before = versioned_state(stored, old_themes) if stored else None
        status_changed = stored is None or stored.status != project.status
        if status_changed and project.status == ProjectStatus.ABANDONED and not project.abandon_reason.strip():
            if source != Source.IMPORT:
                raise ValidationError({"abandon_reason": _("Indiquez le motif de l'abandon.")})
            project.abandon_reason = reason or str(Source.IMPORT.label)
        if stored and project_state(stored, old_themes) == project_state(project, themes):
            return False
        if stored:
            project.version = stored.version + 1
        project.save()
        if themes != old_themes:
            project.themes.set(sorted(themes))
        if status_changed:
            status_change(project, user=user, user_label=user_label, reason=reason).save()
        action = Action.CREATE if stored is None else Action.TRANSITION if status_changed else Action.UPDATE
        history = {"user": user, "user_label": user_label, "source": source, "reason": reason}
        record_change(project, action, before, versioned_state(project, themes), **history)
    return True


# --- a file -----------------------------------------------------------------------------------------------------------


@dataclass
class FundingChange:
    line: FundingLine  # unsaved when created
    funder: OrganisationRef
    before: dict | None  # None when created
    fields: set[str]


@dataclass
class ProjectChange:
    project: Project  # unsaved when created
    created: bool
    theme_ids: set[int]
    fields: set[str] = field(default_factory=set)  # model attributes changed
    themes_changed: bool = False
    owner: Any = KEEP  # an OrganisationRef to set, or KEEP
    funding: list[FundingChange] = field(default_factory=list)
    before: dict | None = None  # the history snapshot of an updated project

    @property
    def project_changed(self) -> bool:
        return self.created or bool(self.fields) or self.themes_changed

    @property
    def changed(self) -> bool:
        return self.project_changed or bool(self.funding)

    @property
    def status_changed(self) -> bool:
        return self.created or "status" in self.fields


def import_projects(
    source: str | Path,
    *,
    filename: str | None = None,
    funding_source: str | Path | None = None,
    funding_filename: str | None = None,
    dry_run: bool = False,
    user=None,
    user_label: str = "",
    progress: Progress | None = None,
) -> ImportReport:
    """Check a whole projects file (and its funding lines), then (unless `dry_run`) write it in one transaction.

    With a `user`, only their scope may be written (rows outside it are errors); without, everything (the operator).
    Bad input never raises: it is in the report.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        tables = read_tables(
            source, filename=filename, funding_source=funding_source, funding_filename=funding_filename
        )
    except ReadError as error:
        report.errors.extend(error.as_errors())
        return report
    report.rows = len(tables.projects.rows)
    if progress and report.rows >= LONG_FILE_ROWS:
        progress(_("%(count)s lignes lues, vérification…") % {"count": report.rows})
    reason = import_reason(source, filename)
    with transaction.atomic():
        checked = check_tables(tables, user=user, progress=progress if report.rows >= LONG_FILE_ROWS else None)
        report.errors.extend(checked.errors)
        if not report.ok:
            return report
        changes = plan_changes(checked, reason)
        for change in changes:
            report.count(created=change.created, changed=change.changed)
        if not dry_run:
            history = {"user": user, "user_label": user_label, "source": Source.IMPORT, "reason": reason}
            apply_changes([change for change in changes if change.changed], history, progress)
    return report


def plan_changes(checked: CheckedFile, reason: str) -> list[ProjectChange]:
    """What the import would change, project by project (no query: the checked file holds the database state)."""
    changes: dict[str, ProjectChange] = {}
    for draft in checked.projects:
        changes[draft.id_projet] = _project_change(draft, reason)
    for line in checked.funding:
        change = changes.get(line.id_projet)
        if change is None:  # a project of the database, absent from the projects sheet
            project = checked.existing[line.id_projet]
            change = changes[line.id_projet] = ProjectChange(project, False, set(project.theme_ids))
        funding = _funding_change(change.project, line)
        if funding is not None:
            change.funding.append(funding)
    return list(changes.values())


def _unsaved(model: type[models.Model], **values: Any) -> models.Model:
    """`model(**values)` for values given by attribute name (`territory_id`), the other fields at their default:
    given by position, Django sets them without its handling of keyword arguments (an import builds tens of
    thousands of objects)."""
    return model(*[values[f.attname] if f.attname in values else f.get_default() for f in model._meta.concrete_fields])


def _state(project: Project) -> dict:
    return versioned_state(project, project.theme_ids)


def _project_change(draft: ProjectDraft, reason: str) -> ProjectChange:
    existing = draft.existing
    if existing is None:
        project = _unsaved(Project, id_projet=draft.id_projet, **draft.fields)
        project.loaded_funding = []
        change = ProjectChange(project, True, set(draft.theme_ids), set(draft.fields), bool(draft.theme_ids))
        updates: dict[str, Any] = {}
    else:
        change = ProjectChange(existing, False, set(draft.theme_ids))
        updates = {name: value for name, value in draft.fields.items() if getattr(existing, name) != value}
        change.themes_changed = change.theme_ids != existing.theme_ids
    project = change.project
    if draft.owner is None and project.owner_id is not None:
        updates["owner"] = None
    elif isinstance(draft.owner, OrganisationRef) and (draft.owner.pk is None or draft.owner.pk != project.owner_id):
        change.owner = draft.owner  # set once the organisations to create have their keys
        change.fields.add("owner_id")
    status = updates.get("status", project.status)
    if (change.created or "status" in updates) and status == ProjectStatus.ABANDONED and not project.abandon_reason:
        updates["abandon_reason"] = reason
    change.fields.update(updates)
    if not change.created and change.project_changed:
        change.before = _state(project)  # only for a project that changes: comparing costs no snapshot
    for name, value in updates.items():
        setattr(project, name, value)
    return change


def _funding_change(project: Project, draft: FundingDraft) -> FundingChange | None:
    key = (name_key(draft.funder.name), draft.instrument)
    line = next((ln for ln in project.loaded_funding if (name_key(ln.funder.name), ln.instrument) == key), None)
    if line is None:
        line = _unsaved(FundingLine, instrument=draft.instrument, **draft.fields)
        line.status = FundingLine.Status.REQUESTED if line.granted is None else FundingLine.Status.GRANTED
        return FundingChange(line, draft.funder, None, set(draft.fields))
    fields = {name for name, value in draft.fields.items() if getattr(line, name) != value}
    if not fields:
        return None
    before = snapshot(line, FUNDING_FIELDS)
    for name in fields:
        setattr(line, name, draft.fields[name])
    if line.status == FundingLine.Status.REQUESTED and line.granted is not None:
        line.status = FundingLine.Status.GRANTED
        fields.add("status")
    return FundingChange(line, OrganisationRef(line.funder_id, line.funder.name), before, fields)


def apply_changes(changes: list[ProjectChange], history: dict, progress: Progress | None) -> None:
    """Write the changed projects, their themes, status changes, funding lines and history, in batches."""
    say = progress if progress and len(changes) >= LONG_FILE_ROWS else (lambda message: None)
    say(_("Enregistrement de %(count)s projets…") % {"count": len(changes)})
    entries = []
    organisations = _organisations(changes, entries, history)
    now = timezone.now()
    for change in changes:
        if change.owner is not KEEP:
            change.project.owner = organisations[change.owner.pk or change.owner.key]
        if change.project_changed:
            # What save() and refresh_search_text() compute, set here so that the batched writes carry it.
            change.project.search_text = change.project.build_search_text()
    insert_rows([c.project for c in changes if c.created], batch_size=BATCH, keys=True)
    updated = [c for c in changes if not c.created and c.project_changed]
    for change in updated:
        change.project.updated_at = now
        change.project.version += 1
    fields = {Project._meta.get_field(name).name for c in updated for name in c.fields}
    fields |= {"search_text", "updated_at", "version"}
    Project.objects.bulk_update([c.project for c in updated], sorted(fields), batch_size=BATCH)
    _write_themes(changes)
    label = actor_label(history["user"], history["user_label"])
    insert_rows(
        [
            _unsaved(
                ProjectStatusChange,
                project_id=c.project.pk,
                status=c.project.status,
                at=now,
                by_label=label,
                reason=history["reason"],
            )
            for c in changes
            if c.status_changed
        ],
        batch_size=BATCH,
    )
    say(_("Projets enregistrés ; plans de financement et historique…"))
    _write_funding(changes, organisations, entries, history)
    for change in changes:
        if change.project_changed:
            action = Action.CREATE if change.created else Action.TRANSITION if change.status_changed else Action.UPDATE
            entries.append(build_change(change.project, action, change.before, _state_after(change), **history))
    insert_rows(entries, batch_size=BATCH)
    say(_("%(count)s projets enregistrés.") % {"count": len(changes)})


def _state_after(change: ProjectChange) -> dict:
    return versioned_state(change.project, change.theme_ids)


def _organisations(changes: list[ProjectChange], entries: list, history: dict) -> dict:
    """The organisations the changes point to, by key (pk, or the file's key of one to create), created in bulk."""
    refs = [c.owner for c in changes if c.owner is not KEEP] + [f.funder for c in changes for f in c.funding]
    new: dict[tuple, Organisation] = {}
    for ref in refs:
        if ref.pk is None and ref.key not in new:
            new[ref.key] = Organisation(name=ref.name, siren=ref.siren, kind=ref.kind)
    Organisation.objects.bulk_create(list(new.values()), batch_size=BATCH)
    for organisation in new.values():
        entries.append(
            build_change(organisation, Action.CREATE, None, snapshot(organisation, ORGANISATION_FIELDS), **history)
        )
    existing = Organisation.objects.in_bulk({ref.pk for ref in refs if ref.pk is not None})
    return {**existing, **new}


def _write_themes(changes: list[ProjectChange]) -> None:
    through = Project.themes.through
    for chunk in chunks([c.project.pk for c in changes if c.themes_changed and not c.created]):
        through.objects.filter(project_id__in=chunk).delete()
    links = [
        _unsaved(through, project_id=c.project.pk, theme_id=theme_id)
        for c in changes
        if c.themes_changed
        for theme_id in sorted(c.theme_ids)
    ]
    insert_rows(links, batch_size=BATCH)


def _write_funding(changes: list[ProjectChange], organisations: dict, entries: list, history: dict) -> None:
    created, updated = [], []
    for change in changes:
        for funding in change.funding:
            funding.line.project = change.project
            if funding.before is None:
                funding.line.funder = organisations[funding.funder.pk or funding.funder.key]
                created.append(funding)
            else:
                updated.append(funding)
    insert_rows([f.line for f in created], batch_size=BATCH, keys=True)
    fields = sorted({name for f in updated for name in f.fields})
    if fields:
        FundingLine.objects.bulk_update([f.line for f in updated], fields, batch_size=BATCH)
    for funding in created + updated:
        action = Action.CREATE if funding.before is None else Action.UPDATE
        entries.append(
            build_change(funding.line, action, funding.before, snapshot(funding.line, FUNDING_FIELDS), **history)
        )


# --- one write by an acting user (pages and API) ----------------------------------------------------------------------
#
# Each use case below takes the acting user (None: the operator) and input already parsed into Python values, checks
# the user's scope (a project they may not see: `Project.DoesNotExist`, answered 404; one they may see but not change:
# `PermissionDenied`, 403), validates (`ValidationError` with French messages by field, 422), writes in one
# transaction and records history with its reason. Every write to a project or to what hangs on it (funding lines,
# indicator values, milestones) increments `Project.version`; given `expected_version`, a write over a newer version
# raises `ConflictError` and changes nothing. A reason is required to change an amount (the project's total cost, a
# funding line's amounts) and to delete a funding line; status changes are in `workflow.py`.

# The project fields `update_project` takes (`create_project` also takes id_projet, territory, phase and status).
WRITABLE_FIELDS = (
    "title",
    "description",
    "themes",
    "owner",
    "commune",
    "reported_on",
    "start_on",
    "end_on",
    "total_cost",
    "public",
)
FUNDING_INPUT_FIELDS = ("funder", "instrument", "requested", "granted", "paid", "decided_on", "status")
FUNDING_AMOUNTS = ("requested", "granted", "paid")
MILESTONE_FIELDS = ("label", "planned_on", "actual_on")
INDICATOR_VALUE_FIELDS = ("project", "indicator", "on", "target", "measured")
MAX_AMOUNT = Decimal("1e12")
CENTS = Decimal("0.01")


class ConflictError(Exception):
    """The record changed since the version the writer read: nothing was written.

    `current` holds the project's values now, `changed` the fields that differ from the version read
    ({field: {"read": …, "current": …}}) and `changes` the history entries written since (who, when, what, why).
    """

    def __init__(self, project: Project, expected_version: int | None, submitted: dict | None = None) -> None:
        from .history import changes_since, readable_state

        self.project = project
        self.expected_version = expected_version
        self.current_version = project.version
        state = versioned_state(project, project.themes.values_list("pk", flat=True))
        self.current = readable_state(state)
        self.read, self.changes = changes_since(project, expected_version)
        self.changed = {
            name: {"read": self.read.get(name), "current": value}
            for name, value in self.current.items()
            if self.read is not None and self.read.get(name) != value
        }
        self.submitted = submitted or {}
        super().__init__(str(self))

    def __str__(self) -> str:
        return _(
            "Conflit de modification : le projet %(id)s a été modifié depuis la version %(read)s que vous avez lue "
            "(version actuelle : %(current)s). Rien n'a été enregistré."
        ) % {"id": self.project.id_projet, "read": self.expected_version or "?", "current": self.current_version}

    def as_details(self) -> dict:
        return {
            "expected_version": self.expected_version,
            "current_version": self.current_version,
            "changed": self.changed,
            "current": self.current,
            "changes": self.changes,
        }


def _visible(user, queryset):
    return queryset if user is None else queryset.filter(pk__in=projects_visible_to(user).values("pk"))


def lock_project(user, project: Project | int, *, expected_version: int | None = None, submitted=None) -> Project:
    """The project read again, locked for the writing transaction, once the user's right to change it is checked."""
    pk = project.pk if isinstance(project, Project) else project
    if not _visible(user, Project.objects.filter(pk=pk)).exists():
        raise Project.DoesNotExist(_("Projet introuvable."))
    if user is not None and not projects_editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied(_("Vous pouvez consulter ce projet mais pas le modifier."))
    locked = Project.objects.select_for_update(of=("self",)).select_related("territory", "phase").get(pk=pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(locked, expected_version, submitted)
    return locked


def claim_version(project: Project, submitted: dict | None = None) -> None:
    """Move the project to its next version, atomically: if another writer got there first (a database that does not
    lock rows, such as SQLite), this write is a conflict, never an overwrite."""
    now = timezone.now()
    claimed = Project.objects.filter(pk=project.pk, version=project.version).update(
        version=models.F("version") + 1, updated_at=now
    )
    if not claimed:
        read = project.version
        project.refresh_from_db()
        raise ConflictError(project, read, submitted)
    project.version += 1
    project.updated_at = now


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def _history(user, source: str, reason: str) -> dict:
    return {"user": user, "source": source, "reason": reason.strip()}


# --- input: from the values a form or the API parsed to what a project holds ----------------------------------------


def _amount(errors: dict, name: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        errors[name] = _("Doit être un nombre.")
        return None
    if not number.is_finite() or number < 0:
        errors[name] = _("Le montant ne peut pas être négatif.")
    elif number >= MAX_AMOUNT:
        errors[name] = _("Le montant est trop grand.")
    return number.quantize(CENTS) if name not in errors else None


def _commune(errors: dict, value: Any, territory: Territory) -> Commune | None:
    if value in (None, ""):
        return None
    commune = value if isinstance(value, Commune) else Commune.objects.filter(pk=str(value).strip().upper()).first()
    if commune is None:
        errors["commune"] = _("La commune %(insee)s est inconnue du référentiel.") % {"insee": value}
    elif territory.epcis.exists() and not territory.epcis.filter(pk=commune.epci_id).exists():
        errors["commune"] = _("La commune %(insee)s (%(name)s) n'est pas dans le périmètre du territoire %(code)s.") % {
            "insee": commune.pk,
            "name": commune.name,
            "code": territory.code,
        }
    return commune


def _owner(errors: dict, value: Any, current: Organisation | None) -> Organisation | None | tuple:
    """An organisation, None, or ("new", name, siren) for one to create once the input is valid."""
    if value is None or isinstance(value, Organisation):
        return value
    name = " ".join(str(value.get("name") or "").split())
    siren = value.get("siren") or ""
    if siren:
        try:
            siren = parse_siren(siren) or ""
        except ParseError as error:
            errors["owner.siren"] = error.message
            return current
    if not name and not siren:
        return None
    if len(name) > 300:
        errors["owner.name"] = _("Doit contenir au plus 300 caractères.")
        return current
    found = Organisation.objects.filter(siren=siren).first() if siren else None
    if found is None and not siren:
        found = current if current is not None and current.name == name and not current.siren else None
        found = found or Organisation.objects.filter(siren="", name=name).order_by("pk").first()
    if found is not None:
        return found
    if not name:
        errors["owner.name"] = _("Le nom du porteur est obligatoire pour une organisation inconnue.")
        return current
    return ("new", name, siren)


def _themes(errors: dict, value: Any, phase: ProgrammePhase) -> list[int] | None:
    if value is None:
        return None
    codes = [t.code if isinstance(t, Theme) else str(t).strip() for t in value]
    themes = {t.code: t.pk for t in Theme.objects.filter(phase=phase, code__in=codes)}
    unknown = [code for code in codes if code not in themes]
    if unknown:
        known = ", ".join(Theme.objects.filter(phase=phase).values_list("code", flat=True))
        errors["themes"] = _("Thème(s) inconnu(s) pour la phase %(phase)s : %(unknown)s (thèmes : %(known)s).") % {
            "phase": phase.code,
            "unknown": ", ".join(unknown),
            "known": known,
        }
        return None
    return sorted(set(themes.values()))


def _clean_project(data: dict, project: Project) -> tuple[dict, list[int] | None]:
    """The model values of `data` for `project` (whose territory and phase are set), checked as a whole; raises
    ValidationError naming each bad field. Unknown keys are refused so that a typo is never silently dropped."""
    errors: dict[str, str] = {}
    unknown = set(data) - set(WRITABLE_FIELDS)
    if "status" in unknown:
        errors["status"] = _("Le statut se change par une transition (avancer ou abandonner), avec un motif.")
    for name in sorted(unknown - {"status"}):
        errors[name] = _("Champ inconnu.")
    values: dict[str, Any] = {}
    for name in ("title", "description"):
        if name in data:
            values[name] = " ".join(str(data[name] or "").split()) if name == "title" else str(data[name] or "").strip()
    if "title" in values and not values["title"]:
        errors["title"] = _("Le titre est obligatoire.")
    elif len(values.get("title", "")) > 300:
        errors["title"] = _("Doit contenir au plus 300 caractères.")
    for name in ("reported_on", "start_on", "end_on"):
        if name in data:
            values[name] = data[name] or None
    if data.get("public") is not None:  # null: unchanged (a project is public or not, never "unknown")
        values["public"] = bool(data["public"])
    if "total_cost" in data:
        values["total_cost"] = _amount(errors, "total_cost", data["total_cost"])
    if "commune" in data:
        values["commune"] = _commune(errors, data["commune"], project.territory)
    if "owner" in data:
        values["owner"] = _owner(errors, data["owner"], project.owner if project.owner_id else None)
    theme_ids = _themes(errors, data["themes"], project.phase) if "themes" in data else None
    start = values.get("start_on", project.start_on)
    end = values.get("end_on", project.end_on)
    if start and end and end < start:
        errors["end_on"] = _("La date de fin (%(end)s) est antérieure à la date de début (%(start)s).") % {
            "end": end.strftime("%d/%m/%Y"),
            "start": start.strftime("%d/%m/%Y"),
        }
    if errors:
        raise ValidationError(errors)
    return values, theme_ids


def _set_values(project: Project, values: dict, user, source: str, reason: str) -> None:
    owner = values.get("owner")
    if isinstance(owner, tuple):
        _, name, siren = owner
        kind = Organisation.Kind.COMPANY if siren else Organisation.Kind.OTHER
        owner = Organisation.objects.create(name=name, siren=siren, kind=kind)
        record_change(
            owner, Action.CREATE, None, snapshot(owner, ORGANISATION_FIELDS), **_history(user, source, reason)
        )
        values = {**values, "owner": owner}
    for name, value in values.items():
        setattr(project, name, value)


def _amounts_changed(before: dict, after: dict, names: Iterable[str]) -> list[str]:
    return [name for name in names if before.get(name) != after.get(name)]


# --- projects ---------------------------------------------------------------------------------------------------------


def _territory(value: Any) -> Territory | None:
    if isinstance(value, Territory):
        return value
    return Territory.objects.filter(code=str(value or "").strip().lower()).first()


def _phase(errors: dict, value: Any, territory: Territory, theme_codes: list[str]) -> ProgrammePhase | None:
    """The given phase, else the phase of the given themes, else the territory's latest phase."""
    phases = list(territory.phases.order_by("-starts_on"))
    if value:
        phase = value if isinstance(value, ProgrammePhase) else ProgrammePhase.objects.filter(code=value).first()
        if phase is None or (phases and phase not in phases):
            errors["phase"] = _("Phase inconnue pour ce territoire : %(phase)s.") % {"phase": value}
        return phase
    for phase in phases:
        if theme_codes and phase.themes.filter(code__in=theme_codes).exists():
            return phase
    if phases:
        return phases[0]
    return ProgrammePhase.objects.order_by("-starts_on").first()


def next_id_projet(territory: Territory) -> str:
    """`PRJ-<id_ti>-NNNN`, the next number free for this territory."""
    prefix = f"PRJ-{territory.code}-"
    numbers = [
        int(suffix)
        for suffix in (
            id_projet.removeprefix(prefix)
            for id_projet in Project.objects.filter(id_projet__startswith=prefix).values_list("id_projet", flat=True)
        )
        if suffix.isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def create_project(user, data: dict, *, reason: str = "", source: str = Source.WEB) -> Project:
    """Create a project in a territory the user may create projects in (`territory` as a Territory or its id_ti).

    `data` takes the `WRITABLE_FIELDS` plus `territory` (required), `phase` (default: the phase of the given themes,
    else the territory's latest), `status` (default idea; not abandoned) and `id_projet` (default `PRJ-<id_ti>-NNNN`).
    """
    data = dict(data)
    territory = _territory(data.pop("territory", None))
    if territory is None:
        raise ValidationError({"territory": _("Territoire inconnu.")})
    if user is not None and not Territory.objects.filter(project_creation(user), pk=territory.pk).exists():
        raise PermissionDenied(
            _("Vous ne pouvez pas créer de projet dans le territoire %(code)s.") % {"code": territory.code}
        )
    errors: dict[str, str] = {}
    theme_codes = [t.code if isinstance(t, Theme) else str(t) for t in data.get("themes") or []]
    phase = _phase(errors, data.pop("phase", None), territory, theme_codes)
    status = data.pop("status", None) or ProjectStatus.IDEA
    if status not in ProjectStatus.values or status == ProjectStatus.ABANDONED:
        errors["status"] = _("Statut non permis à la création : %(status)s.") % {"status": status}
    id_projet = str(data.pop("id_projet", None) or "").strip()
    if len(id_projet) > 64:
        errors["id_projet"] = _("Doit contenir au plus 64 caractères.")
    elif id_projet and Project.objects.filter(id_projet=id_projet).exists():
        errors["id_projet"] = _("Un projet porte déjà l'identifiant %(id)s.") % {"id": id_projet}
    if "title" not in data:
        errors["title"] = _("Le titre est obligatoire.")
    project = Project(territory=territory, phase=phase, status=status)
    try:
        values, theme_ids = _clean_project(data, project) if phase is not None else ({}, None)
    except ValidationError as error:
        errors = {**error.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        project.id_projet = id_projet or next_id_projet(territory)
        _set_values(project, values, user, source, reason)
        project.save()
        project.themes.set(theme_ids or [])
        status_change(project, user=user, reason=reason.strip()).save()
        after = versioned_state(project, theme_ids or [])
        record_change(project, Action.CREATE, None, after, **_history(user, source, reason))
    return project


def update_project(
    user,
    project: Project,
    data: dict,
    *,
    expected_version: int | None = None,
    reason: str = "",
    source: str = Source.WEB,
) -> Project:
    """Change any subset of a project's `WRITABLE_FIELDS`; returns the project as saved (unchanged when `data`
    changes nothing: no write, no new version). Changing the total cost needs a reason."""
    with transaction.atomic():
        locked = lock_project(user, project, expected_version=expected_version, submitted=data)
        values, theme_ids = _clean_project(data, locked)
        old_themes = set(locked.themes.values_list("pk", flat=True))
        themes = old_themes if theme_ids is None else set(theme_ids)
        before = versioned_state(locked, old_themes)
        unchanged = project_state(locked, old_themes)
        _set_values(locked, values, user, source, reason)
        if project_state(locked, themes) == unchanged:
            return locked
        amounts = _amounts_changed(before, project_state(locked, themes), ["total_cost"])
        if amounts:
            _required_reason(reason, _("Indiquez le motif du changement de coût total."))
        claim_version(locked, data)
        locked.save()
        if themes != old_themes:
            locked.themes.set(sorted(themes))
        record_change(locked, Action.UPDATE, before, versioned_state(locked, themes), **_history(user, source, reason))
    return locked


# --- funding lines -------------------------------------------------------------------------------------------------


def _funder(errors: dict, value: Any) -> Organisation | tuple | None:
    if isinstance(value, Organisation):
        return value
    name = " ".join(str(value or "").split())
    if not name:
        errors["funder"] = _("Le financeur est obligatoire.")
        return None
    if len(name) > 300:
        errors["funder"] = _("Doit contenir au plus 300 caractères.")
        return None
    found = Organisation.objects.filter(name__iexact=name).order_by(
        models.Case(models.When(kind=Organisation.Kind.FUNDER, then=0), default=1), "pk"
    )
    return found.first() or ("new", name)


def _clean_funding(data: dict, *, creating: bool) -> dict:
    errors: dict[str, str] = {}
    for name in sorted(set(data) - set(FUNDING_INPUT_FIELDS)):
        errors[name] = _("Champ inconnu.")
    values: dict[str, Any] = {}
    if "funder" in data or creating:
        values["funder"] = _funder(errors, data.get("funder"))
    if "instrument" in data:
        values["instrument"] = " ".join(str(data["instrument"] or "").split())
        if len(values["instrument"]) > 200:
            errors["instrument"] = _("Doit contenir au plus 200 caractères.")
    for name in FUNDING_AMOUNTS:
        if name in data:
            values[name] = _amount(errors, name, data[name])
    if "decided_on" in data:
        values["decided_on"] = data["decided_on"] or None
    if "status" in data:
        values["status"] = data["status"] or FundingLine.Status.REQUESTED
        if values["status"] not in FundingLine.Status.values:
            errors["status"] = _("État inconnu : %(status)s.") % {"status": values["status"]}
    if errors:
        raise ValidationError(errors)
    return values


def _set_funding(line: FundingLine, values: dict, user, source: str, reason: str) -> None:
    funder = values.get("funder")
    if isinstance(funder, tuple):
        funder = Organisation.objects.create(name=funder[1], kind=Organisation.Kind.FUNDER)
        record_change(
            funder, Action.CREATE, None, snapshot(funder, ORGANISATION_FIELDS), **_history(user, source, reason)
        )
        values = {**values, "funder": funder}
    for name, value in values.items():
        setattr(line, name, value)
    if "status" not in values and line.status == FundingLine.Status.REQUESTED and line.granted is not None:
        line.status = FundingLine.Status.GRANTED  # as the import does: a granted amount is a grant


def funding_state(line: FundingLine) -> dict:
    state = snapshot(line, FUNDING_FIELDS)
    for name in FUNDING_AMOUNTS:
        if getattr(line, name) is not None:
            state[name] = f"{Decimal(getattr(line, name)):.2f}"
    return state


def _lock_line(user, line: FundingLine | int, *, expected_version: int | None, submitted=None):
    pk = line.pk if isinstance(line, FundingLine) else line
    project_id = FundingLine.objects.filter(pk=pk).values_list("project_id", flat=True).first()
    if project_id is None:
        raise FundingLine.DoesNotExist(_("Ligne de financement introuvable."))
    project = lock_project(user, project_id, expected_version=expected_version, submitted=submitted)
    return project, FundingLine.objects.select_for_update(of=("self",)).select_related("funder").get(pk=pk)


def add_funding_line(
    user, project: Project, data: dict, *, expected_version: int | None = None, reason: str = "", source=Source.WEB
) -> FundingLine:
    """Add a line to a project's funding plan (funder as an Organisation or a name: a new funder if unknown)."""
    with transaction.atomic():
        locked = lock_project(user, project, expected_version=expected_version, submitted=data)
        values = _clean_funding(data, creating=True)
        line = FundingLine(project=locked)
        _set_funding(line, values, user, source, reason)
        claim_version(locked, data)
        line.save()
        record_change(line, Action.CREATE, None, funding_state(line), **_history(user, source, reason))
    return line


def update_funding_line(
    user,
    line: FundingLine,
    data: dict,
    *,
    expected_version: int | None = None,
    reason: str = "",
    source: str = Source.WEB,
) -> FundingLine:
    """Change a funding line; changing an amount needs a reason. Unchanged input writes nothing."""
    with transaction.atomic():
        project, locked = _lock_line(user, line, expected_version=expected_version, submitted=data)
        values = _clean_funding(data, creating=False)
        before = funding_state(locked)
        _set_funding(locked, values, user, source, reason)
        after = funding_state(locked)
        if after == before:
            return locked
        if _amounts_changed(before, after, FUNDING_AMOUNTS):
            _required_reason(reason, _("Indiquez le motif du changement de montant."))
        claim_version(project, data)
        locked.save()
        record_change(locked, Action.UPDATE, before, after, **_history(user, source, reason))
    return locked


def delete_funding_line(
    user, line: FundingLine, *, reason: str, expected_version: int | None = None, source: str = Source.WEB
) -> None:
    """Remove a line from the funding plan; its history stays (the last entry holds what it was)."""
    with transaction.atomic():
        project, locked = _lock_line(user, line, expected_version=expected_version)
        reason = _required_reason(reason, _("Indiquez le motif de la suppression."))
        before = funding_state(locked)
        claim_version(project)
        record_change(locked, Action.DELETE, before, None, **_history(user, source, reason))
        locked.delete()


def funding_lines_decidable_by(user):
    return FundingLine.objects.filter(funding_decision(user))


def decide_funding_line(
    user,
    line: FundingLine,
    granted: Decimal | None,
    decided_on: datetime.date | None,
    status: str,
    reason: str,
    *,
    expected_version: int | None = None,
    source: str = Source.WEB,
) -> FundingLine:
    """A funder (its own lines) or the State services (their region's) record a decision on a funding line: the
    granted amount, the decision date and the line's state. The reason is required (it is an amount decision)."""
    pk = line.pk if isinstance(line, FundingLine) else line
    with transaction.atomic():
        lines = FundingLine.objects.filter(pk=pk)
        if user is not None:
            lines = lines.filter(project__in=projects_visible_to(user).values("pk"))
        project_id = lines.values_list("project_id", flat=True).first()
        if project_id is None:
            raise FundingLine.DoesNotExist(_("Ligne de financement introuvable."))
        if user is not None and not funding_lines_decidable_by(user).filter(pk=pk).exists():
            raise PermissionDenied(
                _(
                    "Seuls le financeur de cette ligne et les services de l'État de la région peuvent enregistrer sa "
                    "décision."
                )
            )
        project = Project.objects.select_for_update().get(pk=project_id)
        if expected_version is not None and project.version != expected_version:
            raise ConflictError(project, expected_version)
        locked = FundingLine.objects.select_for_update(of=("self",)).select_related("funder").get(pk=pk)
        reason = _required_reason(reason, _("Indiquez le motif de la décision."))
        values = _clean_funding({"granted": granted, "decided_on": decided_on, "status": status}, creating=False)
        before = funding_state(locked)
        _set_funding(locked, values, user, source, reason)
        after = funding_state(locked)
        if after == before:
            return locked
        claim_version(project)
        locked.save()
        record_change(locked, Action.UPDATE, before, after, **_history(user, source, reason))
    return locked


# --- indicator values and milestones ---------------------------------------------------------------------------------


def record_indicator_value(
    user,
    project: Project,
    indicator: Indicator | str,
    on: datetime.date,
    *,
    target: Decimal | None = None,
    measured: Decimal | None = None,
    expected_version: int | None = None,
    reason: str = "",
    source: str = Source.WEB,
) -> IndicatorValue:
    """Set the target and/or measured value of an indicator (object, or code of the project's phase) at a date:
    the value of that date is replaced, with its history."""
    with transaction.atomic():
        locked = lock_project(user, project, expected_version=expected_version)
        errors: dict[str, str] = {}
        if not isinstance(indicator, Indicator):
            code = str(indicator or "").strip()
            indicator = Indicator.objects.filter(phase=locked.phase_id, code=code).first()
            if indicator is None:
                known = ", ".join(Indicator.objects.filter(phase=locked.phase_id).values_list("code", flat=True))
                errors["indicator"] = _(
                    "Indicateur inconnu pour la phase du projet : %(code)s (indicateurs : %(known)s)."
                ) % {"code": code, "known": known or "aucun"}
        if not on:
            errors["on"] = _("La date est obligatoire.")
        amounts = {"target": _amount(errors, "target", target), "measured": _amount(errors, "measured", measured)}
        if target is None and measured is None:
            errors.setdefault("measured", _("Indiquez une valeur cible ou mesurée."))
        if errors:
            raise ValidationError(errors)
        value = IndicatorValue.objects.select_for_update().filter(
            project=locked, indicator=indicator, on=on
        ).first() or IndicatorValue(project=locked, indicator=indicator, on=on)
        before = snapshot(value, INDICATOR_VALUE_FIELDS) if value.pk else None
        for name, amount in amounts.items():
            if amount is not None:
                setattr(value, name, amount)
        after = snapshot(value, INDICATOR_VALUE_FIELDS)
        if before is not None and _same_amounts(before, after):
            return value
        claim_version(locked)
        value.save()
        action = Action.CREATE if before is None else Action.UPDATE
        record_change(value, action, before, snapshot(value, INDICATOR_VALUE_FIELDS), **_history(user, source, reason))
    return value


def _same_amounts(before: dict, after: dict) -> bool:
    def plain(state: dict) -> dict:
        return {
            k: (None if v is None else Decimal(str(v))) if k in ("target", "measured") else v for k, v in state.items()
        }

    return plain(before) == plain(after)


def _clean_milestone(data: dict, milestone: Milestone) -> dict:
    errors: dict[str, str] = {}
    for name in sorted(set(data) - set(MILESTONE_FIELDS)):
        errors[name] = _("Champ inconnu.")
    values = {name: data[name] or None for name in ("planned_on", "actual_on") if name in data}
    if "label" in data:
        values["label"] = " ".join(str(data["label"] or "").split())
    label = values.get("label", milestone.label)
    if not label:
        errors["label"] = _("Le libellé du jalon est obligatoire.")
    elif len(label) > 200:
        errors["label"] = _("Doit contenir au plus 200 caractères.")
    if errors:
        raise ValidationError(errors)
    return values


def add_milestone(
    user, project: Project, data: dict, *, expected_version: int | None = None, reason: str = "", source=Source.WEB
) -> Milestone:
    with transaction.atomic():
        locked = lock_project(user, project, expected_version=expected_version, submitted=data)
        milestone = Milestone(project=locked, label="")
        for name, value in _clean_milestone(data, milestone).items():
            setattr(milestone, name, value)
        claim_version(locked, data)
        milestone.save()
        after = snapshot(milestone, ("project", *MILESTONE_FIELDS))
        record_change(milestone, Action.CREATE, None, after, **_history(user, source, reason))
    return milestone


def update_milestone(
    user,
    milestone: Milestone,
    data: dict,
    *,
    expected_version: int | None = None,
    reason: str = "",
    source: str = Source.WEB,
) -> Milestone:
    fields = ("project", *MILESTONE_FIELDS)
    with transaction.atomic():
        project_id = Milestone.objects.filter(pk=milestone.pk).values_list("project_id", flat=True).first()
        if project_id is None:
            raise Milestone.DoesNotExist(_("Jalon introuvable."))
        locked = lock_project(user, project_id, expected_version=expected_version, submitted=data)
        stored = Milestone.objects.select_for_update().get(pk=milestone.pk)
        before = snapshot(stored, fields)
        for name, value in _clean_milestone(data, stored).items():
            setattr(stored, name, value)
        after = snapshot(stored, fields)
        if after == before:
            return stored
        claim_version(locked, data)
        stored.save()
        record_change(stored, Action.UPDATE, before, after, **_history(user, source, reason))
    return stored
