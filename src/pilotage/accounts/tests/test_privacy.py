"""Personal data (RGPD): "Mes données" shows, downloads and erases what the platform holds about a user; the
operator does the same with `pilotage export_user_data` and `pilotage forget_user`."""

import io
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from pilotage.accounts.models import ApiToken, Role, User
from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tokens import create_token
from pilotage.core.models import ChangeLog
from pilotage.geo.models import Region
from pilotage.programme.governance import add_member
from pilotage.programme.models import GovernanceMember, Meeting, ProgrammePhase, Territory
from pilotage.projects.models import Project, ProjectStatusChange
from pilotage.projects.workflow import advance

PASSWORD = "un-mot-de-passe-solide-2024"
EMAIL = "cheffe.projet@nord-lorraine.fr"
PHONE = "03 82 12 34 56"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def territory(db) -> Territory:
    region = Region.objects.create(code="44", name="Grand Est")
    territory = Territory.objects.create(code="ti-4401", name="Nord Lorraine", region=region)
    territory.phases.add(ProgrammePhase.objects.get(code="2018-2022"))
    return territory


@pytest.fixture
def member(territory) -> User:
    """A project manager with an account, who is also in the governance under the same address, and who has
    written: the governance member, a project's status change."""
    user = create_or_update_user(EMAIL, "territory_team", "ti-4401", password=PASSWORD)[0]
    add_member(
        user,
        territory,
        {"role": "project_manager", "full_name": "Claire Martin", "email": EMAIL, "phone": PHONE},
        reason="Prise de poste",
    )
    project = Project.objects.create(
        id_projet="ti-4401-001", territory=territory, phase=ProgrammePhase.objects.get(code="2018-2022"), title="Parc"
    )
    advance(user, project, "maturing", "Étude de faisabilité lancée")
    return user


@pytest.fixture
def logged_in(client: Client, member) -> Client:
    client.force_login(member)
    return client


def database_dump() -> str:
    """Every row of every table of the database as text, to check where an address still is."""
    tables = set(connection.introspection.table_names())
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in tables]
    return "\n".join(str(row) for model in models for row in model._base_manager.values_list())


def test_the_account_page_leads_to_my_data_which_lists_what_is_held(logged_in):
    account = logged_in.get("/compte/").content.decode()
    assert 'href="/compte/mes-donnees/"' in account
    page = logged_in.get("/compte/mes-donnees/").content.decode()
    assert EMAIL in page
    assert "chef de projet — Nord Lorraine" in page
    assert "2 modifications que vous avez enregistrées" in page
    assert "1 changement de statut de projet" in page


def test_my_data_needs_a_signed_in_user(client, db):
    assert client.get("/compte/mes-donnees/")["Location"].startswith("/compte/connexion/")
    assert client.get("/compte/mes-donnees/telecharger/")["Location"].startswith("/compte/connexion/")
    assert client.post("/compte/mes-donnees/supprimer/", {"confirm_email": EMAIL}).status_code == 302


