import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, ProgrammePhase, Territory
from pilotage.programme.workflows import return_plan, submit_plan, validate_plan


@pytest.fixture
def plan(db):
    region = Region.objects.create(code="44", name="Grand Est")
    Region.objects.create(code="53", name="Bretagne")
    phase = ProgrammePhase.objects.get(code="2018-2022")
    territory = Territory.objects.create(code="ti-4401", name="Nord Lorraine", region=region)
    territory.phases.add(phase)
    return ActionPlan.objects.create(territory=territory, phase=phase, summary="Axes 2019")


@pytest.fixture
def people(plan):
    return {
        "team": create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0],
        "pilot": create_or_update_user("pilote@grandest.fr", "regional_pilot", "44")[0],
        "other_pilot": create_or_update_user("pilote@bretagne.bzh", "regional_pilot", "53")[0],
        "state": create_or_update_user("sgar@prefecture.gouv.fr", "state_services", "44")[0],
    }


def test_return_then_validate_the_resubmitted_version(plan, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit_plan(people["team"], plan, on=datetime.date(2019, 9, 1))
    assert submitted.status == "submitted" and mail.outbox[-1].to == ["pilote@grandest.fr"]

    with django_capture_on_commit_callbacks(execute=True):
        returned = return_plan(people["pilot"], submitted, reason="Chiffrer l'axe recruter")
    assert returned.status == "returned" and returned.return_reason == "Chiffrer l'axe recruter"
    assert mail.outbox[-1].to == ["equipe@nord-lorraine.fr"] and "Chiffrer" in mail.outbox[-1].body

    resubmitted = submit_plan(people["team"], returned, on=datetime.date(2019, 9, 20))
    assert (resubmitted.version, resubmitted.status) == (2, "submitted")
    validated = validate_plan(people["pilot"], resubmitted, decided_on=datetime.date(2019, 9, 30))
    assert (validated.status, validated.decided_on) == ("validated", datetime.date(2019, 9, 30))

    versions = ActionPlan.objects.filter(territory=plan.territory).order_by("version")
    assert [(p.version, p.status) for p in versions] == [(1, "returned"), (2, "validated")]
    v1_history = list(history_of(versions[0]))
    assert [h.after["status"] for h in v1_history] == ["submitted", "returned"]
    assert v1_history[-1].reason == "Chiffrer l'axe recruter" and v1_history[-1].user == people["pilot"]


def test_only_the_team_submits_and_only_the_region_decides(plan, people):
    for who in ("pilot", "state", "other_pilot"):
        with pytest.raises(PermissionDenied):
            submit_plan(people[who], plan)
    submitted = submit_plan(people["team"], plan)
    for who in ("team", "state", "other_pilot"):
        with pytest.raises(PermissionDenied):
            validate_plan(people[who], submitted, decided_on=datetime.date(2019, 9, 30))
        with pytest.raises(PermissionDenied):
            return_plan(people[who], submitted, reason="non")
    assert ActionPlan.objects.get(pk=plan.pk).status == "submitted"


def test_preconditions_are_checked_and_nothing_changes(plan, people):
    with pytest.raises(ValidationError, match="seul un plan soumis"):
        validate_plan(people["pilot"], plan, decided_on=datetime.date(2019, 9, 30))
    submitted = submit_plan(people["team"], plan)
    with pytest.raises(ValidationError, match="motif"):
        return_plan(people["pilot"], submitted, reason="  ")
    with pytest.raises(ValidationError, match="futur"):
        validate_plan(people["pilot"], submitted, decided_on=datetime.date.today() + datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="ne peut pas être soumis"):
        submit_plan(people["team"], submitted)
    assert ActionPlan.objects.get(pk=plan.pk).status == "submitted"
    assert len(history_of(plan)) == 1
