"""PDF territory sheets and regional syntheses: what a reader finds in them, read back with poppler's tools.

Rendering takes about a second per document, so few tests render: each checks everything one document shows.
"""

import datetime
import math
import re
import shutil
import subprocess
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.urls import reverse

from pilotage.geo.models import Region
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Organisation, Project, ProjectStatus
from pilotage.stats.figures import build_scope, programme_figures
from pilotage.stats.reports import (
    OPERATOR,
    Projection,
    contract_step,
    distinct_colours,
    fmt_euros,
    fmt_int,
    fmt_pct,
    plan_step,
    static_path,
)

D = datetime.date
AS_OF = D(2024, 6, 30)
NORD_EPCIS = ["200039865", "245701222"]  # Metz Métropole, CA du Val de Fensch (Moselle)
SUD_EPCIS = ["200066009"]  # Mulhouse Alsace Agglomération
PRIVATE_TITLE = "Rachat confidentiel de la fonderie"
PUBLIC_TITLE = "Parc d'écologie industrielle sur les bio-ressources"


def poppler(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} (paquet Debian poppler-utils) est nécessaire à ce test")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def pdf_text(path: Path) -> str:
    """The text of the PDF as laid out (a table row on one line), with French no-break spaces as plain spaces."""
    return plain(poppler("pdftotext", "-layout", str(path), "-"))


def pdf_phrases(path: Path) -> str:
    """The text in reading order, whitespace collapsed: for phrases that wrap inside a box."""
    return " ".join(plain(poppler("pdftotext", str(path), "-")).split())


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def page_count(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(path)), re.M).group(1))


def territory(code: str, name: str, epcis: list[str], **fields) -> Territory:
    t = Territory.objects.create(code=code, name=name, region_id="44", **fields)
    t.phases.set(ProgrammePhase.objects.filter(code="2018-2022"))
    t.epcis.set(epcis)
    t.refresh_derived()
    return t


@pytest.fixture
def programme(geo_slice):
    phase = ProgrammePhase.objects.get(code="2018-2022")
    nord = territory("ti-4401", "Nord Lorraine", NORD_EPCIS, governance_installed_on=D(2019, 3, 15))
    sud = territory("ti-4402", "Sud Alsace", SUD_EPCIS)
    members = [
        ("elected_lead", "Jean Élu", "jean.elu@example.org", None),
        ("industrial_lead", "Claire Industrie", "claire.industrie@example.org", None),
        ("project_manager", "Paul Ancien", "paul.ancien@example.org", D(2021, 12, 31)),  # left before AS_OF
    ]
    for role, name, email, ends_on in members:
        GovernanceMember.objects.create(
            territory=nord, role=role, full_name=name, email=email, phone="03 87 00 00 00", ends_on=ends_on
        )
    Contract.objects.create(territory=nord, phase=phase, kind="protocol", signed_on=D(2019, 6, 3))
    Contract.objects.create(territory=nord, phase=phase, kind="contract", signed_on=D(2020, 2, 10))
    ActionPlan.objects.create(territory=nord, phase=phase, status="validated", decided_on=D(2019, 12, 12))
    ActionPlan.objects.create(territory=sud, phase=phase, status="submitted", expected_validation_on=D(2024, 11, 30))

    bpi = Organisation.objects.create(name="Bpifrance", kind="funder")
    region = Organisation.objects.create(name="Région Grand Est", kind="funder")
    themes = {t.code: t for t in Theme.objects.filter(phase=phase)}
    projects = [
        ("P-1", nord, PUBLIC_TITLE, True, "in_progress", ["innover", "attirer"], "1200000"),
        ("P-2", nord, "Campus des métiers de la mécanique", True, "idea", ["recruter"], None),
        ("P-3", nord, PRIVATE_TITLE, False, "maturing", ["attirer"], "3400000"),
        ("P-4", sud, "Usine pilote de recyclage des batteries", True, "ready", ["innover"], "950000"),
        ("P-5", nord, "Projet remonté après la date", True, "idea", ["innover"], None),
    ]
    for id_projet, where, title, public, status, codes, cost in projects:
        p = Project.objects.create(
            id_projet=id_projet,
            territory=where,
            phase=phase,
            title=title,
            public=public,
            status=status,
            reported_on=D(2025, 1, 1) if id_projet == "P-5" else D(2020, 3, 1),
            total_cost=Decimal(cost) if cost else None,
        )
        p.themes.set([themes[c] for c in codes])
    funding = [("P-1", bpi, "300000", "250000.50"), ("P-1", region, "150000", None), ("P-3", bpi, "777000", "700000")]
    for id_projet, funder, requested, granted in funding:
        FundingLine.objects.create(
            project=Project.objects.get(id_projet=id_projet),
            funder=funder,
            requested=Decimal(requested),
            granted=Decimal(granted) if granted else None,
        )
    FundingLine.objects.create(project=Project.objects.get(id_projet="P-4"), funder=region, requested=Decimal(80000))
    return {"nord": nord, "sud": sud}


