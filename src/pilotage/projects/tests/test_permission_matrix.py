"""Every role × every project endpoint (API and pages) × a record in and out of its scope, public or not.

ONE table says, per role, what its scope covers (PRODUCT.md, "Who uses it"): the projects it reads, the projects it
changes, the funding lines it decides on, the territories it creates projects in. The expected answer of every case
is generated from that table by the pinned rule — no token on a write 401; a record one may not see 404 (its
existence is not leaked); one seen but not changeable 403; otherwise the endpoint's success — and each case is a
separate test, so that a failure names its role, endpoint and record.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client

from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tokens import create_token
from pilotage.geo.models import Region
from pilotage.programme.models import Territory
from pilotage.projects.models import FundingLine, Organisation, Project

from .builders import build_sample, project

# The records: in and out of Grand Est / Nord Lorraine, public and not. Each has one funding line used by the
# funding endpoints, given by its funder.
RECORDS = {
    "public_ge": ("PRJ-ti-4401-0001", "Bpifrance"),  # Nord Lorraine (Grand Est), public
    "private_ge": ("PRJ-ti-4401-0002", "Région Grand Est"),  # Nord Lorraine (Grand Est), private
    "public_bzh": ("PRJ-ti-5301-0001", "Région Bretagne"),  # Lannion-Trégor (Bretagne), public
    "private_bzh": ("PRJ-ti-5301-0002", "Bpifrance"),  # Lannion-Trégor (Bretagne), private
}
ALL = set(RECORDS)
ALSO_PUBLIC = "PRJ-ti-4402-0001"  # the sample's public project of Vosges: in every list


@dataclass(frozen=True)
class Scope:
    role: str | None  # None: a visitor without an account (no token)
    code: str | None
    reads: set[str]
    changes: set[str] = frozenset()
    decides: set[str] = frozenset()  # the records whose funding line above it decides on
    creates_in: set[str] = frozenset()  # the records in whose territory it creates projects


# THE table.
ROLES = {
    "anonymous": Scope(None, None, reads={"public_ge", "public_bzh"}),
    "national": Scope("national", None, reads=ALL),
    "regional_pilot": Scope("regional_pilot", "44", reads={"public_ge", "private_ge", "public_bzh"}),
    "state_services": Scope(
        "state_services", "44", reads={"public_ge", "private_ge", "public_bzh"}, decides={"public_ge", "private_ge"}
    ),
    "territory_team": Scope(
        "territory_team",
        "ti-4401",
        reads={"public_ge", "private_ge", "public_bzh"},
        changes={"public_ge", "private_ge"},
        creates_in={"public_ge", "private_ge"},
    ),
    "other_territory_team": Scope(
        "territory_team",
        "ti-5301",
        reads={"public_ge", "public_bzh", "private_bzh"},
        changes={"public_bzh", "private_bzh"},
        creates_in={"public_bzh", "private_bzh"},
    ),
    "project_owner": Scope(
        "project_owner",
        "PRJ-ti-4401-0002",
        reads={"public_ge", "private_ge", "public_bzh"},
        changes={"private_ge"},
    ),
    "funder": Scope(
        "funder",
        "Bpifrance",
        reads={"public_ge", "public_bzh", "private_bzh"},  # public, plus the projects it is asked to fund
        decides={"public_ge", "private_bzh"},
    ),
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {id} the project, {line} its funding line, {ti} its territory
    success: int
    body: dict | None = None
    needs: str = "changes"  # the part of the scope it takes: reads, changes, decides, creates_in
    page: bool = False  # a web page (session) rather than the API (token)


ENDPOINTS = {
    "api list": Endpoint("get", "/api/v1/projects?page_size=100", 200, needs="list"),
    "api detail": Endpoint("get", "/api/v1/projects/{id}", 200, needs="reads"),
    "api detail as of": Endpoint("get", "/api/v1/projects/{id}?as_of=2030-01-01", 200, needs="reads"),
    "api create": Endpoint(
        "post", "/api/v1/projects", 201, {"territory": "{ti}", "title": "Nouveau projet"}, needs="creates_in"
    ),
    "api patch": Endpoint("patch", "/api/v1/projects/{id}", 200, {"description": "Mise à jour"}),
    "api status": Endpoint("post", "/api/v1/projects/{id}/status", 200, {"status": "abandoned", "reason": "Arrêt"}),
    "api funding add": Endpoint("post", "/api/v1/projects/{id}/funding", 201, {"funder": "Ademe", "requested": 1000}),
    "api funding patch": Endpoint("patch", "/api/v1/projects/{id}/funding/{line}", 200, {"instrument": "Appel"}),
    "api funding delete": Endpoint("delete", "/api/v1/projects/{id}/funding/{line}?reason=Doublon", 204),
    "api funding decision": Endpoint(
        "post",
        "/api/v1/projects/{id}/funding/{line}/decision",
        200,
        {"granted": 500, "decided_on": "2024-01-15", "status": "granted", "reason": "Comité"},
        needs="decides",
    ),
    "api indicator value": Endpoint(
        "post",
        "/api/v1/projects/{id}/indicators",
        201,
        {"indicator": "emplois_crees", "on": "2024-12-31", "measured": 3},
    ),
    "page project": Endpoint("get", "/projets/{id}/", 200, needs="reads", page=True),
    "page edit": Endpoint("get", "/espace/projets/{id}/modifier/", 200, page=True),
}


def expected(scope: Scope, endpoint: Endpoint, record: str) -> int:
    if endpoint.needs in ("list", "reads"):
        return endpoint.success if endpoint.needs == "list" or record in scope.reads else 404
    if scope.role is None:
        return 302 if endpoint.page else 401  # a page sends to the sign-in page
    if endpoint.needs == "creates_in":
        return endpoint.success if record in scope.creates_in else 403  # territories are public: no 404
    if record not in scope.reads:
        return 404
    return endpoint.success if record in getattr(scope, endpoint.needs) else 403


CASES = [
    pytest.param(role, name, record, expected(scope, endpoint, record), id=f"{role}-{name}-{record}")
    for role, scope in ROLES.items()
    for name, endpoint in ENDPOINTS.items()
    for record in (RECORDS if endpoint.needs != "list" else ["public_ge"])
]


def build_world() -> dict[str, tuple[Project, FundingLine]]:
    sample = build_sample()
    bretagne = Region.objects.get(code="53")
    Organisation.objects.create(name="Région Bretagne", kind="funder")
    private_bzh = project(
        "PRJ-ti-5301-0002",
        Territory.objects.get(code="ti-5301"),
        sample.phase1,
        ["innover"],
        title="Usine",
        public=False,
    )
    assert private_bzh.territory.region == bretagne
    lines = {}
    for key, (id_projet, funder) in RECORDS.items():
        record = Project.objects.get(id_projet=id_projet)
        line = FundingLine.objects.filter(project=record, funder__name=funder).first()
        line = line or FundingLine.objects.create(
            project=record, funder=Organisation.objects.get(name=funder), requested=Decimal("1000")
        )
        lines[key] = (record, line)
    return lines


def request(client, world: World, role: str, endpoint: Endpoint, record: Project, line: FundingLine):
    path = endpoint.path.format(id=record.id_projet, line=line.pk, ti=record.territory.code)
    headers = {}
    if role in world.users:
        if endpoint.page:
            client.force_login(world.users[role])
        else:
            headers["Authorization"] = f"Bearer {world.tokens[role]}"
    body = {
        k: v.format(ti=record.territory.code) if isinstance(v, str) else v for k, v in (endpoint.body or {}).items()
    }
    if endpoint.method == "get":
        return client.get(path, headers=headers)
    send = getattr(client, endpoint.method)
    return send(path, body or None, content_type="application/json", headers=headers)


@dataclass
class World:
    lines: dict[str, tuple[Project, FundingLine]]
    users: dict[str, object]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The records and the users of every role, written once for the module in a transaction rolled back at its end;
    each case runs in a savepoint of it, so that what a case writes is undone before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        lines = build_world()
        users, tokens = {}, {}
        for role, scope in ROLES.items():
            if scope.role is not None:
                users[role] = create_or_update_user(f"{role}@example.fr", scope.role, scope.code)[0]
                tokens[role] = create_token(users[role])
        yield World(lines, users, tokens)
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def shared_client():
    """One client for the whole matrix: a new one would load the middleware again (WhiteNoise indexing every static
    file), which costs more than the case itself."""
    return Client()


@pytest.fixture
def client(shared_client, world, db):
    shared_client.logout()
    shared_client.cookies.clear()
    return shared_client


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "endpoint", "record", "status"), CASES)
def test_permission_matrix(client, world, role, endpoint, record, status):
    scope, target = ROLES[role], ENDPOINTS[endpoint]
    project, line = world.lines[record]
    before = Project.objects.get(pk=project.pk).version

    response = request(client, world, role, target, project, line)

    assert response.status_code == status, response.content[:300]
    if target.needs == "list":
        listed = {p["id_projet"] for p in response.json()["results"]}
        assert listed == {RECORDS[key][0] for key in scope.reads} | {ALSO_PUBLIC}
    if not target.page and status >= 400:
        assert response.json()["error"]["code"]
    if status >= 300 and target.method != "get":  # refused: nothing written
        assert Project.objects.get(pk=project.pk).version == before
        assert Project.objects.count() == len(RECORDS) + 1  # the sample's four, with Vosges' mobilite, plus one
    if status < 300 and target.method != "get" and target.needs != "creates_in":
        assert Project.objects.get(pk=project.pk).version == before + 1


def test_the_matrix_covers_every_role_endpoint_and_scope():
    assert len(CASES) == len(ROLES) * ((len(ENDPOINTS) - 1) * len(RECORDS) + 1)
    codes = {case.values[3] for case in CASES}
    assert codes == {200, 201, 204, 302, 401, 403, 404}
