"""No lost edit: an edit form carries the version of the record it was opened on; saving over a newer version
is refused with what changed, and nothing is overwritten.

The version is the record's state (the fields the form edits), signed so that it cannot be forged, sent in a
hidden field. It costs no column and tells, on a conflict, what the other person changed since the form was opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.files import File
from django.db import models

from pilotage.core.history import history_of, snapshot, to_json
from pilotage.core.models import ChangeLog

SALT = "pilotage.programme.edit-version"
NEW_DOCUMENT = "(nouveau document)"


def record_state(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """`core.history.snapshot`, with file fields as their stored name ("" when there is none)."""
    fields = list(fields)
    files = [name for name in fields if isinstance(obj._meta.get_field(name), models.FileField)]
    state = snapshot(obj, [name for name in fields if name not in files])
    for name in files:
        state[name] = getattr(obj, name).name or ""
    return {name: state[name] for name in fields}


def version_token(state: dict[str, Any]) -> str:
    return signing.dumps(to_json(state), salt=SALT, compress=True)


def read_version(token: str) -> dict[str, Any]:
    """The state a form was opened on; raises `signing.BadSignature` for a forged or damaged token."""
    return signing.loads(token, salt=SALT)


@dataclass
class FieldConflict:
    name: str
    base: Any  # when the form was opened
    current: Any  # saved meanwhile by someone else
    submitted: Any  # what this person entered


@dataclass
class EditConflict(Exception):
    """Someone saved the record after this form was opened: nothing was written."""

    obj: models.Model
    base: dict[str, Any]
    current: dict[str, Any]
    submitted: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "Conflit de modification : l'enregistrement a changé depuis l'ouverture du formulaire."

    @property
    def fields(self) -> list[FieldConflict]:
        """Fields changed by the other person, then fields only this person changed (to report them again)."""
        names = list(self.current)
        theirs = [n for n in names if self.base.get(n) != self.current.get(n)]
        mine = [n for n in names if n not in theirs and n in self.submitted and self.submitted[n] != self.base.get(n)]
        return [
            FieldConflict(n, self.base.get(n), self.current.get(n), self.submitted.get(n, self.base.get(n)))
            for n in theirs + mine
        ]

    @property
    def last_change(self) -> ChangeLog | None:
        """Who saved the version now in place, and when."""
        return history_of(self.obj).order_by("-at", "-id").first()


def check_version(obj: models.Model, fields: Iterable[str], base: dict[str, Any] | None, submitted: dict) -> dict:
    """The record's current state; raises EditConflict when it is not the state the form was opened on.

    `obj` must be freshly read inside the writing transaction (locked), so that two saves cannot both pass.
    `base` None means the caller does not track versions (a command, an import).
    """
    current = record_state(obj, fields)
    if base is not None and to_json(base) != current:
        entered = {name: _plain(value) for name, value in submitted.items() if name in current}
        raise EditConflict(obj, to_json(base), current, to_json(entered))
    return current


def _plain(value: Any) -> Any:
    """A form value as it would stand in a snapshot: a record as its key, an upload as a new document."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, File):
        return NEW_DOCUMENT
    return value
