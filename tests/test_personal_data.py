"""No public page, anonymous API answer or export carries an e-mail address or a French phone number (RGPD).

The demo programme (`load_demo` at scale 1, on the referential slice the other tests use: Grand Est's five
departments, hence its ten territories there and their projects) holds contact details in non-public fields:
governance members' e-mail and phone. On top of it, people with accounts write through the ordinary services (a
project edited and moved on, a governance member added, a public meeting recorded, a plan submitted), so that their
addresses are in the history labels too. Then the public pages reachable from the home page's links (a bounded
sample per kind of page, PDF sheets included), every anonymous API answer, every export format and the Table Schemas
are scanned. docs/privacy.md is the processing record this enforces.
"""

from __future__ import annotations

import datetime
import html
import io
import re
import shutil
import subprocess
import zipfile
from collections import Counter, deque
from urllib.parse import unquote, urlsplit

import pytest
from conftest import GEO_SLICE_DEPARTMENTS
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from pilotage.accounts.models import User
from pilotage.accounts.services import create_or_update_user
from pilotage.core.models import ChangeLog
from pilotage.programme.models import GovernanceMember, Territory
from pilotage.projects.models import Project, ProjectStatus, ProjectStatusChange

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 0X XX XX XX XX or +33 X XX XX XX XX (0033 too), with spaces, dots, dashes or nothing between the pairs; not a part
# of a longer number (amounts, SIREN, coordinates).
PHONE_RE = re.compile(r"(?<![\d.,])(?:(?:\+|00)33[\s.-]?(?:\(0\)\s?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?![\d])")

TEAM_EMAIL = "cheffe.projet@territoire-demo.example.fr"
TEAM_PHONE = "+33 3 53 01 44 55"
NEW_MEMBER = {
    "role": "other",
    "full_name": "Lucie Ferrand",
    "position": "Chargée de mission emploi",
    "organisation": "France Travail",
    "email": "lucie.ferrand@territoire-demo.example.fr",
    "phone": "03.53.01.77.88",
}
SKIPPED_PREFIXES = ("/compte/", "/espace/", "/admin/", "/i18n/", "/static/", "/media/")
# PDF sheets cost a WeasyPrint rendering each: one of each kind.
PAGES_PER_ROUTE = {
    "programme:detail": 8,
    "projects:detail": 12,
    "stats:records": 8,
    "projects:list": 6,
    "report-territory": 1,
    "report-region": 1,
}
PAGES_PER_OTHER_ROUTE = 4
MAX_PAGES = 120


def personal_data_in(text: str) -> list[str]:
    """The e-mail addresses and phone numbers in a text (HTML entities and URL escapes decoded first)."""
    text = html.unescape(unquote(text))
    return EMAIL_RE.findall(text) + [m.group(0) for m in PHONE_RE.finditer(text)]


def readable(content: bytes, content_type: str) -> str:
    """The text a reader of a file would see: PDFs through pdftotext, XLSX (a zip of XML) member by member."""
    if content.startswith(b"%PDF-"):
        result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
        return result.stdout.decode()
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return content.decode("utf-8", "replace")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- the data --------------------------------------------------------------------------------------------------