def test_the_download_holds_the_account_its_roles_tokens_history_and_governance_without_any_secret(logged_in, member):
    key = create_token(member, "tableur régional")
    response = logged_in.get("/compte/mes-donnees/telecharger/")
    assert response["Content-Disposition"].startswith('attachment; filename="pilotage-mes-donnees-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == EMAIL
    assert [(r["kind"], r["scope"]["code"]) for r in data["roles"]] == [("territory_team", "ti-4401")]
    assert [(t["name"], t["prefix"]) for t in data["api_tokens"]] == [("tableur régional", key[:12])]
    token = ApiToken.objects.get(user=member)
    assert key not in response.content.decode() and token.key_hash not in response.content.decode()
    assert PASSWORD not in response.content.decode() and member.password not in response.content.decode()
    records = [(h["record"], h["action"], h["reason"]) for h in data["history_authored"]]
    assert ("membre de la gouvernance", "create", "Prise de poste") in records
    assert ("projet", "transition", "Étude de faisabilité lancée") in records
    assert [c["status"] for c in data["project_status_changes"]] == ["maturing"]
    [membership] = data["governance_memberships"]
    assert (membership["territory"], membership["email"], membership["phone"]) == ("ti-4401", EMAIL, PHONE)


def test_a_wrong_confirmation_erases_nothing(logged_in, member):
    response = logged_in.post("/compte/mes-donnees/supprimer/", {"confirm_email": "autre@nord-lorraine.fr"})
    assert "Cette adresse n&#x27;est pas celle de votre compte" in response.content.decode()
    member.refresh_from_db()
    assert member.email == EMAIL and member.is_active
    assert get_user(logged_in).is_authenticated


def test_erasing_from_the_page_anonymises_the_account_everywhere_and_keeps_the_history(logged_in, member):
    key = create_token(member, "tableur")
    other_device = Client()
    other_device.force_login(member)
    entries_before = ChangeLog.objects.filter(user=member).count()
    Client().post("/compte/connexion/", {"username": EMAIL, "password": "mauvais"})  # counted under the address
    admin = User.objects.create_superuser("admin@anct.example.fr", PASSWORD)
    token = ApiToken.objects.get(user=member)
    LogEntry.objects.log_actions(admin.pk, [token], CHANGE, change_message="Nom modifié")  # the admin site's log

    response = logged_in.post("/compte/mes-donnees/supprimer/", {"confirm_email": EMAIL.upper()}, follow=True)

    assert "Votre compte est supprimé" in response.content.decode()
    assert not get_user(logged_in).is_authenticated
    assert not get_user(other_device).is_authenticated  # every session ended
    member.refresh_from_db()
    pseudonym = f"Utilisateur supprimé n°{member.pk}"
    assert member.email.endswith("@anonyme.invalid") and member.get_full_name() == pseudonym
    assert not member.is_active and not member.has_usable_password()
    assert not Role.objects.filter(user=member).exists()
    # The history is still all there, under the pseudonym (plus the erasure itself).
    assert ChangeLog.objects.filter(user=member).count() == entries_before + 1
    assert set(ChangeLog.objects.filter(user=member).values_list("user_label", flat=True)) == {pseudonym}
    assert ProjectStatusChange.objects.get(status="maturing").by_label == pseudonym
    # The governance member keeps their public name and role; the contact details are gone.
    governance = GovernanceMember.objects.get()
    assert (governance.full_name, governance.email, governance.phone) == ("Claire Martin", "", "")
    dump = database_dump()
    assert EMAIL not in dump and PHONE not in dump and "Claire Martin" in dump
    # Nor can the account be used again.
    assert Client().post("/compte/connexion/", {"username": EMAIL, "password": PASSWORD}).status_code == 200
    assert Client().get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_the_commands_export_and_forget_an_account_for_a_request_received_by_mail(member, tmp_path):
    target = tmp_path / "donnees.json"
    call_command("export_user_data", EMAIL.upper(), "-o", str(target), stderr=io.StringIO())
    assert json.loads(target.read_text(encoding="utf-8"))["account"]["email"] == EMAIL

    out = io.StringIO()
    call_command("forget_user", EMAIL, "--noinput", stdout=out)
    assert f"Compte n°{member.pk} anonymisé" in out.getvalue()
    assert EMAIL not in database_dump()
    erasure = ChangeLog.objects.filter(object_pk=str(member.pk), reason__contains="RGPD").get()
    assert (erasure.source, erasure.user_label) == ("command", "pilotage forget_user")

    again = io.StringIO()
    call_command("forget_user", f"utilisateur-supprime-{member.pk}@anonyme.invalid", "--noinput", stdout=again)
    assert "déjà anonymisé" in again.getvalue()
    with pytest.raises(CommandError, match="Aucun compte"):
        call_command("forget_user", EMAIL, "--noinput")
    with pytest.raises(CommandError, match="Aucun compte"):
        call_command("export_user_data", "inconnu@example.org", "-o", str(target))


def test_an_address_written_by_hand_in_a_meeting_is_exported_and_reported_at_erasure(member, territory):
    Meeting.objects.create(
        territory=territory, kind="steering_committee", held_on="2024-03-01", participants=f"Claire Martin ({EMAIL})"
    )
    call_command("export_user_data", EMAIL, "-o", "-", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue())["mentions"] == [
        {"record": "réunion", "object": "Comité de pilotage du 01/03/2024", "fields": ["participants"]}
    ]
    err = io.StringIO()
    call_command("forget_user", EMAIL, "--noinput", stdout=io.StringIO(), stderr=err)
    assert "à corriger à la main : réunion : Comité de pilotage du 01/03/2024" in err.getvalue()


def test_an_erased_account_can_be_neither_reactivated_nor_invited_again(member):
    from django.core.exceptions import ValidationError

    from pilotage.accounts.privacy import forget_user
    from pilotage.programme import national

    coordinator = create_or_update_user("coordination@example.fr", "national", None, password=None)[0]
    forget_user(member)
    member.refresh_from_db()
    with pytest.raises(ValidationError, match="anonymisé"):
        national.set_active(coordinator, member, True)
    with pytest.raises(ValidationError, match="anonymisé"):
        national.invite_user(coordinator, {"email": member.email, "kind": "territory_team", "scope": "ti-4401"})
    member.refresh_from_db()
    assert not member.is_active and not member.roles.exists()
    client = Client()
    client.force_login(coordinator)
    page = client.get(f"/espace/national/utilisateurs/{member.pk}/").content.decode()
    assert "ne peut être ni réactivé ni invité de nouveau" in page and "Réactiver le compte" not in page
