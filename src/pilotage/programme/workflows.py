"""The action plan workflow: draft → submitted → validated | returned → (resubmitted as a new version).

Each transition is a named function: it checks the acting user's permission and the plan's state, writes in one
transaction, records the history (with its reason) and notifies the people concerned by e-mail.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from pilotage.accounts.models import Role
from pilotage.accounts.scopes import is_regional_pilot, is_territory_team, users_with_role
from pilotage.core.history import Action, record_change, snapshot

from .models import ActionPlan

Status = ActionPlan.Status
TRACKED = ("version", "status", "summary", "submitted_on", "decided_on", "expected_validation_on", "return_reason")


def current_plan(territory, phase) -> ActionPlan | None:
    return ActionPlan.objects.filter(territory=territory, phase=phase).order_by("-version").first()


def _transition(plan: ActionPlan, user, source: str, reason: str, change) -> ActionPlan:
    with transaction.atomic():
        locked = ActionPlan.objects.select_for_update().get(pk=plan.pk)
        before = snapshot(locked, TRACKED)
        result = change(locked)
        record_change(
            result,
            Action.TRANSITION,
            before if result.pk == locked.pk else None,
            snapshot(result, TRACKED),
            user=user,
            source=source,
            reason=reason,
        )
    return result


def submit_plan(user, plan: ActionPlan, *, source: str = "web", on: datetime.date | None = None) -> ActionPlan:
    """The territory team submits its draft, or resubmits a returned plan as a new version."""
    if not is_territory_team(user, plan.territory):
        raise PermissionDenied("Seule l'équipe du territoire peut soumettre son plan d'actions.")
    if plan.status not in (Status.DRAFT, Status.RETURNED):
        raise ValidationError(f"Ce plan est « {plan.get_status_display()} » : il ne peut pas être soumis.")
    on = on or timezone.localdate()

    def change(locked: ActionPlan) -> ActionPlan:
        if locked.status == Status.RETURNED:
            locked = ActionPlan(
                territory=locked.territory,
                phase=locked.phase,
                version=locked.version + 1,
                summary=locked.summary,
                expected_validation_on=locked.expected_validation_on,
            )
        locked.status = Status.SUBMITTED
        locked.submitted_on = on
        locked.full_clean(exclude=["territory", "phase"])
        locked.save()
        return locked

    result = _transition(plan, user, source, "", change)
    _notify(
        users_with_role(Role.Kind.REGIONAL_PILOT, region=plan.territory.region_id),
        f"Plan d'actions soumis : {plan.territory}",
        f"L'équipe du territoire {plan.territory} a soumis la version {result.version} de son plan d'actions. "
        "Il attend votre décision (validation ou renvoi).",
    )
    return result


def validate_plan(
    user, plan: ActionPlan, *, decided_on: datetime.date, source: str = "web", reason: str = ""
) -> ActionPlan:
    """The regional pilot records the Regional Council's validation, on the date of its decision."""
    _check_decision(user, plan)
    if decided_on > timezone.localdate():
        raise ValidationError("La date de décision du Conseil régional ne peut pas être dans le futur.")
    if plan.submitted_on and decided_on < plan.submitted_on:
        raise ValidationError("La décision ne peut pas précéder la soumission du plan.")

    def change(locked: ActionPlan) -> ActionPlan:
        locked.status = Status.VALIDATED
        locked.decided_on = decided_on
        locked.save()
        return locked

    result = _transition(plan, user, source, reason or "Validation par le Conseil régional", change)
    _notify_team(
        plan,
        f"Plan d'actions validé : {plan.territory}",
        f"La version {result.version} de votre plan d'actions a été validée par le Conseil régional "
        f"le {decided_on:%d/%m/%Y}.",
    )
    return result


def return_plan(
    user, plan: ActionPlan, *, reason: str, source: str = "web", decided_on: datetime.date | None = None
) -> ActionPlan:
    """The regional pilot returns the plan to the territory with a reason."""
    _check_decision(user, plan)
    if not (reason or "").strip():
        raise ValidationError("Le motif du renvoi est obligatoire.")

    def change(locked: ActionPlan) -> ActionPlan:
        locked.status = Status.RETURNED
        locked.return_reason = reason.strip()
        locked.decided_on = decided_on or timezone.localdate()
        locked.save()
        return locked

    result = _transition(plan, user, source, reason.strip(), change)
    _notify_team(
        plan,
        f"Plan d'actions renvoyé : {plan.territory}",
        f"La version {result.version} de votre plan d'actions vous est renvoyée pour modification.\n\n"
        f"Motif : {reason.strip()}",
    )
    return result


def _check_decision(user, plan: ActionPlan) -> None:
    if not is_regional_pilot(user, plan.territory.region_id):
        raise PermissionDenied("Seul le pilote régional peut valider ou renvoyer ce plan d'actions.")
    if plan.status != Status.SUBMITTED:
        raise ValidationError(f"Ce plan est « {plan.get_status_display()} » : seul un plan soumis se décide.")


def _notify_team(plan: ActionPlan, subject: str, body: str) -> None:
    _notify(users_with_role(Role.Kind.TERRITORY_TEAM, territory=plan.territory), subject, body)


def _notify(users, subject: str, body: str) -> None:
    recipients = sorted({u.email for u in users})
    if recipients:
        transaction.on_commit(lambda: send_mail(f"[Pilotage] {subject}", body, None, recipients, fail_silently=True))
