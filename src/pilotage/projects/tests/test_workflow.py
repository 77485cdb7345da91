"""The write use cases of projects (services.py) and the status transitions (workflow.py): scope, validation,
optimistic locking, reasons and history."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.projects import services, workflow
from pilotage.projects.models import FundingLine, Indicator, Organisation, Project

from .builders import build_sample

D = datetime.date


@pytest.fixture
def sample(db):
    return build_sample()


@pytest.fixture
def team(sample):
    return create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0]


def fresh(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


# --- creation ---------------------------------------------------------------------------------------------------------


def test_a_territory_team_creates_a_project_in_its_territory_with_a_generated_id(sample, team):
    project = services.create_project(
        team,
        {"territory": "ti-4401", "title": "  Atelier   partagé ", "themes": ["innover"], "total_cost": "85000"},
        reason="Remontée du comité de pilotage",
    )
    assert project.id_projet == "PRJ-ti-4401-0003"  # 0001 and 0002 exist in the sample
    project = fresh(project)
    assert (project.title, project.phase.code, project.status, project.version) == (
        "Atelier partagé",
        "2018-2022",
        "idea",
        1,
    )
    assert list(project.themes.values_list("code", flat=True)) == ["innover"]
    [entry] = history_of(project)
    assert (entry.action, entry.user, entry.reason) == ("create", team, "Remontée du comité de pilotage")
    assert entry.after["title"] == "Atelier partagé" and entry.after["total_cost"] == "85000.00"
    assert list(project.status_changes.values_list("status", "by_label")) == [("idea", "equipe@nord-lorraine.fr")]


def test_creation_outside_ones_territory_is_refused(sample, team):
    with pytest.raises(PermissionDenied):
        services.create_project(team, {"territory": "ti-5301", "title": "Ailleurs"})
    pilot = create_or_update_user("region@grandest.fr", "regional_pilot", "44")[0]
    with pytest.raises(PermissionDenied):
        services.create_project(pilot, {"territory": "ti-4401", "title": "Par la Région"})
    assert not Project.objects.filter(title__in=["Ailleurs", "Par la Région"]).exists()


def test_creation_input_is_checked_field_by_field(sample, team):
    with pytest.raises(ValidationError) as error:
        services.create_project(
            team,
            {
                "territory": "ti-4401",
                "title": "",
                "themes": ["recruter", "inconnu"],
                "total_cost": "-5",
                "start_on": D(2021, 1, 1),
                "end_on": D(2020, 1, 1),
                "owner": {"name": "Acme", "siren": "123456789"},
                "id_projet": sample.parc.id_projet,
            },
        )
    assert set(error.value.message_dict) == {"title", "themes", "total_cost", "end_on", "owner.siren", "id_projet"}
    assert "inconnu" in error.value.message_dict["themes"][0]
    assert Project.objects.count() == 4


def test_an_owner_is_found_by_siren_or_created(sample, team):
    known = services.create_project(
        team, {"territory": "ti-4401", "title": "A", "owner": {"name": "Autre nom", "siren": "732 829 320"}}
    )
    new = services.create_project(team, {"territory": "ti-4401", "title": "B", "owner": {"name": "Forge Nouvelle"}})
    assert known.owner == sample.fonderie  # the SIREN decides; the name is not overwritten
    assert new.owner.name == "Forge Nouvelle" and new.owner.kind == "other"
    assert history_of(new.owner).get().action == "create"


# --- update and optimistic locking ------------------------------------------------------------------------------------


def test_update_changes_only_the_given_fields_and_increments_the_version(sample, team):
    project = services.update_project(team, sample.secret, {"title": "Projet dévoilé", "public": True})
    project = fresh(project)
    assert (project.title, project.public, project.status, project.version) == ("Projet dévoilé", True, "maturing", 2)
    entry = history_of(project).get()
    assert (entry.before["title"], entry.after["title"], entry.after["version"]) == (
        "Projet confidentiel d'écologie",
        "Projet dévoilé",
        2,
    )
    # The same values again: nothing is written.
    services.update_project(team, project, {"title": "Projet dévoilé"})
    assert (fresh(project).version, history_of(project).count()) == (2, 1)


def test_a_stale_version_is_a_conflict_showing_what_changed_and_nothing_is_written(sample, team):
    services.update_project(team, sample.parc, {"title": "Parc v2"}, expected_version=1)
    with pytest.raises(services.ConflictError) as conflict:
        services.update_project(team, sample.parc, {"description": "Ma version"}, expected_version=1)
    details = conflict.value.as_details()
    assert (details["expected_version"], details["current_version"]) == (1, 2)
    assert details["current"]["title"] == "Parc v2"
    assert details["changes"][0]["fields"]["title"] == {
        "before": "Parc'Innov : écologie industrielle territoriale",
        "after": "Parc v2",
    }
    assert details["changes"][0]["by"] == "equipe@nord-lorraine.fr"
    parc = fresh(sample.parc)
    assert (parc.description, parc.version) == ("Un parc d'activités bâti sur les bio-ressources du territoire.", 2)


def test_changing_the_total_cost_needs_a_reason(sample, team):
    with pytest.raises(ValidationError) as error:
        services.update_project(team, sample.parc, {"total_cost": Decimal("1300000")})
    assert "reason" in error.value.message_dict
    services.update_project(team, sample.parc, {"total_cost": Decimal("1300000")}, reason="Devis actualisé")
    assert history_of(sample.parc).get().reason == "Devis actualisé"


def test_status_is_not_changed_by_an_update(sample, team):
    with pytest.raises(ValidationError) as error:
        services.update_project(team, sample.parc, {"status": "completed"})
    assert "transition" in error.value.message_dict["status"][0]


@pytest.mark.parametrize(
    ("email", "role", "scope", "error"),
    [
        ("autre@vosges.fr", "territory_team", "ti-5301", ObjectDoesNotExist),  # cannot see the private project
        ("region@grandest.fr", "regional_pilot", "44", PermissionDenied),  # sees it, may not change it
        ("prefecture@grandest.fr", "state_services", "44", PermissionDenied),
    ],
)
def test_out_of_scope_is_not_found_and_visible_but_not_editable_is_forbidden(sample, email, role, scope, error):
    user = create_or_update_user(email, role, scope)[0]
    with pytest.raises(error):
        services.update_project(user, sample.secret, {"title": "Piraté"})
    assert fresh(sample.secret).title == "Projet confidentiel d'écologie"


def test_a_project_owner_edits_its_own_project_only(sample):
    owner = create_or_update_user("porteur@fonderie.fr", "project_owner", sample.mobilite.id_projet)[0]
    services.update_project(owner, sample.mobilite, {"description": "Avancement du projet"})
    with pytest.raises(PermissionDenied):  # public, so visible
        services.update_project(owner, sample.parc, {"description": "Non"})


# --- status transitions ----------------------------------------------------------------------------------------------


def test_advance_moves_forward_step_by_step_or_skipping_with_a_reason(sample, team):
    project = workflow.advance(team, sample.secret, "ready", "Étude de faisabilité rendue")
    assert fresh(project).status == "ready"
    project = workflow.advance(team, project, "completed", "Réalisé sans phase d'engagement distincte")
    project = fresh(project)
    assert (project.status, project.version) == ("completed", 3)
    assert list(project.status_changes.values_list("status", "reason")) == [
        ("ready", "Étude de faisabilité rendue"),
        ("completed", "Réalisé sans phase d'engagement distincte"),
    ]
    transitions = history_of(project).filter(action="transition")
    assert [(e.before["status"], e.after["status"]) for e in transitions] == [
        ("maturing", "ready"),
        ("ready", "completed"),
    ]
    assert all(e.user == team for e in transitions)


@pytest.mark.parametrize(
    ("start", "target", "reason", "field"),
    [
        ("ready", "maturing", "Retour en arrière", "status"),  # backwards
        ("ready", "ready", "Pareil", "status"),
        ("completed", "in_progress", "Rouvrir", "status"),  # closed
        ("abandoned", "idea", "Relancer", "status"),
        ("idea", "ready", "   ", "reason"),  # reason required
        ("idea", "abandoned", "Abandon", "status"),  # abandon has its own function
        ("idea", "termine", "Statut inconnu", "status"),
    ],
)
def test_refused_transitions_change_nothing(sample, team, start, target, reason, field):
    Project.objects.filter(pk=sample.secret.pk).update(status=start)
    with pytest.raises(ValidationError) as error:
        workflow.advance(team, sample.secret, target, reason)
    assert field in error.value.message_dict
    assert (fresh(sample.secret).status, fresh(sample.secret).version) == (start, 1)
    assert not history_of(sample.secret).exists()


def test_abandon_from_any_open_status_keeps_the_reason(sample, team):
    with pytest.raises(ValidationError):
        workflow.abandon(team, sample.parc, "")
    project = fresh(workflow.abandon(team, sample.parc, "Financement refusé"))
    assert (project.status, project.abandon_reason) == ("abandoned", "Financement refusé")
    assert project.status_changes.get().reason == "Financement refusé"
    with pytest.raises(ValidationError):
        workflow.abandon(team, project, "Encore")


def test_next_statuses_follow_the_programme_order():
    assert workflow.next_statuses("maturing") == ["ready", "in_progress", "completed"]
    assert workflow.next_statuses("completed") == workflow.next_statuses("abandoned") == []
    assert workflow.may_abandon("in_progress") and not workflow.may_abandon("completed")


def test_a_transition_on_a_stale_version_is_a_conflict(sample, team):
    workflow.advance(team, sample.secret, "ready", "Prêt")
    with pytest.raises(services.ConflictError):
        workflow.abandon(team, sample.secret, "Arrêt", expected_version=1)
    assert fresh(sample.secret).status == "ready"


# --- funding lines, decisions, indicators, milestones -----------------------------------------------------------------


def test_funding_lines_are_added_changed_with_a_reason_and_deleted_with_history(sample, team):
    line = services.add_funding_line(
        team, sample.parc, {"funder": "banque des territoires", "instrument": "Ingénierie", "requested": "40000"}
    )
    assert line.funder.kind == "funder" and line.funder.name == "banque des territoires"
    with pytest.raises(ValidationError) as error:
        services.update_funding_line(team, line, {"requested": "45000"})
    assert "reason" in error.value.message_dict
    services.update_funding_line(team, line, {"requested": "45000"}, reason="Devis révisé")
    services.update_funding_line(team, line, {"instrument": "Ingénierie de projet"})  # no amount: no reason needed
    with pytest.raises(ValidationError):
        services.delete_funding_line(team, line, reason="")
    services.delete_funding_line(team, line, reason="Doublon")
    assert not FundingLine.objects.filter(pk=line.pk).exists()
    entries = list(history_of(line))
    assert [(e.action, e.reason) for e in entries] == [
        ("create", ""),
        ("update", "Devis révisé"),
        ("update", ""),
        ("delete", "Doublon"),
    ]
    assert entries[-1].before["requested"] == "45000.00" and entries[-1].after is None
    assert fresh(sample.parc).version == 5  # every write to the plan is a new version of the project


def test_funders_and_state_services_decide_on_their_lines_only(sample, team):
    bpi_line = FundingLine.objects.get(project=sample.parc, funder__name="Bpifrance")
    region_line = FundingLine.objects.get(project=sample.parc, funder__name="Région Grand Est")
    bpi = create_or_update_user("bpi@example.fr", "funder", "Bpifrance")[0]
    prefecture = create_or_update_user("sgar@grandest.fr", "state_services", "44")[0]
    bretagne = create_or_update_user("sgar@bretagne.fr", "state_services", "53")[0]

    services.decide_funding_line(bpi, bpi_line, Decimal("260000"), D(2020, 3, 1), "granted", "Comité d'engagement")
    with pytest.raises(PermissionDenied):  # visible (public project), not its line
        services.decide_funding_line(bpi, region_line, Decimal("1"), D(2020, 3, 1), "granted", "Non")
    with pytest.raises(PermissionDenied):  # team edits the plan, does not decide
        services.decide_funding_line(team, region_line, Decimal("1"), D(2020, 3, 1), "granted", "Non")
    with pytest.raises(PermissionDenied):
        services.decide_funding_line(bretagne, region_line, Decimal("1"), D(2020, 3, 1), "granted", "Non")
    with pytest.raises(ValidationError):
        services.decide_funding_line(prefecture, region_line, None, D(2020, 4, 1), "refused", " ")
    services.decide_funding_line(prefecture, region_line, None, D(2020, 4, 1), "refused", "Hors critères")

    bpi_line.refresh_from_db()
    region_line.refresh_from_db()
    assert (bpi_line.granted, bpi_line.status) == (Decimal("260000.00"), "granted")
    assert (region_line.status, region_line.decided_on) == ("refused", D(2020, 4, 1))
    assert history_of(region_line).get().user == prefecture


def test_a_funder_cannot_even_see_a_private_projects_line_it_does_not_fund(sample):
    other = Organisation.objects.create(name="Caisse des dépôts", kind="funder")
    line = FundingLine.objects.create(project=sample.secret, funder=other, requested=Decimal("10"))
    bpi = create_or_update_user("bpi@example.fr", "funder", "Bpifrance")[0]
    with pytest.raises(ObjectDoesNotExist):
        services.decide_funding_line(bpi, line, Decimal("1"), D(2020, 1, 1), "granted", "Non")


def test_indicator_values_are_recorded_by_date_and_milestones_kept(sample, team):
    value = services.record_indicator_value(team, sample.parc, "emplois_crees", D(2022, 12, 31), measured=Decimal("35"))
    again = services.record_indicator_value(team, sample.parc, "emplois_crees", D(2022, 12, 31), target=Decimal("40"))
    assert again.pk == value.pk
    again.refresh_from_db()
    assert (again.target, again.measured) == (Decimal("40.00"), Decimal("35.00"))
    assert [e.action for e in history_of(value)] == ["create", "update"]
    with pytest.raises(ValidationError) as error:
        services.record_indicator_value(team, sample.parc, "inconnu", D(2022, 1, 1), measured=1)
    assert "emplois_crees" in error.value.message_dict["indicator"][0]
    assert Indicator.objects.count() == 2

    milestone = services.add_milestone(team, sample.parc, {"label": "Inauguration", "planned_on": D(2022, 6, 1)})
    services.update_milestone(team, milestone, {"actual_on": D(2022, 6, 15)})
    milestone.refresh_from_db()
    assert milestone.actual_on == D(2022, 6, 15)
    assert [e.action for e in history_of(milestone)] == ["create", "update"]
    with pytest.raises(ValidationError):
        services.add_milestone(team, sample.parc, {"label": " "})


def test_a_write_that_lost_the_race_for_the_version_is_a_conflict(sample, team):
    """On a database that does not lock rows, two writers may read the same version: the second to claim the next
    one gets a conflict, never an overwrite."""
    stale = fresh(sample.parc)  # read by a writer that has not written yet
    services.update_project(team, sample.parc, {"title": "Premier"})
    with pytest.raises(services.ConflictError) as conflict:
        services.claim_version(stale)
    assert conflict.value.current["title"] == "Premier"
    assert fresh(sample.parc).version == 2