def _write_as_people() -> dict:
    """Writes by people with accounts, through the services, on a territory with public projects."""
    from pilotage.programme.governance import add_member
    from pilotage.programme.meetings import create_meeting
    from pilotage.programme.workflows import current_plan, submit_plan
    from pilotage.projects.services import update_project
    from pilotage.projects.workflow import advance, next_statuses

    latest = [
        current_plan(t, p) for t in Territory.objects.filter(projects__public=True).distinct() for p in t.phases.all()
    ]
    plan = next((p for p in latest if p and p.status in ("draft", "returned")), None)
    territory = plan.territory if plan else Territory.objects.filter(projects__public=True).first()
    team = create_or_update_user(TEAM_EMAIL, "territory_team", territory.code)[0]
    create_or_update_user("pilote.industrie@region-demo.example.fr", "regional_pilot", territory.region_id)
    create_or_update_user("coordination@anct-demo.example.fr", "national")
    create_or_update_user("instructeur@financeur-demo.example.fr", "funder", "Bpifrance")

    open_statuses = [s for s in ProjectStatus.values if next_statuses(s) and s != ProjectStatus.ABANDONED]
    project = territory.projects.filter(public=True, status__in=open_statuses).order_by("id_projet").first()
    create_or_update_user("porteur@entreprise-demo.example.fr", "project_owner", project.id_projet)
    update_project(team, project, {"description": project.description + " Étude de marché terminée."})
    advance(team, project, next_statuses(project.status)[0], "Validé en comité de pilotage")
    member = add_member(team, territory, NEW_MEMBER, reason="Arrivée au comité")
    create_meeting(
        team,
        {
            "kind": "general_assembly",
            "held_on": datetime.date(2024, 3, 12),
            "place": "Salle des fêtes",
            "participants": "Le binôme, les industriels du territoire",
            "minutes": "Présentation du plan d'actions.",
            "decisions": "Plan d'actions adopté.",
            "public": True,
        },
        territory=territory,
    )
    if plan is not None:
        submit_plan(team, plan)
    return {"territory": territory, "project": project, "member": member, "team": team}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo programme and the people's writes, loaded once for the module and rolled back after it."""
    from pilotage.geo.services import load_referential
    from pilotage.opendata.demo.loader import load_demo

    with django_db_blocker.unblock(), transaction.atomic():
        load_referential(GEO_SLICE_DEPARTMENTS)
        load_demo(scale=1, warn=lambda message: None, progress=lambda message: None)
        written = _write_as_people()
        yield written
        transaction.set_rollback(True)


@pytest.fixture
def anonymous(demo, db) -> Client:
    return Client()


# --- the data can leak: it holds what the scan looks for ---------------------------------------------------------


def test_the_demo_holds_contact_details_and_accounts_in_non_public_fields(demo, db):
    contacts = GovernanceMember.objects.exclude(email="").exclude(phone="")
    assert contacts.count() >= 40
    for member in contacts[:50]:
        assert personal_data_in(member.email) == [member.email]
        assert personal_data_in(member.phone) == [member.phone]
    assert User.objects.filter(email__contains="@").count() >= 5
    assert ChangeLog.objects.filter(user_label=TEAM_EMAIL).count() >= 4
    assert ProjectStatusChange.objects.filter(by_label=TEAM_EMAIL).exists()
    assert personal_data_in(f"{NEW_MEMBER['email']} {NEW_MEMBER['phone']} {TEAM_PHONE}") == [
        NEW_MEMBER["email"],
        NEW_MEMBER["phone"],
        TEAM_PHONE,
    ]


def test_the_scan_finds_the_contact_details_where_they_are_shown_to_the_territory_team(demo, db):
    """The private page of a governance member shows its contact details: the scan must see them there."""
    team = Client()
    team.force_login(demo["team"])
    url = f"/espace/territoires/{demo['territory'].code}/gouvernance/membres/{demo['member'].pk}/"
    response = team.get(url)
    assert response.status_code == 200
    found = personal_data_in(response.content.decode())
    assert NEW_MEMBER["email"] in found and NEW_MEMBER["phone"] in found


# --- the scan ------------------------------------------------------------------------------------------------------


