"""A record's history (`core.history`) as people read it: newest first, who, when, why, and each change as
"field: before → after" with labels, dates and choices in French. Costs one query for the entries plus one per
related model named in them, whatever their number."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pilotage.core.history import history_of
from pilotage.core.models import ChangeLog

EMPTY = "—"
# Labels of fields declared without a French verbose name.
LABELS = {
    "territory": gettext_lazy("Territoire"),
    "region": gettext_lazy("Région"),
    "phase": gettext_lazy("Phase du programme"),
}


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class TimelineEntry:
    at: datetime.datetime
    author: str
    action: str
    source: str
    reason: str
    changes: list[Change] = field(default_factory=list)


class Values:
    """Formats snapshot values of one model; related records are fetched once for all the values given."""

    def __init__(self, model: type[models.Model], states: Iterable[dict]):
        self.model = model
        wanted: dict[str, set] = defaultdict(set)
        states = list(states)
        for name in {n for state in states for n in state}:
            fk = self._field(name)
            if fk is not None and fk.many_to_one:
                wanted[name] |= {state[name] for state in states if state.get(name) is not None}
        self.related = {
            name: self._field(name).related_model._default_manager.in_bulk(list(pks)) for name, pks in wanted.items()
        }

    def _field(self, name: str) -> models.Field | None:
        try:
            return self.model._meta.get_field(name)
        except Exception:  # a field since removed from the model: shown under its name
            return None

    def label(self, name: str) -> str:
        if name in LABELS:
            return str(LABELS[name])
        model_field = self._field(name)
        return capfirst(model_field.verbose_name) if model_field is not None else name

    def show(self, name: str, value: Any) -> str:
        model_field = self._field(name)
        if value is None or value == "" or value == []:
            return EMPTY
        if model_field is None:
            return str(value)
        if isinstance(model_field, models.FileField):
            return _("document PDF joint")
        if isinstance(model_field, models.BooleanField):
            return _("oui") if value else _("non")
        if model_field.choices:
            return capfirst(dict(model_field.flatchoices).get(value, value))
        if isinstance(model_field, models.DateField) and isinstance(value, str):
            return date_format(datetime.date.fromisoformat(value[:10]), "j F Y")
        if model_field.many_to_one:
            related = self.related.get(name, {}).get(value)
            return str(related) if related is not None else str(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


def changes_of(entry: ChangeLog, names: Sequence[str], values: Values) -> list[Change]:
    before, after = entry.before or {}, entry.after or {}
    if entry.before is None:  # created: what it was created with
        return [
            Change(values.label(n), EMPTY, values.show(n, after.get(n)))
            for n in names
            if after.get(n) not in (None, "", [])
        ]
    changes = []
    for name in names:
        if (name in before or name in after) and before.get(name) != after.get(name):
            old, new = values.show(name, before.get(name)), values.show(name, after.get(name))
            if old == new:  # a replaced document
                old, new = _("document précédent"), _("nouveau document PDF")
            changes.append(Change(values.label(name), old, new))
    return changes


def timeline(obj: models.Model, fields: Sequence[str], *, only_changes: bool = False) -> list[TimelineEntry]:
    """The entries of `obj`, newest first, showing the named fields. With `only_changes`, entries that changed
    none of them are left out (a territory's timeline on the governance page shows governance changes only)."""
    entries = list(history_of(obj).order_by("-at", "-id"))
    values = Values(type(obj), [state for e in entries for state in (e.before or {}, e.after or {})])
    rows = []
    for entry in entries:
        changes = changes_of(entry, fields, values)
        if only_changes and not changes:
            continue
        rows.append(
            TimelineEntry(
                at=entry.at,
                author=entry.user_label or entry.get_source_display(),
                action=capfirst(entry.get_action_display()),
                source=entry.get_source_display(),
                reason=entry.reason,
                changes=changes,
            )
        )
    return rows
