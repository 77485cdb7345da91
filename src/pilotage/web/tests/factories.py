"""Programme records for the public pages' tests (Django client and browser), on top of the `geo_slice` referential."""

import datetime

from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory
from pilotage.projects.models import Project

NORD_LORRAINE_EPCIS = ["200039865", "245701222"]  # Metz Métropole, CA du Val de Fensch
SUD_ALSACE_EPCIS = ["200066009"]  # Mulhouse Alsace Agglomération
# Personal data stored on governance members: it must never appear on a public page.
MEMBER_EMAIL = "claire.industrie@example.org"
MEMBER_PHONE = "03 87 00 00 00"


def make_territory(
    code: str, name: str, region: str, epcis: list[str], phases: tuple[str, ...] = ("2018-2022",), **fields
) -> Territory:
    territory = Territory.objects.create(code=code, name=name, region_id=region, **fields)
    territory.phases.set(ProgrammePhase.objects.filter(code__in=phases))
    territory.epcis.set(epcis)
    territory.refresh_derived()
    return territory


def make_programme() -> dict[str, Territory]:
    """Three territories at different stages: one far along, one just started, one outside Grand Est."""
    first = ProgrammePhase.objects.get(code="2018-2022")
    nord = make_territory(
        "ti-4401",
        "Nord Lorraine",
        "44",
        NORD_LORRAINE_EPCIS,
        ("2018-2022", "2023-2027"),
        governance_installed_on=datetime.date(2019, 3, 15),
    )
    GovernanceMember.objects.create(
        territory=nord,
        role=GovernanceMember.Role.INDUSTRIAL_LEAD,
        full_name="Claire Industrie",
        position="Présidente",
        organisation="Aciéries de Lorraine",
        email=MEMBER_EMAIL,
        phone=MEMBER_PHONE,
    )
    GovernanceMember.objects.create(
        territory=nord,
        role=GovernanceMember.Role.ELECTED_LEAD,
        full_name="Jean Élu",
        position="Vice-président",
        email="jean.elu@example.org",
    )
    Contract.objects.create(territory=nord, phase=first, kind="protocol", signed_on=datetime.date(2019, 6, 3))
    Contract.objects.create(territory=nord, phase=first, kind="contract", signed_on=datetime.date(2020, 2, 10))
    ActionPlan.objects.create(
        territory=nord,
        phase=first,
        version=1,
        status="validated",
        submitted_on=datetime.date(2019, 10, 1),
        decided_on=datetime.date(2019, 12, 12),
    )
    Project.objects.create(
        id_projet="P-0001",
        territory=nord,
        phase=first,
        title="Parc d'écologie industrielle",
        reported_on=datetime.date(2020, 1, 15),
    )
    sud = make_territory("ti-4402", "Sud Alsace", "44", SUD_ALSACE_EPCIS)
    Contract.objects.create(territory=sud, phase=first, kind="protocol", signed_on=datetime.date(2020, 5, 4))
    ActionPlan.objects.create(
        territory=sud, phase=first, version=1, status="submitted", expected_validation_on=datetime.date(2020, 11, 30)
    )
    # No EPCI of the slice is in Hauts-de-France: this one has an empty perimeter.
    flandre = make_territory(
        "ti-3201", "Flandre intérieure", "32", [], ("2023-2027",), governance_installed_on=datetime.date(2023, 9, 1)
    )
    return {"nord": nord, "sud": sud, "flandre": flandre}