def route_of(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def links_in(page: str) -> list[str]:
    """Same-site paths named by the page's links, sources and data attributes."""
    found = re.findall(r'(?:href|src|action|data-[\w-]+)="(/[^"#]*)"', page)
    return [html.unescape(link) for link in found if not link.startswith("//")]


def crawl(client: Client) -> tuple[dict[str, str], Counter]:
    """The public pages reachable from the home page, at most a few per kind of page. Returns {url: text} of those
    answering 200 and the count per route."""
    seen, texts, per_route = {"/"}, {}, Counter()
    queue = deque(["/"])
    while queue and len(texts) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200:
            continue
        content = body(response)
        if content.startswith(b"%PDF-") and not shutil.which("pdftotext"):
            continue
        text = readable(content, response.get("Content-Type", ""))
        texts[url] = text
        if "html" not in response.get("Content-Type", ""):
            continue
        for link in links_in(text):
            path = urlsplit(link).path
            route = route_of(path)
            if link in seen or path.startswith(SKIPPED_PREFIXES) or route is None:
                continue
            if per_route[route] >= PAGES_PER_ROUTE.get(route, PAGES_PER_OTHER_ROUTE):
                continue
            seen.add(link)
            per_route[route] += 1
            queue.append(link)
    return texts, per_route


def leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    return {where: found for where, text in texts.items() if (found := personal_data_in(text))}


def test_no_public_page_shows_an_email_address_or_a_phone_number(anonymous, demo):
    texts, per_route = crawl(anonymous)
    print(f"\n{len(texts)} pages publiques lues : {dict(per_route)}")
    assert len(texts) >= 40
    for route in ("programme:list", "programme:detail", "projects:list", "projects:detail", "stats:national"):
        assert per_route[route], f"aucune page {route} atteinte depuis l'accueil"
    assert any(url.startswith("/territoires/ti-") for url in texts)
    # The pages of the territory and project the people wrote on, whether or not the sample reached them.
    territory = demo["territory"]
    own_territory = f"/territoires/{territory.code}/"
    written = [
        own_territory,
        f"/projets/{demo['project'].id_projet}/",
        f"/projets/?territory={territory.code}",
        f"/tableaux-de-bord/territoire/{territory.code}/",
        f"/tableaux-de-bord/region/{territory.region_id}/",
        f"/tableaux-de-bord/liste/?figure=projects&territory={territory.code}",
        f"/tableaux-de-bord/liste/?figure=projects&territory={territory.code}&format=csv",
        f"/tableaux-de-bord/liste/?figure=governance_installed&region={territory.region_id}&format=csv",
    ]
    for url in written:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        texts[url] = readable(body(response), response.get("Content-Type", ""))
    if shutil.which("pdftotext"):
        sheets = [url for url in texts if url.startswith("/rapports/")]
        assert len(sheets) == 2 and all("Territoire" in texts[url] for url in sheets)
    assert NEW_MEMBER["full_name"] in texts[own_territory]  # names and roles are public...
    assert leaks(texts) == {}  # ...contact details are not, nor the addresses of the people who wrote


def test_no_anonymous_api_answer_carries_an_email_address_or_a_phone_number(anonymous, demo):
    from pilotage.opendata.schema import RESOURCES

    urls = [
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/api/v1/territories?page_size=500",
        "/api/v1/territories.geojson",
        "/api/v1/stats",
        f"/api/v1/stats?region={demo['territory'].region_id}",
        f"/api/v1/stats?territory={demo['territory'].code}",
        *(f"/api/v1/schema/{key}.json" for key in RESOURCES),
    ]
    codes = list(Territory.objects.order_by("code").values_list("code", flat=True))
    urls += [f"/api/v1/territories/{code}" for code in codes]  # each with its governance
    urls += [f"/api/v1/territories/{code}.geojson" for code in codes[:5]]
    public = Project.objects.filter(public=True).order_by("id_projet")
    pages = -(-public.count() // 500)
    urls += [f"/api/v1/projects?page_size=500&page={page}" for page in range(1, pages + 1)]
    sample = [demo["project"].id_projet, *public.values_list("id_projet", flat=True)[::100]]
    urls += [f"/api/v1/projects/{id_projet}" for id_projet in sample]
    texts = {}
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        texts[url] = readable(body(response), response.get("Content-Type", ""))
    print(f"\n{len(texts)} réponses de l'API lues")
    assert NEW_MEMBER["full_name"] in texts[f"/api/v1/territories/{demo['territory'].code}"]
    assert leaks(texts) == {}


def test_no_export_nor_table_schema_carries_an_email_address_or_a_phone_number(demo, db, tmp_path):
    from pilotage.opendata.export import FORMATS, export, funding_rows, write_csv
    from pilotage.opendata.schema import FUNDING, RESOURCES, table_schema

    texts = {}
    # All projects, as `pilotage export` writes them by default (the public ones are a part of them).
    for label, projects in (("tous", Project.objects.all()),):
        for kind in ("territories", "projects"):
            for fmt in FORMATS:
                if kind == "projects" and fmt == "geojson":
                    continue
                path = tmp_path / f"{kind}-{label}.{fmt}"
                assert export(kind, fmt, path, territories=Territory.objects.all(), projects=projects) > 0
                texts[path.name] = readable(path.read_bytes(), "")
        path = tmp_path / f"funding-{label}.csv"
        assert write_csv(path, FUNDING, funding_rows(projects)) > 0
        texts[path.name] = readable(path.read_bytes(), "")
    texts.update({f"schema-{key}": str(table_schema(resource)) for key, resource in RESOURCES.items()})
    print(f"\n{len(texts)} fichiers d'export et schémas lus")
    assert leaks(texts) == {}