def shows_count(text: str, label: str, n: int) -> bool:
    """A table row of the PDF: the label followed by its count."""
    return re.search(rf"{re.escape(label)}\s+{n}(\s|$)", text) is not None


def test_territory_sheet_shows_identity_governance_milestones_and_the_figures(programme, tmp_path):
    out = tmp_path / "fiche.pdf"
    progress = StringIO()
    call_command("report", "territory", "ti-4401", "-o", str(out), "--as-of", AS_OF.isoformat(), stderr=progress)

    assert out.read_bytes().startswith(b"%PDF-")
    assert page_count(out) >= 1
    assert f"{page_count(out)} page(s)" in progress.getvalue()
    assert "Mise en page" in progress.getvalue()
    text = pdf_text(out)
    assert "Nord Lorraine" in text and "ti-4401" in text and "Grand Est" in text
    assert "Metz Métropole" in text and "CA du Val de Fensch" in text  # the map's legend
    assert "Jean Élu" in text and "Claire Industrie" in text
    assert "Paul Ancien" not in text  # no longer a member at that date
    assert "@" not in text and "03 87" not in text  # contact details are never printed
    assert "3 juin 2019" in text  # the protocol's signature
    assert "Validé par le Conseil régional" in text

    # The figures are those of the stats module for this scope (the operator sees every project).
    figures = programme_figures(build_scope(OPERATOR, territory="ti-4401"), AS_OF)
    assert figures["projects"] == 3
    assert PRIVATE_TITLE in text and "Projet remonté après la date" not in text
    assert plain(fmt_euros(figures["funding_requested"])) in text
    assert plain(fmt_euros(figures["funding_granted"])) in text
    for funder, amounts in figures["funding_by_funder"].items():
        assert re.search(rf"{funder}\s+{plain(fmt_euros(amounts['requested']))}", text), funder
    statuses = dict(ProjectStatus.choices)
    for code, n in figures["projects_by_status"].items():
        assert shows_count(text, str(statuses[code]), n), code
    for code, n in figures["projects_by_theme"].items():
        theme = Theme.objects.get(code=code)
        if n or theme.phase.code == "2018-2022":
            assert shows_count(text, f"{theme.label} ({theme.phase.code})", n), code

    fonts = poppler("pdffonts", str(out))
    assert "Marianne" in fonts and "Marianne-Bold" in fonts
    assert re.search(r"^Tagged:\s+yes", poppler("pdfinfo", str(out)), re.M)  # structure for screen readers


def test_regional_synthesis_lists_the_territories_and_the_region_figures(programme, tmp_path):
    out = tmp_path / "region.pdf"
    call_command("report", "region", "44", "-o", str(out), "--as-of", AS_OF.isoformat(), stderr=StringIO())

    assert out.read_bytes().startswith(b"%PDF-") and page_count(out) >= 1
    text = pdf_text(out)
    figures = programme_figures(build_scope(OPERATOR, region="44"), AS_OF)
    assert figures["territories"] == 2
    assert "Grand Est" in text and "Nord Lorraine" in text and "Sud Alsace" in text
    assert plain(fmt_pct(figures["governance_installed_pct"])) in text
    assert plain(fmt_euros(figures["funding_requested"])) in text
    assert plain(fmt_euros(figures["funding_granted"])) in text
    expected = f"{fmt_int(figures['action_plans_validated_by_year_end'])} attendus d'ici la fin de l'année"
    assert expected in pdf_phrases(out)
    assert "Validation prévue" in text  # Sud Alsace's plan, expected on 30 November 2024
    statuses = dict(ProjectStatus.choices)
    for code, n in figures["projects_by_status"].items():
        assert shows_count(text, str(statuses[code]), n), code
    assert "Marianne" in poppler("pdffonts", str(out))


def test_unknown_codes_are_refused_in_french(programme, tmp_path):
    out = tmp_path / "x.pdf"
    with pytest.raises(CommandError, match="Territoire inconnu : ti-9999"):
        call_command("report", "territory", "ti-9999", "-o", str(out), stderr=StringIO())
    with pytest.raises(CommandError, match="Région inconnue : 99"):
        call_command("report", "region", "99", "-o", str(out), stderr=StringIO())
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("report", "region", "44", "-o", str(out), "--as-of", "2024-02-30", stderr=StringIO())
    assert not out.exists()


