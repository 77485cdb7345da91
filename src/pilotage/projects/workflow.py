"""A project's status transitions, each a named function with its permission, preconditions and history.

The statuses follow one order, `idea → maturing → ready → in_progress → completed`, and a project only moves
forward along it: `advance` goes to any later status, one step or several (a project often reaches the programme
already "ready": making its team record each intermediate step would record dates that never happened; the reason
says why). Going back is refused. `abandon` closes any open status (every status but completed and abandoned);
a closed project changes status no more. Every transition needs a reason and records who, when and why twice: a
`ProjectStatusChange` (the status as of any date, for the figures) and a `ChangeLog` entry with the whole project
before and after.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pilotage.core.history import Action, Source, record_change

from .models import Project, ProjectStatus
from .services import claim_version, lock_project, status_change, versioned_state

ORDER = (
    ProjectStatus.IDEA,
    ProjectStatus.MATURING,
    ProjectStatus.READY,
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.COMPLETED,
)
OPEN = frozenset(ORDER[:-1])
CLOSED = frozenset({ProjectStatus.COMPLETED, ProjectStatus.ABANDONED})


def next_statuses(status: str) -> list[str]:
    """The statuses `advance` may take a project of this status to, nearest first."""
    if status not in OPEN:
        return []
    return list(ORDER[ORDER.index(status) + 1 :])


def may_abandon(status: str) -> bool:
    return status in OPEN


def label(status: str) -> str:
    return str(dict(ProjectStatus.choices).get(status, status))


def advance(
    user,
    project: Project,
    to_status: str,
    reason: str,
    *,
    expected_version: int | None = None,
    source: str = Source.WEB,
) -> Project:
    """Move a project forward to `to_status` (a later status of `ORDER`), with a reason."""

    def check(locked: Project) -> None:
        if to_status == ProjectStatus.ABANDONED:
            raise ValidationError({"status": _("Pour abandonner un projet, utilisez l'abandon (avec son motif).")})
        if to_status not in ProjectStatus.values:
            raise ValidationError({"status": _("Statut inconnu : %(status)s.") % {"status": to_status}})
        if to_status not in next_statuses(locked.status):
            raise ValidationError({"status": _refusal(locked.status, to_status)})

    return _transition(user, project, to_status, reason, check, expected_version=expected_version, source=source)


def abandon(
    user, project: Project, reason: str, *, expected_version: int | None = None, source: str = Source.WEB
) -> Project:
    """Abandon an open project; the reason is kept as its `abandon_reason`."""

    def check(locked: Project) -> None:
        if not may_abandon(locked.status):
            raise ValidationError(
                {
                    "status": _("Un projet « %(status)s » ne peut plus être abandonné.")
                    % {"status": label(locked.status)}
                }
            )
        locked.abandon_reason = reason.strip()

    return _transition(
        user, project, ProjectStatus.ABANDONED, reason, check, expected_version=expected_version, source=source
    )


def _refusal(current: str, wanted: str) -> str:
    allowed = next_statuses(current)
    if not allowed:
        return _("Le projet est « %(current)s » : son statut ne change plus.") % {"current": label(current)}
    return _("Passage de « %(current)s » à « %(wanted)s » non permis ; statuts possibles : %(allowed)s.") % {
        "current": label(current),
        "wanted": label(wanted),
        "allowed": ", ".join(f"{code} ({label(code)})" for code in allowed),
    }


def _transition(user, project, to_status, reason, check, *, expected_version, source) -> Project:
    with transaction.atomic():
        locked = lock_project(user, project, expected_version=expected_version, submitted={"status": to_status})
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Le motif du changement de statut est obligatoire.")})
        check(locked)
        themes = list(locked.themes.values_list("pk", flat=True))
        before = versioned_state(locked, themes)
        locked.status = to_status
        claim_version(locked, {"status": to_status})
        locked.save()
        status_change(locked, user=user, reason=reason.strip()).save()
        after = versioned_state(locked, themes)
        record_change(locked, Action.TRANSITION, before, after, user=user, source=source, reason=reason.strip())
    return locked
