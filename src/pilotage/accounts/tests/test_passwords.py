"""Every way to set a password applies the same rules (AUTH_PASSWORD_VALIDATORS): the reset link's form, which is
also how a new account chooses its first password, and `pilotage create_user --password`. There is no other one:
no "change my password" page (the reset link serves), no User admin."""

import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from pilotage.accounts.models import User
from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tests.test_pages import PASSWORD, page_text

EMAIL = "coordination@anct.gouv.fr"
WEAK = {
    "court-2024": "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères.",
    "password1234": "Ce mot de passe est trop courant.",
    "203948571620394": "Ce mot de passe est entièrement numérique.",
    "coordination-anct": "Le mot de passe est trop semblable au champ",  # the address, under either name
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_reset_link_form_refuses_weak_passwords(client: Client, db):
    user = create_or_update_user(EMAIL, "national", password=PASSWORD)[0]
    client.post("/compte/mot-de-passe/", {"email": EMAIL})
    link = re.search(r"http://testserver(/compte/mot-de-passe/\S+/)", mail.outbox[0].body)[1]
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    for weak, message in WEAK.items():
        response = client.post(form_url, {"new_password1": weak, "new_password2": weak})
        assert response.status_code == 200 and message in page_text(response), weak
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", WEAK)
def test_create_user_refuses_a_weak_password_and_creates_nothing(db, weak):
    with pytest.raises(CommandError, match=re.escape(WEAK[weak])):
        call_command("create_user", EMAIL, "--role", "national", "--password", weak)
    assert not User.objects.filter(email=EMAIL).exists()


def test_create_user_keeps_the_old_password_when_the_new_one_is_weak(db):
    call_command("create_user", EMAIL, "--role", "national", "--password", PASSWORD, stdout=None)
    with pytest.raises(CommandError):
        call_command("create_user", EMAIL, "--role", "national", "--password", "court-2024")
    assert User.objects.get(email=EMAIL).check_password(PASSWORD)
