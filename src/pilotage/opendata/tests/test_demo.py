"""`pilotage load_demo` and `pilotage demo`: the demonstration programme a visitor explores."""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q

from pilotage.core.text import fold
from pilotage.geo.models import Commune, Epci
from pilotage.geo.services import read_referential
from pilotage.opendata.demo import catalogue, demo_context, has_demo_data
from pilotage.opendata.parsing import siren_key_is_valid
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, Territory
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatusChange

ASSEMBLY = datetime.date(2019, 11, 19)


def load(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> dict:
    """What a visitor would compare between two loads: codes, perimeters, dates, titles, owners, amounts."""
    return {
        "territories": list(
            Territory.objects.order_by("code").values_list("code", "name", "governance_installed_on", "population")
        ),
        "perimeters": sorted(Territory.epcis.through.objects.values_list("territory__code", "epci_id")),
        "plans": sorted(ActionPlan.objects.values_list("territory__code", "phase__code", "version", "decided_on")),
        "projects": list(
            Project.objects.order_by("id_projet").values_list(
                "id_projet", "title", "owner__siren", "commune_id", "status", "reported_on", "total_cost"
            )
        ),
        "funding": list(
            FundingLine.objects.order_by("project__id_projet", "funder__name", "instrument", "requested").values_list(
                "project__id_projet", "funder__name", "requested", "granted", "decided_on"
            )
        ),
    }


def fully_present(real: catalogue.RealTerritory) -> bool:
    return Epci.objects.filter(siren__in=real.sirens).count() == len(real.sirens)


def test_the_grand_est_table_names_real_epci_of_grand_est_each_in_one_territory():
    referential = read_referential()
    region_of = {d["code"]: d["region_id"] for d in referential.departments}
    regions_of_epci: dict[str, Counter] = {}
    for commune in referential.communes:
        regions_of_epci.setdefault(commune["epci_id"], Counter())[region_of[commune["department_id"]]] += 1
    sirens = [siren for real in catalogue.GRAND_EST for siren in real.sirens]
    assert len(sirens) == len(set(sirens)), "an EPCI belongs to two territories"
    for siren in sirens:
        assert regions_of_epci[siren].most_common(1)[0][0] == "44", siren
    assert len([t for t in catalogue.GRAND_EST if catalogue.PHASE_1 in t.phases]) == 15
    assert len(catalogue.ARTICLE_TERRITORIES) == 11


@pytest.mark.django_db
def test_the_slice_gets_the_grand_est_territories_it_can_hold_and_the_others_are_reported(geo_slice):
    assert not has_demo_data()
    _, err = load("--projects-per-territory", "2")
    assert has_demo_data()
    names = set(Territory.objects.values_list("name", flat=True))
    for real in catalogue.GRAND_EST:
        if fully_present(real):
            assert real.name in names
            territory = Territory.objects.get(name=real.name)
            assert territory.code == real.code and territory.is_demo and territory.region_id == "44"
        else:
            assert real.name not in names
            assert real.name in err
    # The five departments hold these territories of the article, whatever else they hold.
    for name in ("Nord Lorraine", "Val de Lorraine", "Terres de Lorraine", "Vosges", "Alsace centrale"):
        assert name in names
    assert "Nord Est Ardennes" in err
    nord_lorraine = Territory.objects.get(name="Nord Lorraine")
    assert sorted(nord_lorraine.phases.values_list("code", flat=True)) == ["2018-2022", "2023-2027"]
    assert {"Metz Métropole", "CA du Val de Fensch"} <= set(nord_lorraine.epcis.values_list("name", flat=True))
    lunevillois = Territory.objects.get(name="Lunévillois")
    assert list(lunevillois.phases.values_list("code", flat=True)) == ["2023-2027"]
    # Regions without any EPCI in the slice get no synthetic territory, and the command says so.
    assert set(Territory.objects.values_list("region_id", flat=True)) == {"44"}
    assert "faute d'EPCI" in err


@pytest.mark.django_db
def test_every_project_is_consistent_with_its_territory_and_phase(geo_slice):
    load("--projects-per-territory", "4")
    projects = Project.objects.select_related("owner", "phase", "commune").prefetch_related("themes__phase")
    assert projects.count() > 0
    perimeter = {
        (code, insee)
        for code, insee in Commune.objects.filter(epci__territories__isnull=False).values_list(
            "epci__territories__code", "insee"
        )
    }
    history = {}
    for project_id, status, at in ProjectStatusChange.objects.order_by("at", "id").values_list(
        "project__id_projet", "status", "at"
    ):
        history.setdefault(project_id, []).append((status, at))
    for project in projects.select_related("territory"):
        assert (project.territory.code, project.commune_id) in perimeter, project.id_projet
        themes = list(project.themes.all())
        assert 1 <= len(themes) <= 2
        assert all(theme.phase == project.phase for theme in themes), project.id_projet
        assert project.territory.phases.filter(pk=project.phase_id).exists()
        if project.owner.siren:
            assert len(project.owner.siren) == 9 and siren_key_is_valid(project.owner.siren), project.owner.siren
        assert project.search_text == fold(f"{project.title} {project.description} {project.owner.name}")
        changes = history[project.id_projet]
        assert changes[0][0] == "idea" and changes[0][1].date() == project.reported_on
        assert changes[-1][0] == project.status
        if project.end_on:
            assert project.end_on >= project.start_on
    companies = Organisation.objects.filter(kind=Organisation.Kind.COMPANY, projects__territory__is_demo=True)
    assert companies.exists()
    assert all(siren_key_is_valid(siren) for siren in companies.values_list("siren", flat=True))
    public = Project.objects.filter(public=True).count() / Project.objects.count()
    assert 0.75 < public < 1


@pytest.mark.django_db
def test_same_seed_gives_the_same_programme_and_another_seed_another(geo_slice):
    load("--seed", "7", "--projects-per-territory", "3")
    first = snapshot()
    with pytest.raises(CommandError, match="--reset"):
        load("--seed", "7", "--projects-per-territory", "3")
    assert snapshot() == first
    load("--reset", "--seed", "7", "--projects-per-territory", "3")
    assert snapshot() == first
    load("--reset", "--seed", "8", "--projects-per-territory", "3")
    other = snapshot()
    assert other["projects"] != first["projects"]
    assert other["funding"] != first["funding"]
    # The real territories keep their official codes and perimeters whatever the seed.
    real = [row for row in other["perimeters"] if row[0] in {t.code for t in catalogue.GRAND_EST}]
    assert real == [row for row in first["perimeters"] if row[0] in {t.code for t in catalogue.GRAND_EST}]


@pytest.mark.django_db
def test_reset_removes_demo_owners_but_keeps_funders(geo_slice):
    load("--projects-per-territory", "2")
    funders = set(Organisation.objects.filter(kind=Organisation.Kind.FUNDER).values_list("pk", flat=True))
    assert funders
    call_command("load_demo", "--reset", "--projects-per-territory", "0", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Project.objects.exists()
    assert not Organisation.objects.filter(kind=Organisation.Kind.COMPANY).exists()
    assert funders <= set(Organisation.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_scale_adds_copies_with_their_own_codes_and_the_same_perimeters(geo_slice):
    load("--projects-per-territory", "1")
    single = Territory.objects.count()
    projects = Project.objects.count()
    load("--reset", "--scale", "3", "--projects-per-territory", "1")
    assert Territory.objects.count() == 3 * single
    assert Project.objects.count() == 3 * projects
    copy = Territory.objects.get(name="Vosges (réplique 3)")
    original = Territory.objects.get(name="Vosges")
    assert copy.code != original.code and copy.code.startswith("ti-44")
    assert set(copy.epcis.all()) == set(original.epcis.all())
    assert copy.is_demo


@pytest.mark.django_db
def test_the_banner_helper_says_whether_demo_data_is_loaded(geo_slice, django_assert_num_queries):
    context = demo_context(None)
    with django_assert_num_queries(0):
        demo_context(None)
    assert not context["DEMO_DATA"]
    load("--projects-per-territory", "0")
    assert demo_context(None)["DEMO_DATA"]


@pytest.mark.django_db
def test_the_national_picture_of_the_article_on_the_day_of_the_assembly():
    """Full referential and default volumes: what the dashboards will show for 2019-11-19."""
    call_command("load_referential", stdout=io.StringIO())
    out, _ = load()
    phase1 = Territory.objects.filter(phases__code="2018-2022")
    assert phase1.count() == 146
    assert phase1.filter(region_id="44").count() == 15
    installed = phase1.filter(governance_installed_on__lte=ASSEMBLY).count()
    assert round(100 * installed / 146, 1) == 87.0
    plans = ActionPlan.objects.filter(phase__code="2018-2022")
    validated = plans.filter(status="validated", decided_on__lte=ASSEMBLY)
    assert validated.count() == 58
    pending = plans.filter(
        Q(decided_on__isnull=True) | Q(decided_on__gt=ASSEMBLY), status__in=["validated", "submitted"]
    )
    assert validated.count() + pending.filter(expected_validation_on__lte=datetime.date(2019, 12, 31)).count() > 98
    signed = Contract.objects.filter(signed_on=ASSEMBLY)
    assert sorted(signed.values_list("territory__name", flat=True)) == sorted(catalogue.ARTICLE_TERRITORIES)
    assert 1200 <= Project.objects.filter(reported_on__lte=ASSEMBLY).count() <= 1300
    in_assembly = Project.objects.filter(reported_on__lte=ASSEMBLY, territory__contracts__signed_on=ASSEMBLY)
    assert 40 <= in_assembly.count() <= 60  # « une cinquantaine de projets »
    assert Territory.objects.count() == 183
    assert 2700 <= Project.objects.count() <= 3300
    assert 2.8 <= FundingLine.objects.count() / Project.objects.count() <= 3.8
    # Every territory has its binôme élu-industriel, and every region of France has territories.
    binomes = Territory.objects.annotate(
        leads=Count("governance_members", filter=Q(governance_members__role__in=["elected_lead", "industrial_lead"]))
    )
    assert set(binomes.values_list("leads", flat=True)) == {2}
    assert GovernanceMember.objects.exclude(email="").count() == GovernanceMember.objects.count()
    assert Territory.objects.values("region").distinct().count() == len(catalogue.REGION_PLAN) + 1
    parc = Project.objects.get(title__startswith="Parc'Innov")
    assert parc.territory.name.startswith("Vitry-le-François") and parc.reported_on <= ASSEMBLY
    assert "183 territoires" in out


@pytest.mark.django_db
def test_demo_command_prepares_everything_once_without_serving(db):
    out = io.StringIO()
    call_command("demo", "--no-serve", "--departments", "54", "--projects-per-territory", "1", stdout=out)
    assert Commune.objects.filter(department_id="54").exists()
    assert Territory.objects.filter(name="Terres de Lorraine").exists()
    assert has_demo_data()
    before = Project.objects.count()
    again = io.StringIO()
    call_command("demo", "--no-serve", stdout=again, stderr=io.StringIO())
    assert "déjà chargé" in again.getvalue()
    assert Project.objects.count() == before
