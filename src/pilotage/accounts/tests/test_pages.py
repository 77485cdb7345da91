"""The account pages as a user meets them: logging in and out, a forgotten password, "Mon compte" and API tokens."""

import html
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from pilotage.accounts.models import ApiToken
from pilotage.accounts.services import create_or_update_user
from pilotage.geo.models import Region
from pilotage.programme.models import ProgrammePhase, Territory

PASSWORD = "un-mot-de-passe-solide-2024"
LOGIN_URL = "/compte/connexion/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs a second per password on the CI machines; what is tested here is not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def territory(db) -> Territory:
    region = Region.objects.create(code="44", name="Grand Est")
    territory = Territory.objects.create(code="ti-4401", name="Nord Lorraine", region=region)
    territory.phases.add(ProgrammePhase.objects.get(code="2018-2022"))
    return territory


@pytest.fixture
def member(territory):
    user = create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401", password=PASSWORD)[0]
    create_or_update_user("equipe@nord-lorraine.fr", "regional_pilot", "44")
    return user


@pytest.fixture
def logged_in(client: Client, member) -> Client:
    client.force_login(member)
    return client


def login(client: Client, email: str, password: str, **extra):
    return client.post(LOGIN_URL, {"username": email, "password": password, **extra})


def page_text(response) -> str:
    """The visible text of the page's main content, so that assertions read what a user reads."""
    source = response.content.decode()
    main = source[source.index('<main id="content"') :]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def new_token(client: Client, name: str) -> str:
    """Create a token through the page; returns the clear value it shows."""
    return re.search(r'value="(pil_[^"]+)"', client.post("/compte/jetons/", {"name": name}).content.decode())[1]


