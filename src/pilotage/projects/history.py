"""A project read from its history: as it stood at a past moment, and what changed since a version.

Every write to a project records its whole state (`services.versioned_state`) and every write to a funding line,
indicator value or milestone records that record's whole state, with the project's key: so the project and what
hangs on it can be rebuilt at any moment from the last entry of each record at or before it.

A project entered after the moment asked (created later, or imported later with an earlier reporting date) is shown
as first recorded if it had been reported to the programme by then (`reported_on`), the rule the figures follow
(PRODUCT.md: "as first recorded when the record was entered later"); otherwise it did not exist yet (None). A record
written before history was kept (no entry at all) is taken as it is now, from its creation (`created_at`) or its
reporting date, whichever is earlier.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from pilotage.core.history import history_of, snapshot, state_as_of
from pilotage.core.models import ChangeLog
from pilotage.programme.models import ProgrammePhase, Territory, Theme

from .models import FundingLine, Indicator, IndicatorValue, Milestone, Organisation, Project
from .services import FUNDING_FIELDS, INDICATOR_VALUE_FIELDS, MILESTONE_FIELDS, versioned_state

CHILDREN = (FundingLine, IndicatorValue, Milestone)


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(Decimal(str(value)))


def _date(value: Any) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) and value else value or None


def readable_state(state: dict) -> dict:
    """A project snapshot with its keys made readable as the API shows them (codes, owner name and SIREN)."""
    themes = Theme.objects.filter(pk__in=[int(pk) for pk in state.get("themes", [])]).order_by("position", "code")
    owner = Organisation.objects.filter(pk=state.get("owner")).first() if state.get("owner") else None
    territory = Territory.objects.filter(pk=state.get("territory")).values_list("code", flat=True).first()
    phase = ProgrammePhase.objects.filter(pk=state.get("phase")).values_list("code", flat=True).first()
    return {
        "id_projet": state.get("id_projet"),
        "territory": territory,
        "phase": phase,
        "title": state.get("title", ""),
        "description": state.get("description", ""),
        "themes": [theme.code for theme in themes],
        "status": state.get("status"),
        "owner": None if owner is None else {"name": owner.name, "siren": owner.siren or None},
        "commune": state.get("commune"),
        "reported_on": state.get("reported_on"),
        "start_on": state.get("start_on"),
        "end_on": state.get("end_on"),
        "total_cost": _number(state.get("total_cost")),
        "public": state.get("public"),
        "version": state.get("version"),
    }


def _summary(entry: ChangeLog) -> dict:
    before, after = entry.before or {}, entry.after or {}
    fields = {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name) and name != "version"
    }
    return {
        "at": entry.at.isoformat(),
        "by": entry.user_label,
        "record": str(entry.content_type.model_class()._meta.verbose_name) if entry.content_type_id else "",
        "action": entry.action,
        "reason": entry.reason,
        "fields": fields,
    }


def _related_entries(project: Project):
    types = ContentType.objects.get_for_models(*CHILDREN, for_concrete_models=False).values()
    children = ChangeLog.objects.filter(content_type__in=list(types)).filter(
        Q(after__project=project.pk) | Q(before__project=project.pk)
    )
    return (history_of(project) | children).select_related("content_type")


def changes_since(project: Project, version: int | None) -> tuple[dict | None, list[dict]]:
    """The project as it stood at `version` (readable; None if no entry records it) and the history entries written
    since (to the project and to its funding lines, indicator values and milestones), oldest first."""
    if version is None:
        return None, []
    entries = history_of(project)
    base = entries.filter(after__version=version).order_by("-at", "-id").first()
    if base is not None:  # the write that made `version`: what came after it
        read, later = base.after, Q(at__gt=base.at) | Q(at=base.at, id__gt=base.id)
    else:  # a version written without a project entry (before history, or by a funding line): the write leaving it
        base = entries.filter(before__version=version).order_by("at", "id").first()
        if base is None:
            return None, []
        read, later = base.before, Q(at__gt=base.at) | Q(at=base.at, id__gte=base.id)
    changes = _related_entries(project).filter(later).order_by("at", "id")
    return readable_state(read), [_summary(entry) for entry in changes]


def last_change_at(project: Project, when: datetime.datetime) -> datetime.datetime | None:
    """When the project or what hangs on it last changed, at or before `when`."""
    last = _related_entries(project).filter(at__lte=when).order_by("-at", "-id").first()
    return last.at if last else None


def project_as_of(project: Project, when: datetime.datetime) -> dict | None:
    """The project as it stood at `when`, with its funding lines, indicators and milestones then; None if it did not
    exist yet. The values are those of `ProjectDetailOut`."""
    state = state_as_of(project, when)
    if state is None:
        first = history_of(project).order_by("at", "id").first()
        if first is not None and first.at <= when:
            return None  # existed, then deleted
        state = first.after if first is not None else None
        state = state or versioned_state(project, project.themes.values_list("pk", flat=True))
        entered = first.at if first is not None else project.created_at
        reported_on = _date(state.get("reported_on"))
        if entered > when and (reported_on is None or reported_on > when.date()):
            return None
    data = readable_state(state)
    children = _children_as_of(project, when)
    data["funding"] = _funding(children[FundingLine])
    data["indicators"] = _indicators(children[IndicatorValue])
    data["milestones"] = sorted(
        (
            {"label": m["label"], "planned_on": m.get("planned_on"), "actual_on": m.get("actual_on")}
            for m in children[Milestone]
        ),
        key=lambda m: (m["planned_on"] is None, m["planned_on"] or "", m["label"]),
    )
    return data


def _children_as_of(project: Project, when: datetime.datetime) -> dict[type, list[dict]]:
    """The snapshots of the project's funding lines, indicator values and milestones at `when`."""
    out: dict[type, list[dict]] = {}
    for model in CHILDREN:
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        entries = ChangeLog.objects.filter(content_type=content_type).filter(
            Q(after__project=project.pk) | Q(before__project=project.pk)
        )
        by_record: dict[str, list[ChangeLog]] = defaultdict(list)
        for entry in entries.order_by("at", "id"):
            by_record[entry.object_pk].append(entry)
        states = [_with_pk(pk, _record_as_of(records, when)) for pk, records in by_record.items()]
        current = model.objects.filter(project=project).exclude(pk__in=[int(pk) for pk in by_record])
        fields = {
            FundingLine: FUNDING_FIELDS,
            IndicatorValue: INDICATOR_VALUE_FIELDS,
            Milestone: ("project", *MILESTONE_FIELDS),
        }[model]
        states += [_with_pk(record.pk, snapshot(record, fields)) for record in current]  # never recorded: as now
        out[model] = [state for state in states if state is not None]
    return out


