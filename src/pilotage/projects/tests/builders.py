"""Sample programme data for the read-side tests of projects: two regions, three territories over both phases,
public projects with funding, indicators and milestones, and one private project."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from pilotage.geo.models import Commune, Department, Region
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Indicator, IndicatorValue, Milestone, Organisation, Project

D = datetime.date


@dataclass
class Sample:
    phase1: ProgrammePhase
    phase2: ProgrammePhase
    nord_lorraine: Territory
    vosges: Territory
    lannion: Territory
    fonderie: Organisation
    agglo: Organisation
    parc: Project  # public, Grand Est, 2018-2022, innover + attirer, in progress, funded, indicators, milestones
    campus: Project  # public, Bretagne, 2018-2022, recruter, idea, no funding
    mobilite: Project  # public, Grand Est, 2023-2027, innovation, ready
    secret: Project  # private, Grand Est


def theme(phase: ProgrammePhase, code: str) -> Theme:
    return Theme.objects.get(phase=phase, code=code)


def territory(code: str, name: str, region: Region, phase: ProgrammePhase) -> Territory:
    t = Territory.objects.create(code=code, name=name, region=region)
    t.phases.add(phase)
    return t


def project(id_projet: str, where: Territory, phase: ProgrammePhase, themes: list[str], **fields) -> Project:
    p = Project.objects.create(id_projet=id_projet, territory=where, phase=phase, **fields)
    p.themes.set([theme(phase, code) for code in themes])
    return p


def build_sample() -> Sample:
    phase1 = ProgrammePhase.objects.get(code="2018-2022")
    phase2 = ProgrammePhase.objects.get(code="2023-2027")
    grand_est = Region.objects.create(code="44", name="Grand Est")
    bretagne = Region.objects.create(code="53", name="Bretagne")
    moselle = Department.objects.create(code="57", name="Moselle", region=grand_est)
    cotes = Department.objects.create(code="22", name="Côtes-d'Armor", region=bretagne)
    metz = Commune.objects.create(insee="57463", name="Metz", department=moselle)
    lannion_commune = Commune.objects.create(insee="22113", name="Lannion", department=cotes)

    nord_lorraine = territory("ti-4401", "Nord Lorraine", grand_est, phase1)
    vosges = territory("ti-4402", "Vosges", grand_est, phase2)
    lannion = territory("ti-5301", "Lannion-Trégor", bretagne, phase1)

    fonderie = Organisation.objects.create(name="Fonderie de l'Est", siren="732829320", kind="company")
    agglo = Organisation.objects.create(name="Lannion-Trégor Communauté", siren="200065928", kind="local_authority")
    bpi = Organisation.objects.create(name="Bpifrance", kind="funder")
    region_funder = Organisation.objects.create(name="Région Grand Est", kind="funder")

    parc = project(
        "PRJ-ti-4401-0001",
        nord_lorraine,
        phase1,
        ["innover", "attirer"],
        title="Parc'Innov : écologie industrielle territoriale",
        description="Un parc d'activités bâti sur les bio-ressources du territoire.",
        owner=fonderie,
        commune=metz,
        status="in_progress",
        reported_on=D(2019, 5, 2),
        start_on=D(2019, 9, 1),
        end_on=D(2021, 12, 31),
        total_cost=Decimal("1200000"),
    )
    FundingLine.objects.create(
        project=parc,
        funder=bpi,
        instrument="Prêt d'amorçage",
        requested=Decimal("300000"),
        granted=Decimal("250000.50"),
        decided_on=D(2020, 2, 15),
        status="granted",
    )
    FundingLine.objects.create(
        project=parc, funder=region_funder, instrument="Fonds régional", requested=Decimal("150000")
    )
    jobs = Indicator.objects.create(phase=phase1, code="emplois_crees", label="Emplois créés", unit="emplois")
    invest = Indicator.objects.create(phase=phase1, code="investissement_prive", label="Investissement privé", unit="€")
    IndicatorValue.objects.create(project=parc, indicator=jobs, on=D(2021, 12, 31), target=Decimal("40"), measured=None)
    IndicatorValue.objects.create(project=parc, indicator=jobs, on=D(2020, 12, 31), target=Decimal("20"), measured=17)
    IndicatorValue.objects.create(project=parc, indicator=invest, on=D(2020, 12, 31), target=Decimal("500000"))
    Milestone.objects.create(
        project=parc, label="Permis de construire", planned_on=D(2019, 12, 1), actual_on=D(2020, 1, 10)
    )
    Milestone.objects.create(project=parc, label="Mise en service", planned_on=D(2021, 6, 1))

    campus = project(
        "PRJ-ti-5301-0001",
        lannion,
        phase1,
        ["recruter"],
        title="Campus des métiers de l'industrie",
        description="Former aux métiers de l'optique et de la photonique ; ecologie des procédés.",
        owner=agglo,
        commune=lannion_commune,
        status="idea",
        reported_on=D(2019, 7, 1),
    )
    mobilite = project(
        "PRJ-ti-4402-0001",
        vosges,
        phase2,
        ["innovation"],
        title="Sous-traitants automobiles : cap sur la mobilité 4.0",
        owner=fonderie,
        status="ready",
        reported_on=D(2024, 3, 12),
        total_cost=Decimal("85000.5"),
    )
    secret = project(
        "PRJ-ti-4401-0002",
        nord_lorraine,
        phase1,
        ["innover"],
        title="Projet confidentiel d'écologie",
        owner=fonderie,
        status="maturing",
        public=False,
        reported_on=D(2020, 1, 1),
    )
    return Sample(phase1, phase2, nord_lorraine, vosges, lannion, fonderie, agglo, parc, campus, mobilite, secret)


def add_projects(where: Territory, phase: ProgrammePhase, count: int, start: int = 100) -> None:
    """`count` more public projects, each with two themes, an owner and a funding line (for query counts)."""
    funder = Organisation.objects.get_or_create(name="Banque des Territoires", kind="funder")[0]
    themes = list(Theme.objects.filter(phase=phase)[:2])
    for i in range(start, start + count):
        owner = Organisation.objects.create(name=f"Entreprise {i}", kind="company")
        p = Project.objects.create(
            id_projet=f"PRJ-X-{i:04d}",
            territory=where,
            phase=phase,
            title=f"Projet {i}",
            owner=owner,
            reported_on=D(2020, 1, 1) + datetime.timedelta(days=i),
            total_cost=Decimal(i * 1000),
        )
        p.themes.set(themes)
        FundingLine.objects.create(project=p, funder=funder, requested=Decimal(i * 100))
