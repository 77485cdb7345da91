"""Write use cases of the programme app. Each validates its whole input first, then writes in one transaction and
records history (`pilotage.core.history`).

`import_territories` upserts territories by `id_ti` from an ANCT file (see `importer.py` for the accepted shapes):
- the territory's name comes from `lib_ti`, its region from `id_ti` (`ti-4405` is in region 44);
- its perimeter becomes the EPCI of the file (replaced, not merged: that is an update), and the file's phase is added
  to its phases;
- the milestone dates of the file are set: governance (`Territory.governance_installed_on`), protocol and contract
  signatures (`Contract` of the phase), Regional Council's validation and expected validation of the action plan (its
  latest version for the phase, created when there is none). A date absent from the file, or an empty cell, never
  erases a date already recorded: to remove one, edit the territory;
- it is all-or-nothing: one bad row and nothing is written; a dry run checks and counts without writing;
- a territory whose every value already matches is `unchanged` and gets no history entry.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pilotage.core.history import Action, Source, record_change, snapshot
from pilotage.opendata.readers import ReadError, read_table
from pilotage.opendata.report import ImportReport

from .importer import (
    COLUMNS,
    REQUIRED_COLUMNS,
    Progress,
    Referential,
    RowChecker,
    TerritoryDraft,
)
from .models import ActionPlan, Contract, ProgrammePhase, Territory

CONTRACT_COLUMNS = {Contract.Kind.PROTOCOL: "date_protocole", Contract.Kind.CONTRACT: "date_contrat"}
CONTRACT_FIELDS = ("territory", "phase", "kind", "signed_on")
# Progress is printed (on stderr) only for files long enough to keep someone waiting.
LONG_FILE_ROWS = 1000
ACTION_PLAN_FIELDS = ("territory", "phase", "version", "status", "decided_on", "expected_validation_on")


def territory_state(territory: Territory, phases: set[str], epcis: set[str]) -> dict[str, Any]:
    """The history snapshot of a territory; its phases and perimeter are given, to cost no query."""
    return {
        "code": territory.code,
        "name": territory.name,
        "region": territory.region_id,
        "governance_installed_on": territory.governance_installed_on,
        "phases": sorted(phases),
        "epcis": sorted(epcis),
    }


@dataclass
class RecordChange:
    """A contract or action plan to create (`obj` unsaved) or update, with its state before."""

    obj: Contract | ActionPlan
    fields: tuple[str, ...]
    before: dict | None
    action: str


@dataclass
class TerritoryChange:
    draft: TerritoryDraft
    territory: Territory  # unsaved when created
    phases_before: set[str]
    epcis_before: set[str]
    before: dict | None  # None when created
    records: list[RecordChange] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.before is None

    @property
    def territory_changed(self) -> bool:
        return self.created or self.before != self.after()

    @property
    def changed(self) -> bool:
        return self.territory_changed or bool(self.records)

    def after(self) -> dict:
        return territory_state(self.territory, self.phases_before | {self.draft.phase_code}, self.draft.epcis)


def import_territories(
    source: str | Path,
    *,
    filename: str | None = None,
    dry_run: bool = False,
    user=None,
    user_label: str = "",
    progress: Progress | None = None,
) -> ImportReport:
    """Check a whole territories file, then (unless `dry_run`) write it in one transaction. Bad input never raises."""
    report = ImportReport(dry_run=dry_run)
    try:
        drafts = _check_file(source, filename, report, progress)
    except ReadError as error:
        report.errors.extend(error.as_errors())
        return report
    if not report.ok:
        return report
    with transaction.atomic():
        changes = plan_territory_changes(list(drafts.values()))
        for change in changes:
            report.count(created=change.created, changed=change.changed)
        if not dry_run:
            reason = _("Import du fichier %(name)s") % {"name": Path(filename or str(source)).name}
            _apply(changes, user=user, user_label=user_label, reason=reason, progress=progress)
    return report


def _check_file(source, filename, report: ImportReport, progress: Progress | None) -> dict[str, TerritoryDraft]:
    table = read_table(source, COLUMNS, required=REQUIRED_COLUMNS, filename=filename)
    report.rows = len(table.rows)
    if progress and report.rows >= LONG_FILE_ROWS:
        progress(_("%(count)s lignes lues, vérification…") % {"count": report.rows})
    referential = Referential.for_table(table)
    if not referential.regions:
        raise ReadError(
            _("Le référentiel géographique n'est pas chargé : lancez d'abord « pilotage load_referential ».")
        )
    checker = RowChecker(table, referential)
    drafts = checker.check(progress)
    for row, column, message in checker.errors:
        report.add_error(row, column, message)
    return drafts


def plan_territory_changes(drafts: list[TerritoryDraft]) -> list[TerritoryChange]:
    """Compare the drafts with the database (a fixed number of queries) and say what each import would change."""
    codes = [draft.code for draft in drafts]
    existing = {territory.code: territory for territory in Territory.objects.filter(code__in=codes)}
    ids = [territory.pk for territory in existing.values()]
    epcis_of: dict[int, set[str]] = defaultdict(set)
    for territory_id, siren in Territory.epcis.through.objects.filter(territory_id__in=ids).values_list(
        "territory_id", "epci_id"
    ):
        epcis_of[territory_id].add(siren)
    phases_of: dict[int, set[str]] = defaultdict(set)
    for territory_id, code in Territory.phases.through.objects.filter(territory_id__in=ids).values_list(
        "territory_id", "programmephase__code"
    ):
        phases_of[territory_id].add(code)
    phases = {phase.code: phase for phase in ProgrammePhase.objects.all()}
    contracts = {(c.territory_id, c.phase_id, c.kind): c for c in Contract.objects.filter(territory_id__in=ids)}
    latest_plans: dict[tuple[int, int], ActionPlan] = {}
    for plan in ActionPlan.objects.filter(territory_id__in=ids).order_by("version"):
        latest_plans[(plan.territory_id, plan.phase_id)] = plan
    changes = []
    for draft in drafts:
        territory = existing.get(draft.code)
        change = _territory_change(draft, territory, phases_of, epcis_of)
        phase = phases[draft.phase_code]
        key = territory.pk if territory else None
        change.records.extend(_contract_changes(draft, change.territory, phase, contracts, key))
        change.records.extend(_action_plan_changes(draft, change.territory, phase, latest_plans.get((key, phase.pk))))
        changes.append(change)
    return changes


def _territory_change(draft, territory, phases_of, epcis_of) -> TerritoryChange:
    governance = draft.value("date_gouvernance")
    if territory is None:
        territory = Territory(
            code=draft.code, name=draft.name, region_id=draft.region, governance_installed_on=governance
        )
        return TerritoryChange(draft, territory, set(), set(), None)
    phases, epcis = phases_of[territory.pk], epcis_of[territory.pk]
    before = territory_state(territory, phases, epcis)
    territory.name = draft.name
    if governance:
        territory.governance_installed_on = governance
    return TerritoryChange(draft, territory, phases, epcis, before)


def _contract_changes(draft, territory, phase, contracts, territory_id) -> list[RecordChange]:
    records = []
    for kind, column in CONTRACT_COLUMNS.items():
        signed_on = draft.value(column)
        if signed_on is None:
            continue
        contract = contracts.get((territory_id, phase.pk, kind))
        if contract is None:
            contract = Contract(territory=territory, phase=phase, kind=kind, signed_on=signed_on)
            records.append(RecordChange(contract, CONTRACT_FIELDS, None, Action.CREATE))
        elif contract.signed_on != signed_on:
            before = snapshot(contract, CONTRACT_FIELDS)
            contract.signed_on = signed_on
            records.append(RecordChange(contract, CONTRACT_FIELDS, before, Action.UPDATE))
    return records


def _action_plan_changes(draft, territory, phase, plan: ActionPlan | None) -> list[RecordChange]:
    decided_on: datetime.date | None = draft.value("date_validation_plan")
    expected_on: datetime.date | None = draft.value("date_prevue_validation_plan")
    if decided_on is None and expected_on is None:
        return []
    if plan is None:
        plan = ActionPlan(territory=territory, phase=phase, version=1, expected_validation_on=expected_on)
        if decided_on:
            plan.status, plan.decided_on = ActionPlan.Status.VALIDATED, decided_on
        return [RecordChange(plan, ACTION_PLAN_FIELDS, None, Action.CREATE)]
    before = snapshot(plan, ACTION_PLAN_FIELDS)
    if decided_on:
        plan.status, plan.decided_on = ActionPlan.Status.VALIDATED, decided_on
    if expected_on:
        plan.expected_validation_on = expected_on
    after = snapshot(plan, ACTION_PLAN_FIELDS)
    if after == before:
        return []
    action = Action.TRANSITION if after["status"] != before["status"] else Action.UPDATE
    return [RecordChange(plan, ACTION_PLAN_FIELDS, before, action)]


def _apply(changes: list[TerritoryChange], *, user, user_label: str, reason: str, progress: Progress | None) -> None:
    history = {"user": user, "user_label": user_label, "source": Source.IMPORT, "reason": reason}
    phases = {phase.code: phase for phase in ProgrammePhase.objects.all()}
    changed = [change for change in changes if change.changed]
    for done, change in enumerate(changed, start=1):
        territory = change.territory
        if change.territory_changed:
            territory.save()
            if change.draft.epcis != change.epcis_before:
                territory.epcis.set(sorted(change.draft.epcis))
            if change.draft.phase_code not in change.phases_before:
                territory.phases.add(phases[change.draft.phase_code])
            territory.refresh_derived()
            action = Action.CREATE if change.created else Action.UPDATE
            record_change(territory, action, change.before, change.after(), **history)
        for record in change.records:
            record.obj.territory = territory  # a created territory has its key only now
            record.obj.save()
            record_change(record.obj, record.action, record.before, snapshot(record.obj, record.fields), **history)
        if progress and done % 50 == 0:
            progress(_("%(done)s territoires enregistrés sur %(total)s") % {"done": done, "total": len(changed)})
