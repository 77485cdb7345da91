"""Login throttling as a visitor meets it: a locked address, a locked network, the "forgotten password" form, the API
and the admin's login page, and the operator's `unlock_account` command.

Time never sleeps here: `later(minutes)` moves every counter back, as if that time had passed.
"""

import logging
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import Client, RequestFactory

from pilotage.accounts import throttle
from pilotage.accounts.models import LoginThrottle
from pilotage.accounts.services import create_or_update_user
from pilotage.accounts.tests.test_pages import LOGIN_URL, PASSWORD, page_text
from pilotage.accounts.tokens import create_token

EMAIL = "coordination@anct.gouv.fr"
WRONG = "pas-le-bon-mot-de-passe"
LOCKED = "Trop de tentatives de connexion ont échoué."
RESET_URL = "/compte/mot-de-passe/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    return create_or_update_user(EMAIL, "national", password=PASSWORD)[0]


def login(client: Client, email: str, password: str, ip: str = "203.0.113.7", **extra):
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def later(minutes: int) -> None:
    """As if `minutes` had passed: every window and lock moves back."""
    delta = timedelta(minutes=minutes)
    LoginThrottle.objects.update(window_start=F("window_start") - delta, locked_until=F("locked_until") - delta)


def fail(client: Client, email: str, times: int, **kwargs):
    return [login(client, email, WRONG, **kwargs) for _ in range(times)][-1]


def test_defaults_are_5_per_address_and_30_per_network_in_15_minutes_then_15_minutes_locked():
    assert throttle.rule("account") == throttle.Rule(5, timedelta(minutes=15), timedelta(minutes=15))
    assert throttle.rule("login_ip").limit == 30
    assert throttle.rule("reset_ip").limit == 10 and throttle.rule("reset_address").limit == 3
    assert throttle.rule("api_ip").limit == 30


def test_five_failures_lock_the_address_even_for_the_right_password(client: Client, user):
    fourth = fail(client, EMAIL, 4)
    assert fourth.status_code == 200 and "Adresse électronique ou mot de passe incorrect." in page_text(fourth)

    fifth = login(client, EMAIL, WRONG)
    assert fifth.status_code == 429 and fifth["Retry-After"] == "900"
    assert LOCKED in page_text(fifth) and "15 minutes au plus" in page_text(fifth)
    right_password = login(client, EMAIL.upper(), PASSWORD)  # the address as typed, in any case
    assert right_password.status_code == 429 and LOCKED in page_text(right_password)
    assert "_auth_user_id" not in client.session
    # another address from the same network still logs in
    other = create_or_update_user("pilote@grandest.fr", "national", password=PASSWORD)[0]
    assert login(Client(), other.email, PASSWORD).status_code == 302


def test_a_locked_unknown_address_looks_exactly_like_a_locked_account(client: Client, user):
    known = fail(client, EMAIL, 6)
    unknown = fail(Client(), "personne@example.fr", 6, ip="198.51.100.9")
    assert known.status_code == unknown.status_code == 429
    assert page_text(known).replace(EMAIL, "X") == page_text(unknown).replace("personne@example.fr", "X")


def test_the_lock_ends_after_its_delay_and_counting_starts_afresh(client: Client, user):
    fail(client, EMAIL, 5)
    later(14)
    assert login(client, EMAIL, PASSWORD).status_code == 429
    later(2)
    assert login(Client(), EMAIL, PASSWORD).status_code == 302
    assert fail(client, EMAIL, 4).status_code == 200  # the success cleared the count: four more are allowed


def test_failures_further_apart_than_the_window_do_not_add_up(client: Client, user):
    fail(client, EMAIL, 4)
    later(16)
    assert fail(client, EMAIL, 4).status_code == 200
    assert login(client, EMAIL, PASSWORD).status_code == 302


def test_a_successful_login_clears_the_failures_of_the_address(client: Client, user):
    fail(client, EMAIL, 4)
    assert login(Client(), EMAIL, PASSWORD).status_code == 302
    assert fail(client, EMAIL, 4).status_code == 200
    assert login(Client(), EMAIL, PASSWORD).status_code == 302