def _with_pk(pk, state: dict | None) -> dict | None:
    return None if state is None else {**state, "id": int(pk)}


def _record_as_of(entries: list[ChangeLog], when: datetime.datetime) -> dict | None:
    done = [entry for entry in entries if entry.at <= when]
    if done:
        return done[-1].after
    first = entries[0]
    return first.before if first.action != ChangeLog.Action.CREATE else None


def _funding(states: list[dict]) -> list[dict]:
    funders = Organisation.objects.in_bulk({state["funder"] for state in states})
    lines = [
        {
            "id": state["id"],
            "funder": funders[state["funder"]].name if state["funder"] in funders else "",
            "instrument": state.get("instrument", ""),
            "requested": _number(state.get("requested")),
            "granted": _number(state.get("granted")),
            "paid": _number(state.get("paid")),
            "decided_on": state.get("decided_on"),
            "status": state.get("status", FundingLine.Status.REQUESTED),
        }
        for state in states
    ]
    return sorted(lines, key=lambda line: (line["funder"], line["instrument"]))


def _indicators(states: list[dict]) -> list[dict]:
    indicators = Indicator.objects.in_bulk({state["indicator"] for state in states})
    series: dict[int, dict] = {}
    for state in sorted(states, key=lambda s: (indicators[s["indicator"]].code, s["on"])):
        indicator = indicators[state["indicator"]]
        item = series.setdefault(
            indicator.pk, {"code": indicator.code, "label": indicator.label, "unit": indicator.unit, "values": []}
        )
        item["values"].append(
            {"on": state["on"], "target": _number(state.get("target")), "measured": _number(state.get("measured"))}
        )
    return list(series.values())
