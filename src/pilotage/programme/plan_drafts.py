"""The territory team writes its action plan before submitting it (the step before `workflows.submit_plan`).

A plan is edited only while it is a draft. Editing a returned plan starts the next version as a draft, so that the
version the Region returned stays as it was when it decided.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from pilotage.accounts.scopes import is_territory_team
from pilotage.core.history import Action, record_change, snapshot

from .models import ActionPlan, ProgrammePhase, Territory
from .workflows import TRACKED

Status = ActionPlan.Status


def save_draft(
    user,
    territory: Territory,
    phase: ProgrammePhase,
    *,
    summary: str,
    expected_validation_on: datetime.date | None,
    source: str = "web",
) -> ActionPlan:
    """Create or change the draft of the territory's plan for this phase; returns the draft."""
    if not is_territory_team(user, territory):
        raise PermissionDenied("Seule l'équipe du territoire peut rédiger son plan d'actions.")
    if not territory.phases.filter(pk=phase.pk).exists():
        raise ValidationError(f"Le territoire {territory} ne participe pas à la phase {phase}.")
    try:
        with transaction.atomic():
            return _write(user, territory, phase, summary.strip(), expected_validation_on, source)
    except IntegrityError as exc:  # two first drafts written at the same instant: the second one loses
        raise ValidationError("Le plan vient d'être modifié par quelqu'un d'autre : rechargez la page.") from exc


def _write(user, territory, phase, summary, expected_on, source) -> ActionPlan:
    current = (
        ActionPlan.objects.select_for_update().filter(territory=territory, phase=phase).order_by("-version").first()
    )
    if current is not None and current.status not in (Status.DRAFT, Status.RETURNED):
        raise ValidationError(f"Ce plan est « {current.get_status_display()} » : il ne peut plus être modifié.")
    if current is not None and current.status == Status.DRAFT:
        if (current.summary, current.expected_validation_on) == (summary, expected_on):
            return current  # nothing changed: no history entry
        plan, before, action = current, snapshot(current, TRACKED), Action.UPDATE
    else:
        version = current.version + 1 if current else 1
        plan, before, action = ActionPlan(territory=territory, phase=phase, version=version), None, Action.CREATE
    plan.summary, plan.expected_validation_on = summary, expected_on
    plan.full_clean(exclude=["territory", "phase"], validate_unique=False, validate_constraints=False)
    plan.save()
    reason = "Nouvelle version après renvoi" if current is not None and action == Action.CREATE else ""
    record_change(plan, action, before, snapshot(plan, TRACKED), user=user, source=source, reason=reason)
    return plan
