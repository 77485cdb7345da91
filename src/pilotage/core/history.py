"""Recording every write as a `ChangeLog` row: who, when, what (before/after snapshots) and why.

Snapshots hold only the fields that matter to a reader of the history, as plain JSON (dates as ISO text, decimals as
text, foreign keys as their key, many-to-many relations as the sorted list of keys, e.g. a perimeter's EPCI SIRENs).
They are whole snapshots, not diffs, so that a record can be shown as it stood at any date from its last entry
(`state_as_of`).
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from pilotage.core.models import ChangeLog

Action = ChangeLog.Action
Source = ChangeLog.Source


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
# Values DjangoJSONEncoder writes as a JSON string (dates, times, decimals…).
_ENCODED = frozenset({datetime.date, datetime.datetime, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID})
_ENCODER = DjangoJSONEncoder()


class _NotNative(Exception):
    pass


def _native_copy(value: Any) -> Any:
    """A copy of data that is already JSON-native (what a JSON round trip would give back); raises otherwise."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind is dict and all(type(key) is str for key in value):
        return {key: _native_copy(item) for key, item in value.items()}
    if kind is list:
        return [_native_copy(item) for item in value]
    if kind in _ENCODED:
        # What a JSON round trip gives for these: the text DjangoJSONEncoder writes for them.
        return _ENCODER.default(value)
    if isinstance(value, str):  # a choice (TextChoices member): JSON keeps its text
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):  # an IntegerChoices member: its number
        return int.__int__(value)
    raise _NotNative


def to_json(value: Any) -> Any:
    """Any snapshot value as JSON-native data (what the JSONField will give back)."""
    try:
        # Snapshots are converted once already: the JSON round trip is only for what still needs it (an import
        # records tens of thousands of entries).
        return _native_copy(value)
    except _NotNative:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a saved or unsaved object; a many-to-many field needs a saved object."""
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            data[name] = sorted(str(pk) for pk in getattr(obj, name).values_list("pk", flat=True)) if obj.pk else []
        elif field.is_relation:
            data[name] = getattr(obj, field.attname)
        else:
            data[name] = getattr(obj, name)
    return to_json(data)


def build_change(
    obj: models.Model,
    action: str,
    before: dict | None,
    after: dict | None,
    *,
    user=None,
    source: str,
    reason: str = "",
    user_label: str = "",
) -> ChangeLog:
    """An unsaved entry, for callers that write many at once with `ChangeLog.objects.bulk_create`."""
    authenticated = getattr(user, "is_authenticated", False)
    values = {
        "id": None,
        "at": timezone.now(),
        "user_id": user.pk if authenticated else None,
        "user_label": (user_label or (str(user) if authenticated else ""))[:200],
        "source": source,
        "content_type_id": ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
        "object_pk": str(obj.pk),
        "object_repr": str(obj)[:300],
        "action": action,
        "before": to_json(before) if before is not None else None,
        "after": to_json(after) if after is not None else None,
        "reason": reason,
    }
    # Given by position (every concrete field, in order), the values are set without Django's handling of keyword
    # arguments, which costs as much as the rest of an entry (an import builds tens of thousands).
    return ChangeLog(*[values[field.attname] for field in ChangeLog._meta.concrete_fields])


def record_change(
    obj: models.Model,
    action: str,
    before: dict | None,
    after: dict | None,
    *,
    user=None,
    source: str,
    reason: str = "",
    user_label: str = "",
) -> ChangeLog:
    """Save one history entry for a write to `obj` (already saved, so that it has its key)."""
    entry = build_change(obj, action, before, after, user=user, source=source, reason=reason, user_label=user_label)
    entry.save()
    return entry


def history_of(obj: models.Model) -> models.QuerySet[ChangeLog]:
    """The entries of one record, oldest first."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return ChangeLog.objects.filter(content_type=content_type, object_pk=str(obj.pk))


def entries_of(target: models.Model | tuple[ContentType | type[models.Model], Any]) -> models.QuerySet[ChangeLog]:
    """The entries of a record given as an object or as (content type or model, primary key)."""
    if isinstance(target, models.Model):
        return history_of(target)
    kind, pk = target
    if not isinstance(kind, ContentType):
        kind = ContentType.objects.get_for_model(kind, for_concrete_model=False)
    return ChangeLog.objects.filter(content_type=kind, object_pk=str(pk))


def state_as_of(target: models.Model | tuple[ContentType | type[models.Model], Any], when: datetime.datetime):
    """The record's snapshot as it stood at `when`, from its history; None if it did not exist then.

    - the last entry at or before `when` gives its state (`after`; None once deleted);
    - with no entry by then, a record whose first entry is a creation did not exist yet: None;
    - a record whose first entry is a change (it was written before its history was kept: initial data, a record
      created outside the services) existed already: its state is what that change found (`before`);
    - a record without any entry has no history to read: None (the caller decides, e.g. from its creation date).
    """
    entries = entries_of(target).order_by("at", "id")
    last = entries.filter(at__lte=when).order_by("-at", "-id").first()
    if last is not None:
        return last.after
    first = entries.first()
    if first is None or first.action == Action.CREATE or first.before is None:
        return None
    return first.before