def test_visitors_download_a_sheet_without_the_non_public_projects(programme, client, tmp_path):
    url = reverse("report-territory", args=["ti-4401"])
    answer = client.get(url, {"as_of": AS_OF.isoformat()})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert "attachment" in answer["Content-Disposition"] and "ti-4401" in answer["Content-Disposition"]
    out = tmp_path / "visiteur.pdf"
    out.write_bytes(answer.content)
    text = pdf_text(out)
    assert PUBLIC_TITLE in text and PRIVATE_TITLE not in text
    visitor = programme_figures(build_scope(AnonymousUser(), territory="ti-4401"), AS_OF)
    assert plain(fmt_euros(visitor["funding_requested"])) in text  # without the private project's funding
    assert plain(fmt_euros(visitor["funding_requested"] + 777000)) not in text

    assert client.get(reverse("report-territory", args=["ti-9999"])).status_code == 404
    assert client.get(reverse("report-region", args=["99"])).status_code == 404
    assert client.get(url, {"as_of": "hier"}).status_code == 400


# Building blocks, no rendering.


def test_the_map_keeps_proportions_at_the_territory_latitude():
    # One degree of longitude at 60° N is half as long as one degree of latitude.
    project = Projection.fit((5.0, 59.5, 6.0, 60.5), width=1000, height=500, margin=0)
    (x0, y0), (x1, y1) = project(5.0, 60.5), project(6.0, 59.5)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(math.cos(math.radians(60)), rel=1e-3)
    assert (x0 + x1) / 2 == pytest.approx(500) and (y0 + y1) / 2 == pytest.approx(250)  # centred in the frame


def test_neighbouring_territories_get_different_colours():
    a, b, c = {(0, 0), (0, 1)}, {(0, 1), (1, 1)}, {(5, 5)}
    colours = distinct_colours([a, b, c, a | b])
    assert colours[0] != colours[1] and colours[3] not in (colours[0], colours[1])


def test_the_renderer_may_only_read_local_static_files():
    assert static_path("file:///static/dsfr/dist/fonts/Marianne-Regular.woff2").endswith("Marianne-Regular.woff2")
    for refused in (
        "https://fonts.example.org/static/dsfr/dist/fonts/Marianne-Regular.woff2",
        "file:///etc/passwd",
        "file:///static/../../../etc/passwd",
        "file:///static/nothing-here.woff2",
    ):
        assert static_path(refused) is None, refused


@pytest.mark.django_db
def test_milestones_change_state_on_their_dates():
    t = Territory.objects.create(code="ti-4499", name="Test", region=Region.objects.create(code="44", name="Grand Est"))
    phase = ProgrammePhase.objects.get(code="2018-2022")
    plan = ActionPlan.objects.create(
        territory=t, phase=phase, status="validated", decided_on=D(2020, 3, 1), expected_validation_on=D(2020, 1, 15)
    )
    contract = Contract.objects.create(territory=t, phase=phase, kind="contract", signed_on=D(2020, 5, 4))
    before, on = plan_step([plan], D(2020, 2, 29)), plan_step([plan], D(2020, 3, 1))
    assert (before.reached, before.state, before.date) == (False, "Validation prévue", D(2020, 1, 15))
    assert (on.reached, on.date) == (True, D(2020, 3, 1))
    assert contract_step(Contract.Kind.CONTRACT, [contract], D(2020, 5, 3)).state == "Signature prévue"
    assert contract_step(Contract.Kind.CONTRACT, [contract], D(2020, 5, 4)).reached
    assert contract_step(Contract.Kind.PROTOCOL, [contract], D(2020, 5, 4)).state == "Non signé"


def test_gathering_a_synthesis_costs_the_same_queries_for_2_or_6_territories(programme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pilotage.stats.reports import region_context, territory_context

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as region:
            region_context(OPERATOR, "44", AS_OF)
        with CaptureQueriesContext(connection) as sheet:
            territory_context(OPERATOR, "ti-4401", AS_OF)
        return len(region), len(sheet)

    before = queries()
    phase = ProgrammePhase.objects.get(code="2018-2022")
    for i in range(4):
        t = territory(f"ti-44{10 + i}", f"Territoire {i}", SUD_EPCIS, governance_installed_on=D(2020, 1, i + 1))
        Contract.objects.create(territory=t, phase=phase, kind="protocol", signed_on=D(2020, 2, 1))
        ActionPlan.objects.create(territory=t, phase=phase, status="validated", decided_on=D(2021, 1, 1))
        Project.objects.create(id_projet=f"X-{i}", territory=t, phase=phase, title="X", reported_on=D(2021, 1, 1))
        more = Project.objects.create(
            id_projet=f"Y-{i}", territory=programme["nord"], phase=phase, title=f"Y {i}", reported_on=D(2021, 1, 1)
        )
        more.themes.set(Theme.objects.filter(phase=phase)[:2])
        GovernanceMember.objects.create(territory=programme["nord"], role="other", full_name=f"Membre {i}")
    assert queries() == before
