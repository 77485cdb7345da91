import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pilotage.accounts.models import ApiToken, Role, User
from pilotage.accounts.tokens import revoke_token
from pilotage.geo.models import Region
from pilotage.programme.models import ProgrammePhase, Territory
from pilotage.projects.models import FundingLine, Organisation, Project
from pilotage.projects.queries import projects_editable_by, projects_visible_to


@pytest.fixture
def world(db):
    ge = Region.objects.create(code="44", name="Grand Est")
    bzh = Region.objects.create(code="53", name="Bretagne")
    phase = ProgrammePhase.objects.get(code="2018-2022")
    t1 = Territory.objects.create(code="ti-4401", name="Nord Lorraine", region=ge)
    t2 = Territory.objects.create(code="ti-5301", name="Lannion", region=bzh)
    bpi = Organisation.objects.create(name="Bpifrance", kind="funder")
    projects = {}
    for code, territory, public in (("A", t1, True), ("B", t1, False), ("C", t2, False)):
        projects[code] = Project.objects.create(
            id_projet=code,
            territory=territory,
            phase=phase,
            title=code,
            public=public,
            reported_on=datetime.date(2019, 5, 1),
        )
    FundingLine.objects.create(project=projects["C"], funder=bpi)
    return projects


def create_user(*args) -> list[str]:
    out = StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def visible_ids(email):
    return set(projects_visible_to(User.objects.get(email=email)).values_list("id_projet", flat=True))


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        ("national", None, {"A", "B", "C"}),
        ("regional_pilot", "44", {"A", "B"}),
        ("state_services", "53", {"A", "C"}),
        ("territory_team", "ti-5301", {"A", "C"}),
        ("project_owner", "B", {"A", "B"}),
        ("funder", "Bpifrance", {"A", "C"}),
    ],
)
def test_each_role_sees_public_projects_and_its_scope(world, role, scope, expected):
    create_user("x@example.fr", "--role", role, *(["--scope", scope] if scope else []))
    assert visible_ids("x@example.fr") == expected


def test_visitors_see_public_projects_only(world):
    from django.contrib.auth.models import AnonymousUser

    assert set(projects_visible_to(AnonymousUser()).values_list("id_projet", flat=True)) == {"A"}


def test_only_the_territory_team_and_the_owner_edit_projects(world):
    create_user("team@example.fr", "--role", "territory_team", "--scope", "ti-4401")
    create_user("pilot@example.fr", "--role", "regional_pilot", "--scope", "44")
    team = User.objects.get(email="team@example.fr")
    assert set(projects_editable_by(team).values_list("id_projet", flat=True)) == {"A", "B"}
    assert not projects_editable_by(User.objects.get(email="pilot@example.fr")).exists()


def test_create_user_is_idempotent_and_adds_roles(world):
    create_user("a@example.fr", "--role", "regional_pilot", "--scope", "44")
    lines = create_user("A@example.fr", "--role", "regional_pilot", "--scope", "44")
    assert "déjà attribué" in lines[-1]
    create_user("a@example.fr", "--role", "state_services", "--scope", "44")
    assert User.objects.count() == 1
    assert Role.objects.filter(user__email="a@example.fr").count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "regional_pilot", "--scope", "99"], "Région inconnue"),
        (["--role", "territory_team", "--scope", "ti-9999"], "Territoire inconnu"),
        (["--role", "project_owner", "--scope", "NOPE"], "Projet inconnu"),
        (["--role", "territory_team"], "demande un périmètre"),
        (["--role", "national", "--scope", "44"], "pas de périmètre"),
    ],
)
def test_create_user_refuses_a_bad_scope_and_creates_nothing(world, args, message):
    with pytest.raises(CommandError, match=message):
        create_user("b@example.fr", *args)
    assert not User.objects.filter(email="b@example.fr").exists()


def test_token_on_last_line_authenticates_and_revocation_gives_401(world, client):
    token = create_user("t@example.fr", "--role", "territory_team", "--scope", "ti-5301", "--token")[-1]
    stored = ApiToken.objects.get(user__email="t@example.fr")
    assert token not in (stored.key_hash, stored.prefix)  # only a hash is stored
    ok = client.get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200
    bad = client.get("/api/v1/stats", HTTP_AUTHORIZATION="Bearer pil_not-a-token")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    assert revoke_token(stored.user, stored.pk)
    assert client.get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
