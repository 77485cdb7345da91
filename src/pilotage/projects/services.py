"""Write use cases of projects. Each checks the acting user's scope, writes in one transaction and records history:
a `ChangeLog` entry per record written (before/after snapshots) and a `ProjectStatusChange` each time a project's
status is set or changes.

- `save_project`: one project, as a form or the API has validated it;
- `import_projects`: a whole file (see `importer.py` for the format and its checks), all-or-nothing, in bulk:
  a fixed number of queries to check it, batched writes. Projects are upserted by `id_projet`; funding lines by
  (project, funder name whatever its case, instrument) and never deleted: a line absent from the file stays.
  A project whose every value already matches is `unchanged` and gets no write at all (no history, same
  `updated_at`). Setting a project to `abandoned` needs no reason on import: the import's reason is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pilotage.accounts.scopes import territory_edition
from pilotage.core.history import Action, Source, build_change, record_change, snapshot
from pilotage.core.models import ChangeLog
from pilotage.opendata.importing import LONG_FILE_ROWS, Progress, chunks, import_reason
from pilotage.opendata.readers import ReadError
from pilotage.opendata.report import ImportReport
from pilotage.programme.models import Territory

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
from .models import FundingLine, Organisation, Project, ProjectStatus, ProjectStatusChange
from .queries import projects_editable_by

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
    if territory_changed and not Territory.objects.filter(territory_edition(user), pk=project.territory_id).exists():
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
        before = project_state(stored, old_themes) if stored else None
        status_changed = stored is None or stored.status != project.status
        if status_changed and project.status == ProjectStatus.ABANDONED and not project.abandon_reason.strip():
            if source != Source.IMPORT:
                raise ValidationError({"abandon_reason": _("Indiquez le motif de l'abandon.")})
            project.abandon_reason = reason or str(Source.IMPORT.label)
        if before == project_state(project, themes):
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
        record_change(project, action, before, project_state(project, themes), **history)
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


def _state(project: Project) -> dict:
    return project_state(project, project.theme_ids)


def _project_change(draft: ProjectDraft, reason: str) -> ProjectChange:
    existing = draft.existing
    if existing is None:
        project = Project(id_projet=draft.id_projet, **draft.fields)
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
        line = FundingLine(instrument=draft.instrument, **draft.fields)
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
    Project.objects.bulk_create([c.project for c in changes if c.created], batch_size=BATCH)
    updated = [c for c in changes if not c.created and c.project_changed]
    for change in updated:
        change.project.updated_at = now
        change.project.version += 1
    fields = {Project._meta.get_field(name).name for c in updated for name in c.fields}
    fields |= {"search_text", "updated_at", "version"}
    Project.objects.bulk_update([c.project for c in updated], sorted(fields), batch_size=BATCH)
    _write_themes(changes)
    label = actor_label(history["user"], history["user_label"])
    ProjectStatusChange.objects.bulk_create(
        [
            status_change(c.project, user_label=label, reason=history["reason"], at=now)
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
    ChangeLog.objects.bulk_create(entries, batch_size=BATCH)
    say(_("%(count)s projets enregistrés.") % {"count": len(changes)})


def _state_after(change: ProjectChange) -> dict:
    return project_state(change.project, change.theme_ids)


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
        through(project_id=c.project.pk, theme_id=theme_id)
        for c in changes
        if c.themes_changed
        for theme_id in sorted(c.theme_ids)
    ]
    through.objects.bulk_create(links, batch_size=BATCH)


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
    FundingLine.objects.bulk_create([f.line for f in created], batch_size=BATCH)
    fields = sorted({name for f in updated for name in f.fields})
    if fields:
        FundingLine.objects.bulk_update([f.line for f in updated], fields, batch_size=BATCH)
    for funding in created + updated:
        action = Action.CREATE if funding.before is None else Action.UPDATE
        entries.append(
            build_change(funding.line, action, funding.before, snapshot(funding.line, FUNDING_FIELDS), **history)
        )
