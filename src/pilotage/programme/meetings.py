"""Write use cases of meetings: steering and follow-up committees, general assemblies, signing ceremonies…

A meeting belongs to a territory or, for a regional meeting, to a Region. Its date may be in the future (a
planned meeting); visitors only see it once past, and only when it is flagged public. When the form leaves the
flag undecided, it follows the kind: a general assembly is public, other meetings are not
(`Meeting.public_by_default`). Minutes are text, a PDF (`core.uploads`), or both.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from pilotage.core.history import Action, Source, record_change
from pilotage.core.uploads import check_pdf, store_pdf
from pilotage.geo.models import Region

from .editing import check_version, record_state
from .models import Meeting, Territory
from .permissions import require_meeting, require_region, require_territory

MEETING_FIELDS = ("kind", "held_on", "place", "participants", "minutes", "minutes_document", "decisions", "public")
MEETING_HISTORY = ("territory", "region", *MEETING_FIELDS)
TEXT_FIELDS = ("place", "participants", "minutes", "decisions")


def check_meeting(data: dict[str, Any]) -> None:
    if data.get("minutes_document"):
        try:
            check_pdf(data["minutes_document"])
        except ValidationError as error:
            raise ValidationError({"minutes_document": error.messages[0]}) from error


def create_meeting(
    user,
    data: dict[str, Any],
    *,
    territory: Territory | None = None,
    region: Region | None = None,
    source: str = Source.WEB,
    reason: str = "",
) -> Meeting:
    """A meeting of `territory`, or a regional meeting of `region` (exactly one of them)."""
    if (territory is None) == (region is None):
        raise ValueError("A meeting belongs to a territory or to a region.")
    if territory is not None:
        require_territory(user, territory)
    else:
        require_region(user, region.pk)
    check_meeting(data)
    meeting = Meeting(territory=territory, region=region)
    _apply(meeting, data)
    with transaction.atomic():
        meeting.save()
        record_change(
            meeting,
            Action.CREATE,
            None,
            record_state(meeting, MEETING_HISTORY),
            user=user,
            source=source,
            reason=reason,
        )
    return meeting


def edit_meeting(
    user, meeting: Meeting, data: dict[str, Any], *, base: dict | None, source: str = Source.WEB, reason: str = ""
) -> Meeting:
    """Change a meeting; `base` is the state the form was opened on (EditConflict if it changed meanwhile)."""
    require_meeting(user, meeting)
    check_meeting(data)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        check_version(locked, MEETING_FIELDS, base, data)
        before = record_state(locked, MEETING_HISTORY)
        _apply(locked, data)
        after = record_state(locked, MEETING_HISTORY)
        if after != before:
            locked.save()
            record_change(locked, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return locked


def _apply(meeting: Meeting, data: dict[str, Any]) -> None:
    meeting.kind = data["kind"]
    meeting.held_on = data["held_on"]
    for name in TEXT_FIELDS:
        setattr(meeting, name, (data.get(name) or "").strip())
    public = data.get("public")
    meeting.public = Meeting.public_by_default(meeting.kind) if public is None else bool(public)
    if data.get("minutes_document"):
        store_pdf(meeting.minutes_document, data["minutes_document"])
    elif data.get("remove_minutes_document"):
        meeting.minutes_document = ""