def test_login_with_email_and_password_leads_to_the_workspace_then_logout(client: Client, member):
    assert client.get(LOGIN_URL).status_code == 200
    response = login(client, "Equipe@Nord-Lorraine.fr", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/espace/"
    header = client.get("/").content.decode()
    assert "equipe@nord-lorraine.fr" in header and "Se déconnecter" in header

    assert client.get("/compte/deconnexion/").status_code == 405  # a link cannot log anyone out
    response = client.post("/compte/deconnexion/", follow=True)
    assert "Vous êtes déconnecté." in page_text(response) and "Se connecter" in response.content.decode()
    assert client.get("/compte/").status_code == 302  # logged out: back to the login page


def test_login_goes_back_to_the_page_asked_for(client: Client, member):
    response = client.get("/compte/")
    assert response.status_code == 302 and response["Location"] == f"{LOGIN_URL}?next=/compte/"
    response = login(client, member.email, PASSWORD, next="/compte/")
    assert response["Location"] == "/compte/"


def test_a_failed_login_says_the_same_whether_the_address_has_an_account_or_not(client: Client, member):
    wrong_password = login(client, member.email, "pas-le-bon-mot-de-passe")
    unknown_address = login(client, "personne@example.fr", "pas-le-bon-mot-de-passe")
    assert wrong_password.status_code == unknown_address.status_code == 200
    message = "Adresse électronique ou mot de passe incorrect."
    assert message in page_text(wrong_password) and message in page_text(unknown_address)
    assert page_text(wrong_password).replace(member.email, "X") == page_text(unknown_address).replace(
        "personne@example.fr", "X"
    )
    assert "_auth_user_id" not in client.session


def test_password_reset_answers_the_same_and_mails_only_the_account_owner(client: Client, member):
    form = client.get("/compte/mot-de-passe/")
    assert form.status_code == 200 and "Adresse électronique" in page_text(form)

    unknown = client.post("/compte/mot-de-passe/", {"email": "personne@example.fr"})
    assert mail.outbox == []
    known = client.post("/compte/mot-de-passe/", {"email": member.email})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"] == "/compte/mot-de-passe/envoye/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [member.email]

    link = re.search(r"http://testserver(/compte/mot-de-passe/\S+/)", mail.outbox[0].body).group(1)
    set_password_page = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in page_text(set_password_page)
    new_password = "un-tout-nouveau-secret-2025"
    response = client.post(
        set_password_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response["Location"] == "/compte/mot-de-passe/enregistre/"
    assert login(Client(), member.email, new_password).status_code == 302
    assert login(Client(), member.email, PASSWORD).status_code == 200
    assert "plus valable" in page_text(client.get(link, follow=True))  # the link served once


def test_an_account_created_without_password_chooses_it_through_the_reset_mail(client: Client, territory):
    create_or_update_user("nouvelle@grandest.fr", "regional_pilot", "44")  # as `pilotage create_user` does
    client.post("/compte/mot-de-passe/", {"email": "nouvelle@grandest.fr"})
    assert [m.to for m in mail.outbox] == [["nouvelle@grandest.fr"]]


def test_account_page_shows_the_email_and_each_role_with_its_scope(logged_in: Client):
    text = page_text(logged_in.get("/compte/"))
    assert "equipe@nord-lorraine.fr" in text
    assert "Équipe du territoire Territoire Nord Lorraine ( ti-4401 )" in text
    assert "Pilote régional (Conseil régional) Région Grand Est (44)" in text
    assert "aucun jeton" in text


def test_a_token_is_shown_once_then_listed_by_its_prefix_and_works_on_the_api(logged_in: Client, member):
    response = logged_in.post("/compte/jetons/", {"name": "Tableur régional"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = re.search(r'value="(pil_[^"]+)"', response.content.decode()).group(1)
    assert "il ne sera plus jamais affiché" in page_text(response)

    account = logged_in.get("/compte/").content.decode()
    token = ApiToken.objects.get(user=member)
    assert key not in account and f"{token.prefix}…" in account and "Tableur régional" in account
    assert token.prefix == key[:12] and "jamais" in page_text(logged_in.get("/compte/"))

    api = Client().get("/api/v1/territories", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_needs_a_name(logged_in: Client, member):
    response = logged_in.post("/compte/jetons/", {"name": "   "})
    assert response.status_code == 200 and "Donnez un nom au jeton" in page_text(response)
    assert not ApiToken.objects.filter(user=member).exists()


def test_a_revoked_token_is_refused_by_the_api(logged_in: Client, member):
    key = new_token(logged_in, "CI")
    token = ApiToken.objects.get(user=member)
    assert logged_in.get(f"/compte/jetons/{token.pk}/revoquer/").status_code == 405

    response = logged_in.post(f"/compte/jetons/{token.pk}/revoquer/", follow=True)
    assert "est révoqué" in page_text(response) and "Révoqué le" in page_text(response)
    api = Client().get("/api/v1/territories", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 401


def test_nobody_revokes_another_users_token(logged_in: Client, territory):
    other = create_or_update_user("pilote@grandest.fr", "regional_pilot", "44")[0]
    logged_in.post("/compte/jetons/", {"name": "le mien"})
    other_client = Client()
    other_client.force_login(other)
    key = new_token(other_client, "le sien")
    theirs = ApiToken.objects.get(user=other)

    assert logged_in.post(f"/compte/jetons/{theirs.pk}/revoquer/").status_code == 404
    assert logged_in.post("/compte/jetons/999999/revoquer/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert Client().get("/api/v1/territories", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert "le sien" not in logged_in.get("/compte/").content.decode()


def test_account_forms_refuse_a_post_without_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post("/compte/jetons/", {"name": "sans jeton CSRF"}).status_code == 403
    assert client.post("/compte/deconnexion/").status_code == 403
    assert not ApiToken.objects.exists()
    page = client.get("/compte/").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # the token form and the header's logout button


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, db):
    for url in ("/compte/", "/espace/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{reverse('accounts:login')}?next=")
    assert client.post("/compte/jetons/", {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()
