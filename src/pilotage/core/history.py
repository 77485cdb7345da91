"""Recording every write as a `ChangeLog` row: who, when, what (before/after snapshots) and why.

Snapshots hold only the fields that matter to a reader of the history, as plain JSON (dates as ISO text, decimals as
text, foreign keys as their key, many-to-many relations as the sorted list of keys, e.g. a perimeter's EPCI SIRENs).
They are whole snapshots, not diffs, so that a record can be shown as it stood at any date from its last entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from pilotage.core.models import ChangeLog

Action = ChangeLog.Action
Source = ChangeLog.Source


def to_json(value: Any) -> Any:
    """Any snapshot value as JSON-native data (what the JSONField will give back)."""
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
    return ChangeLog(
        user=user if getattr(user, "is_authenticated", False) else None,
        user_label=(user_label or (str(user) if getattr(user, "is_authenticated", False) else ""))[:200],
        source=source,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_pk=str(obj.pk),
        object_repr=str(obj)[:300],
        action=action,
        before=to_json(before) if before is not None else None,
        after=to_json(after) if after is not None else None,
        reason=reason,
    )


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
