"""Write use cases of a territory's protocol and contract (one of each per programme phase).

Rules: the signature date is a past fact (never in the future); a contract signed at a meeting is signed on that
meeting's date, at a meeting of the territory or of its Region; the document is a PDF (`core.uploads`).
A replaced document stays on disk, named by the history.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pilotage.core.history import Action, Source, record_change
from pilotage.core.uploads import check_pdf, store_pdf

from .editing import check_version, record_state
from .governance import fr_date
from .models import Contract, Meeting, Territory
from .permissions import require_territory

CONTRACT_FIELDS = ("phase", "kind", "signed_on", "signatories", "document", "signed_at_meeting")
CONTRACT_HISTORY = ("territory", *CONTRACT_FIELDS)


def check_contract(territory: Territory, data: dict[str, Any], contract: Contract | None = None) -> dict[str, Any]:
    """The data with the signature date taken from the meeting when only the meeting is given; or ValidationError."""
    data = dict(data)
    errors: dict[str, str] = {}
    meeting: Meeting | None = data.get("signed_at_meeting")
    if meeting is not None:
        if meeting.territory_id != territory.pk and meeting.region_id != territory.region_id:
            errors["signed_at_meeting"] = _(
                "Cette réunion n'est ni une réunion du territoire ni une réunion de sa région."
            )
        elif not data.get("signed_on"):
            data["signed_on"] = meeting.held_on
        elif data["signed_on"] != meeting.held_on:
            errors["signed_on"] = _(
                "Signé lors de la réunion du %(date)s : la date de signature doit être celle de la réunion."
            ) % {"date": fr_date(meeting.held_on)}
    signed_on = data.get("signed_on")
    if signed_on and signed_on > timezone.localdate() and "signed_on" not in errors:
        errors["signed_on"] = _("La date de signature ne peut pas être dans le futur.")
    phase = data.get("phase")
    if phase is not None and not territory.phases.filter(pk=phase.pk).exists():
        errors["phase"] = _("Ce territoire ne participe pas à la phase %(phase)s.") % {"phase": phase.code}
    elif phase is not None and data.get("kind"):
        same = Contract.objects.filter(territory=territory, phase=phase, kind=data["kind"])
        if contract is not None:
            same = same.exclude(pk=contract.pk)
        if same.exists():
            errors["kind"] = _(
                "Ce territoire a déjà un %(kind)s pour la phase %(phase)s : "
                "modifiez celui-ci plutôt que d'en créer un autre."
            ) % {"kind": Contract.Kind(data["kind"]).label, "phase": phase.code}
    if data.get("document"):
        try:
            check_pdf(data["document"])
        except ValidationError as error:
            errors["document"] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    return data


def create_contract(
    user, territory: Territory, data: dict[str, Any], *, source: str = Source.WEB, reason: str = ""
) -> Contract:
    require_territory(user, territory)
    with transaction.atomic():
        Territory.objects.select_for_update().get(pk=territory.pk)  # two teammates adding the same contract
        data = check_contract(territory, data)
        contract = Contract(territory=territory)
        _apply(contract, data)
        contract.save()
        after = record_state(contract, CONTRACT_HISTORY)
        record_change(contract, Action.CREATE, None, after, user=user, source=source, reason=reason)
    return contract


def edit_contract(
    user, contract: Contract, data: dict[str, Any], *, base: dict | None, source: str = Source.WEB, reason: str = ""
) -> Contract:
    """Change a contract; `base` is the state the form was opened on (EditConflict if it changed meanwhile)."""
    require_territory(user, contract.territory)
    with transaction.atomic():
        Territory.objects.select_for_update().get(pk=contract.territory_id)
        locked = Contract.objects.select_for_update().select_related("territory").get(pk=contract.pk)
        check_version(locked, CONTRACT_FIELDS, base, data)
        data = check_contract(locked.territory, data, locked)
        before = record_state(locked, CONTRACT_HISTORY)
        _apply(locked, data)
        after = record_state(locked, CONTRACT_HISTORY)
        if after != before:
            locked.save()
            record_change(locked, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return locked


def _apply(contract: Contract, data: dict[str, Any]) -> None:
    contract.phase = data["phase"]
    contract.kind = data["kind"]
    contract.signed_on = data.get("signed_on")
    contract.signatories = data.get("signatories") or ""
    contract.signed_at_meeting = data.get("signed_at_meeting")
    if data.get("document"):
        store_pdf(contract.document, data["document"])
    elif data.get("remove_document"):
        contract.document = ""