def test_one_network_trying_many_addresses_is_locked_and_others_are_not(client: Client, user, settings):
    settings.PILOTAGE_LOGIN_FAILURES_PER_IP = 6
    for n in range(5):
        assert login(client, f"essai{n}@example.fr", WRONG).status_code == 200
    assert login(client, "essai5@example.fr", WRONG).status_code == 429
    assert login(client, EMAIL, PASSWORD).status_code == 429  # from this network, nobody logs in for now
    assert login(Client(), EMAIL, PASSWORD, ip="198.51.100.9").status_code == 302
    # X-Forwarded-For is not believed without a trusted proxy in front
    spoofed = login(Client(), EMAIL, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert spoofed.status_code == 429


def test_the_client_address_is_the_one_the_trusted_proxy_wrote(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")
    settings.PILOTAGE_PROXY_COUNT = 0
    assert throttle.client_ip(request) == "10.0.0.2"
    settings.PILOTAGE_PROXY_COUNT = 1
    assert throttle.client_ip(request) == "203.0.113.7"  # not 192.0.2.1: the client may write anything there
    settings.PILOTAGE_PROXY_COUNT = 2
    assert throttle.client_ip(request) == "192.0.2.1"
    ipv6 = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="2001:db8:1:2:aaaa::1")
    settings.PILOTAGE_PROXY_COUNT = 1
    assert throttle.client_ip(ipv6) == "2001:db8:1:2::/64"  # one subscriber's whole network counts as one


def security_log(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "pilotage.security"]


def test_a_lockout_is_logged(client: Client, user, caplog):
    with caplog.at_level(logging.WARNING, logger="pilotage.security"):
        fail(client, EMAIL, 4)
        assert security_log(caplog) == []
        fail(client, EMAIL, 1)
    [line] = security_log(caplog)
    assert line.startswith(f"Blocage : connexion, par adresse électronique « {EMAIL} » après 5 tentatives en 15 min")


def test_the_admin_login_page_counts_on_the_same_counters(client: Client, user):
    user.is_superuser = user.is_staff = True
    user.save()
    fail(client, EMAIL, 5)
    admin = client.post("/admin/login/", {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert admin.status_code == 200 and LOCKED in admin.content.decode().replace("&#x27;", "'")
    assert "_auth_user_id" not in client.session


def test_expired_counters_are_deleted(client: Client, user):
    fail(client, EMAIL, 2)
    assert LoginThrottle.objects.filter(key=EMAIL).exists()
    later(16)
    login(client, "autre@example.fr", WRONG)
    assert not LoginThrottle.objects.filter(key=EMAIL).exists()


# --- the "forgotten password" form ------------------------------------------------------------------------------


def test_the_reset_form_answers_the_same_for_known_and_unknown_addresses(client: Client, user):
    known = client.post(RESET_URL, {"email": EMAIL})
    unknown = client.post(RESET_URL, {"email": "personne@example.fr"})
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [[EMAIL]]


def test_the_reset_form_is_throttled_per_network(client: Client, user, settings):
    settings.PILOTAGE_PASSWORD_RESETS_PER_IP = 3
    for n in range(3):
        assert client.post(RESET_URL, {"email": f"essai{n}@example.fr"}).status_code == 302
    refused = client.post(RESET_URL, {"email": EMAIL})
    assert refused.status_code == 429 and "Trop de demandes de réinitialisation" in page_text(refused)
    assert mail.outbox == []
    assert Client().post(RESET_URL, {"email": EMAIL}, REMOTE_ADDR="198.51.100.9").status_code == 302
    assert len(mail.outbox) == 1


def test_one_address_gets_three_reset_mails_then_the_page_still_says_sent(user):
    answers = [Client().post(RESET_URL, {"email": EMAIL}, REMOTE_ADDR=f"198.51.100.{n}") for n in range(5)]
    assert {a.status_code for a in answers} == {302} and {a["Location"] for a in answers} == {answers[0]["Location"]}
    assert len(mail.outbox) == 3  # no mail-bombing of one address, and nothing tells it apart


def test_a_new_password_from_the_reset_link_lifts_the_lock(client: Client, user):
    fail(client, EMAIL, 5)
    client.post(RESET_URL, {"email": EMAIL})
    link = re.search(r"http://testserver(/compte/mot-de-passe/\S+/)", mail.outbox[0].body)[1]
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "un-tout-nouveau-secret-2025"
    assert client.post(form_url, {"new_password1": new, "new_password2": new}).status_code == 302
    assert login(Client(), EMAIL, new).status_code == 302


def test_national_invitations_are_not_throttled(user):
    from pilotage.programme.national import send_invitation

    for _ in range(5):
        assert send_invitation(user, domain="pilotage.example.fr", use_https=True)
    assert len(mail.outbox) == 5


# --- the API ----------------------------------------------------------------------------------------------------


def test_bad_api_tokens_lock_the_network_even_for_a_good_token(user, settings):
    settings.PILOTAGE_API_TOKEN_FAILURES_PER_IP = 3
    good = create_token(user, "script")
    api = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(3):
        bad = api.get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer pil_devine{n}")
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    refused = api.get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {good}")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_requests"
    assert "réessayez plus tard" in refused.json()["error"]["message"]
    other = Client(REMOTE_ADDR="198.51.100.9").get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {good}")
    assert other.status_code == 200
    assert api.get("/api/v1/stats").status_code == 200  # the public API without a token stays open


def test_the_token_of_a_deactivated_account_is_refused(user):
    key = create_token(user, "script")
    assert Client().get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    user.is_active = False
    user.save()
    refused = Client().get("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == 'Bearer realm="pilotage"'


# --- the operator's command -------------------------------------------------------------------------------------


def unlock(*args) -> str:
    out = StringIO()
    call_command("unlock_account", *args, stdout=out)
    return out.getvalue()


def test_unlock_account_lists_and_lifts_locks(client: Client, user, settings, caplog):
    assert "Aucun blocage en cours." in unlock("--list")
    fail(client, EMAIL, 5)
    listed = unlock("--list")
    assert f"connexion, par adresse électronique : {EMAIL} — bloqué jusqu'au" in listed
    with caplog.at_level(logging.WARNING, logger="pilotage.security"):
        assert "Débloqué" in unlock(EMAIL.upper())
    assert "Déblocage manuel" in caplog.text
    assert login(client, EMAIL, PASSWORD).status_code == 302
    assert "Aucun blocage ni échec" in unlock(EMAIL)

    settings.PILOTAGE_LOGIN_FAILURES_PER_IP = 2
    fail(Client(), "x@example.fr", 1)
    fail(Client(), "y@example.fr", 1)
    assert login(Client(), EMAIL, PASSWORD).status_code == 429
    assert "Débloqué : 203.0.113.7" in unlock("--ip", "203.0.113.7")
    assert login(Client(), EMAIL, PASSWORD).status_code == 302
    with pytest.raises(CommandError, match="Indiquez"):
        unlock()
