# ruff: noqa: F811 (fixtures imported from manage_fixtures)
"""The back office of a territory's governance and contracts, as its users see it: who may open which page, what
each form saves or refuses, the history it leaves, and the edit conflict of two people saving the same record."""

import datetime

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.utils import timezone

from pilotage.core.history import history_of
from pilotage.programme.models import Contract, GovernanceMember, Meeting, ProgrammePhase, Territory

from .manage_fixtures import as_user, hidden_version, media, pdf, people, programme, text  # noqa: F401

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOMORROW = TODAY + datetime.timedelta(days=1)


@pytest.fixture
def records(programme):
    """One record of each kind in Nord Lorraine (ti-4401), and the same in Sud Alsace (ti-4402)."""
    nord, sud = programme["nord"], programme["sud"]
    meeting = Meeting.objects.create(territory=nord, kind="steering_committee", held_on=datetime.date(2021, 3, 2))
    Meeting.objects.create(territory=sud, kind="steering_committee", held_on=datetime.date(2021, 3, 2))
    return {
        "member": nord.governance_members.get(full_name="Claire Industrie"),
        "contract": nord.contracts.get(kind="contract"),
        "meeting": meeting,
        "sud_member": GovernanceMember.objects.create(territory=sud, role="other", full_name="Paul Sud"),
        "sud_contract": sud.contracts.get(),
    }


def pages(records) -> dict[str, str]:
    member, contract, meeting = records["member"].pk, records["contract"].pk, records["meeting"].pk
    base = "/espace/territoires/ti-4401"
    return {
        "governance": f"{base}/gouvernance/",
        "installation": f"{base}/gouvernance/installation/",
        "member_add": f"{base}/gouvernance/membres/ajouter/",
        "member": f"{base}/gouvernance/membres/{member}/",
        "member_edit": f"{base}/gouvernance/membres/{member}/modifier/",
        "member_end": f"{base}/gouvernance/membres/{member}/fin-de-mandat/",
        "contracts": f"{base}/contrats/",
        "contract_add": f"{base}/contrats/ajouter/",
        "contract": f"{base}/contrats/{contract}/",
        "contract_edit": f"{base}/contrats/{contract}/modifier/",
        "meetings": f"{base}/reunions/",
        "meeting_add": f"{base}/reunions/ajouter/",
        "meeting": f"{base}/reunions/{meeting}/",
        "meeting_edit": f"{base}/reunions/{meeting}/modifier/",
    }


# Who may manage Nord Lorraine (Grand Est, 44): its team, Grand Est's pilot, the national coordination. The others
# see the territory (a public record) but may not manage it: 403. Anonymous visitors are sent to the login page.
EXPECTED = {
    "team": 200,
    "pilot": 200,
    "national": 200,
    "other_team": 403,
    "other_pilot": 403,
    "state": 403,
    None: 302,
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_back_office_page_answers_by_role(as_user, records, who):
    client = as_user(who)
    for name, url in pages(records).items():
        response = client.get(url)
        assert response.status_code == EXPECTED[who], (name, url)
        if response.status_code == 302:
            assert response["Location"].startswith(resolve_url(settings.LOGIN_URL)) and "next=" in response["Location"]
        if response.status_code == 403:
            assert "Accès refusé" in text(response)


@pytest.mark.parametrize("who", ["other_team", "state", None])
def test_a_write_out_of_scope_changes_nothing(as_user, records, who):
    client = as_user(who)
    urls = pages(records)
    member = records["member"]
    client.post(urls["member_edit"], {"role": "other", "full_name": "Pirate", "version": "x"})
    client.post(urls["member_add"], {"role": "other", "full_name": "Pirate"})
    client.post(urls["installation"], {"governance_installed_on": "2018-01-01", "version": "x"})
    assert GovernanceMember.objects.get(pk=member.pk).full_name == "Claire Industrie"
    assert not GovernanceMember.objects.filter(full_name="Pirate").exists()
    assert Territory.objects.get(code="ti-4401").governance_installed_on == datetime.date(2019, 3, 15)


def test_unknown_territories_and_records_of_another_territory_answer_404(as_user, records):
    client = as_user("team")
    sud_member, sud_contract = records["sud_member"].pk, records["sud_contract"].pk
    sud_meeting = Meeting.objects.get(territory__code="ti-4402").pk
    for url in (
        "/espace/territoires/ti-9999/gouvernance/",
        "/espace/territoires/ti-9999/contrats/",
        "/espace/territoires/ti-9999/reunions/",
        "/espace/territoires/ti-4401/gouvernance/membres/999999/",
        f"/espace/territoires/ti-4401/gouvernance/membres/{sud_member}/modifier/",
        f"/espace/territoires/ti-4401/contrats/{sud_contract}/",
        f"/espace/territoires/ti-4401/reunions/{sud_meeting}/",
        "/espace/regions/99/reunions/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("who", "status"),
    [("pilot", 200), ("national", 200), ("other_pilot", 403), ("state", 403), ("team", 403), (None, 302)],
)
def test_regional_meetings_are_managed_by_the_regional_pilot(as_user, records, who, status):
    meeting = Meeting.objects.create(region_id="44", kind="steering_committee", held_on=datetime.date(2022, 1, 10))
    client = as_user(who)
    for url in (
        "/espace/regions/44/reunions/",
        "/espace/regions/44/reunions/ajouter/",
        f"/espace/regions/44/reunions/{meeting.pk}/",
        f"/espace/regions/44/reunions/{meeting.pk}/modifier/",
    ):
        assert client.get(url).status_code == status, url


# --- governance ---------------------------------------------------------------------------------------------


def member_form(**values) -> dict:
    data = {
        "role": "project_manager",
        "full_name": "Sarah Cheffe",
        "position": "Cheffe de projet",
        "organisation": "CA du Val de Fensch",
        "email": "sarah@example.org",
        "phone": "03 82 00 00 00",
        "starts_on": "2021-01-04",
        "ends_on": "",
    }
    return {**data, **values}


def test_governance_page_lists_members_by_role_with_their_mandates(as_user, records):
    GovernanceMember.objects.filter(full_name="Claire Industrie").update(starts_on=datetime.date(2019, 3, 15))
    GovernanceMember.objects.create(
        territory=records["member"].territory,
        role="state_referent",
        full_name="Ancien Préfet",
        starts_on=datetime.date(2018, 11, 22),
        ends_on=datetime.date(2020, 6, 30),
    )
    page = text(as_user("team").get("/espace/territoires/ti-4401/gouvernance/"))
    claire = "Industriel référent (binôme) Claire Industrie Présidente, Aciéries de Lorraine depuis le 15 mars 2019"
    assert claire in page
    assert "Élu référent (binôme) Jean Élu Vice-président dates non renseignées" in page
    assert "Anciens membres" in page
    assert "Référent État Ancien Préfet du 22 novembre 2018 au 30 juin 2020" in page
    assert "La gouvernance a été installée le 15 mars 2019." in page


def test_add_a_member_records_who_and_what(as_user, people, records):
    client = as_user("team")
    response = client.post("/espace/territoires/ti-4401/gouvernance/membres/ajouter/", member_form(reason="Recrutée"))
    member = GovernanceMember.objects.get(full_name="Sarah Cheffe")
    assert response.status_code == 302 and response["Location"].endswith(f"/membres/{member.pk}/")
    assert (member.territory.code, member.email, member.starts_on) == (
        "ti-4401",
        "sarah@example.org",
        datetime.date(2021, 1, 4),
    )
    [entry] = history_of(member)
    assert (entry.action, entry.user, entry.source, entry.reason) == ("create", people["team"], "web", "Recrutée")
    assert entry.before is None
    assert (entry.after["full_name"], entry.after["role"]) == ("Sarah Cheffe", "project_manager")
    page = text(client.get(response["Location"]))
    assert "Création" in page and "par team@example.fr" in page and "Motif : Recrutée" in page
    assert "Rôle : Chef de projet" in page and "Début du mandat : 4 janvier 2021" in page


def test_member_form_refuses_bad_input_and_writes_nothing(as_user, records):
    client = as_user("team")
    url = "/espace/territoires/ti-4401/gouvernance/membres/ajouter/"
    cases = [
        (member_form(full_name=""), "Ce champ est obligatoire."),
        (member_form(ends_on="2020-01-01"), "La fin du mandat ne peut pas précéder son début."),
        (member_form(email="pas-une-adresse"), "Saisissez une adresse de courriel valide."),
        (member_form(phone="appelez-moi"), "Numéro de téléphone invalide"),
        (
            member_form(role="industrial_lead", full_name="Second Industriel"),
            "Claire Industrie est déjà industriel référent (binôme) en fonction : mettez d'abord fin à son mandat",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200 and message in text(response), message
        assert "Rien n'a été enregistré" in text(response)
    assert GovernanceMember.objects.filter(territory__code="ti-4401").count() == 2


def test_edit_a_member_keeps_before_and_after(as_user, people, records):
    client = as_user("pilot")
    url = f"/espace/territoires/ti-4401/gouvernance/membres/{records['member'].pk}/modifier/"
    form = client.get(url)
    assert 'value="claire.industrie@example.org"' in form.content.decode()
    data = member_form(
        role="industrial_lead",
        full_name="Claire Industrie",
        position="Présidente du directoire",
        organisation="Aciéries de Lorraine",
        email="claire.industrie@example.org",
        phone="03 87 00 00 00",
        starts_on="",
        version=hidden_version(form),
        reason="Nouvelle fonction",
    )
    assert client.post(url, data).status_code == 302
    [entry] = history_of(records["member"])
    assert entry.user == people["pilot"] and entry.reason == "Nouvelle fonction"
    assert (entry.before["position"], entry.after["position"]) == ("Présidente", "Présidente du directoire")
    page = text(client.get(f"/espace/territoires/ti-4401/gouvernance/membres/{records['member'].pk}/"))
    assert "Modification" in page and "Fonction : Présidente → Présidente du directoire" in page


def test_end_a_mandate_then_the_binome_role_is_free(as_user, records):
    client = as_user("team")
    member = records["member"]
    url = f"/espace/territoires/ti-4401/gouvernance/membres/{member.pk}/fin-de-mandat/"
    form = client.get(url)
    response = client.post(url, {"ends_on": "2023-06-30", "version": hidden_version(form), "reason": "Démission"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.ends_on == datetime.date(2023, 6, 30)
    [entry] = history_of(member)
    assert (entry.before["ends_on"], entry.after["ends_on"], entry.reason) == (None, "2023-06-30", "Démission")
    page = text(client.get("/espace/territoires/ti-4401/gouvernance/"))
    assert "Industriel référent (binôme) À désigner" in page and "Anciens membres" in page
    response = client.post(
        "/espace/territoires/ti-4401/gouvernance/membres/ajouter/",
        member_form(role="industrial_lead", full_name="Marc Successeur"),
    )
    assert response.status_code == 302


def test_governance_installation_date_is_never_in_the_future(as_user, people, records):
    client = as_user("team")
    url = "/espace/territoires/ti-4401/gouvernance/installation/"
    version = hidden_version(client.get(url))
    response = client.post(url, {"governance_installed_on": TOMORROW.isoformat(), "version": version})
    assert "La date d'installation ne peut pas être dans le futur." in text(response)
    territory = Territory.objects.get(code="ti-4401")
    assert territory.governance_installed_on == datetime.date(2019, 3, 15)
    response = client.post(url, {"governance_installed_on": "2019-04-02", "version": version, "reason": "Erreur"})
    assert response.status_code == 302
    territory.refresh_from_db()
    assert territory.governance_installed_on == datetime.date(2019, 4, 2)
    [entry] = history_of(territory)
    assert (entry.before["governance_installed_on"], entry.after["governance_installed_on"]) == (
        "2019-03-15",
        "2019-04-02",
    )
    assert entry.after["epcis"] == sorted(territory.epcis.values_list("pk", flat=True))  # a whole snapshot
    page = text(client.get("/espace/territoires/ti-4401/gouvernance/"))
    assert "Gouvernance installée le : 15 mars 2019 → 2 avril 2019" in page


# --- no lost edit ---------------------------------------------------------------------------------------------


def test_two_people_editing_a_member_the_second_gets_a_conflict_and_nothing_is_lost(client, people, records):
    from django.test import Client

    member = records["member"]
    url = f"/espace/territoires/ti-4401/gouvernance/membres/{member.pk}/modifier/"
    team, pilot = Client(), Client()
    team.force_login(people["team"])
    pilot.force_login(people["pilot"])
    team_version, pilot_version = hidden_version(team.get(url)), hidden_version(pilot.get(url))
    common = {
        "role": "industrial_lead",
        "full_name": "Claire Industrie",
        "organisation": "Aciéries de Lorraine",
        "email": "claire.industrie@example.org",
        "phone": "03 87 00 00 00",
    }

    saved = pilot.post(url, {**common, "position": "Directrice générale", "version": pilot_version})
    assert saved.status_code == 302
    conflict = team.post(url, {**common, "position": "Présidente d'honneur", "version": team_version})

    assert conflict.status_code == 409
    page = text(conflict)
    assert "Quelqu'un a modifié cet enregistrement pendant que vous le modifiiez" in page
    assert "pilot@example.fr a enregistré une autre version" in page
    assert "Fonction Présidente Directrice générale Présidente d'honneur" in page  # opened, theirs, yours
    assert GovernanceMember.objects.get(pk=member.pk).position == "Directrice générale"  # nothing overwritten
    assert 'value="Directrice générale"' in conflict.content.decode()  # the form shows the saved version

    again = team.post(url, {**common, "position": "Présidente d'honneur", "version": hidden_version(conflict)})
    assert again.status_code == 302
    entries = list(history_of(member))
    assert [(e.user.email, e.before["position"], e.after["position"]) for e in entries] == [
        ("pilot@example.fr", "Présidente", "Directrice générale"),
        ("team@example.fr", "Directrice générale", "Présidente d'honneur"),
    ]


def test_a_forged_version_is_refused(as_user, records):
    url = f"/espace/territoires/ti-4401/gouvernance/membres/{records['member'].pk}/modifier/"
    response = as_user("team").post(url, member_form(full_name="Claire I.", version="forged"))
    assert "Ce formulaire est incomplet ou a été altéré" in text(response)
    assert GovernanceMember.objects.get(pk=records["member"].pk).full_name == "Claire Industrie"


# --- contracts ------------------------------------------------------------------------------------------------


def contract_form(**values) -> dict:
    phase = ProgrammePhase.objects.get(code="2023-2027")
    return {
        "phase": phase.pk,
        "kind": "protocol",
        "signed_on": "2023-10-05",
        "signatories": "Préfète de la Moselle\nPrésident de la Région Grand Est",
        **values,
    }


def test_contracts_page_lists_each_phase_s_protocol_and_contract(as_user, records):
    page = text(as_user("team").get("/espace/territoires/ti-4401/contrats/"))
    assert "2018-2022 Protocole 3 juin 2019" in page
    assert "2018-2022 Contrat de Territoire d'industrie 10 février 2020" in page
    assert "2023-2027 Protocole Non renseigné" in page


def test_add_a_contract_with_its_pdf_served_to_everybody(client, as_user, people, records, media):
    team = as_user("team")
    response = team.post(
        "/espace/territoires/ti-4401/contrats/ajouter/", contract_form(document=pdf("Protocole signé.pdf"))
    )
    contract = Contract.objects.get(territory__code="ti-4401", phase__code="2023-2027", kind="protocol")
    assert response.status_code == 302 and response["Location"].endswith(f"/contrats/{contract.pk}/")
    assert contract.signed_on == datetime.date(2023, 10, 5) and "Préfète de la Moselle" in contract.signatories
    stored = media / contract.document.name
    assert stored.read_bytes().startswith(b"%PDF-") and "Protocole" not in contract.document.name
    [entry] = history_of(contract)
    assert entry.after["document"] == contract.document.name and entry.user == people["team"]

    client.logout()
    served = client.get(f"/espace/territoires/ti-4401/contrats/{contract.pk}/document/")
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content) == stored.read_bytes()


def test_contract_form_refuses_bad_input_and_writes_nothing(as_user, records, settings):
    settings.PILOTAGE_UPLOAD_MAX_BYTES = 2000
    client = as_user("team")
    url = "/espace/territoires/ti-4401/contrats/ajouter/"
    cases = [
        (contract_form(signed_on=TOMORROW.isoformat()), "La date de signature ne peut pas être dans le futur."),
        (contract_form(document=pdf("faux.pdf", b"Ceci est un texte\n")), "Ce fichier n'est pas un document PDF."),
        (
            contract_form(document=pdf("gros.pdf", b"%PDF-1.4\n" + b"0" * 3000)),
            "Le fichier pèse 3 ko : la taille maximale est de 2 ko.",
        ),
        (
            contract_form(phase=ProgrammePhase.objects.get(code="2018-2022").pk),
            "Ce territoire a déjà un protocole pour la phase 2018-2022",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200 and message in text(response), message
    assert Contract.objects.filter(territory__code="ti-4401").count() == 2


def test_an_oversized_request_is_refused_with_its_reason(as_user, records, settings):
    settings.PILOTAGE_UPLOAD_MAX_BYTES = 1024
    response = as_user("team").post(
        "/espace/territoires/ti-4401/contrats/ajouter/",
        contract_form(document=pdf("gros.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 2048))),
    )
    assert "dépasse la taille maximale" in text(response)
    assert Contract.objects.filter(territory__code="ti-4401").count() == 2


def test_a_contract_signed_at_a_meeting_takes_its_date(as_user, records):
    ceremony = Meeting.objects.create(
        region_id="44",
        kind="signing_ceremony",
        held_on=datetime.date(2023, 11, 20),
        place="Hôtel de Région, Strasbourg",
    )
    client = as_user("team")
    form = client.get("/espace/territoires/ti-4401/contrats/ajouter/")
    assert "Cérémonie de signature du 20/11/2023 — Hôtel de Région, Strasbourg (réunion régionale)" in text(form)
    response = client.post(
        "/espace/territoires/ti-4401/contrats/ajouter/", contract_form(signed_on="", signed_at_meeting=ceremony.pk)
    )
    assert response.status_code == 302
    contract = Contract.objects.get(signed_at_meeting=ceremony)
    assert contract.signed_on == datetime.date(2023, 11, 20)
    response = client.post(
        "/espace/territoires/ti-4401/contrats/ajouter/",
        contract_form(kind="contract", signed_on="2023-11-21", signed_at_meeting=ceremony.pk),
    )
    assert "la date de signature doit être celle de la réunion" in text(response)
    other_region = Meeting.objects.create(region_id="32", kind="signing_ceremony", held_on=datetime.date(2023, 11, 20))
    response = client.post(
        "/espace/territoires/ti-4401/contrats/ajouter/",
        contract_form(kind="contract", signed_on="", signed_at_meeting=other_region.pk),
    )
    assert "Sélectionnez un choix valide" in text(response)


def test_edit_a_contract_replaces_its_document_and_keeps_the_history(as_user, records, media):
    client = as_user("national")
    contract = records["contract"]
    url = f"/espace/territoires/ti-4401/contrats/{contract.pk}/modifier/"
    data = {"phase": contract.phase_id, "kind": "contract", "signed_on": "2020-02-10", "signatories": "Le préfet"}
    client.post(url, {**data, "document": pdf(), "version": hidden_version(client.get(url))})
    contract.refresh_from_db()
    first = contract.document.name
    form = client.get(url)
    assert "Retirer le document actuel" in text(form) and "ouvrir le PDF" in text(form)
    client.post(url, {**data, "document": pdf("v2.pdf"), "version": hidden_version(form), "reason": "Version signée"})
    contract.refresh_from_db()
    assert contract.document.name != first and (media / first).exists()  # the replaced document is kept
    entries = list(history_of(contract))
    assert [e.after["document"] for e in entries] == [first, contract.document.name]
    assert entries[0].before["signatories"] == "" and entries[0].after["signatories"] == "Le préfet"
    page = text(client.get(f"/espace/territoires/ti-4401/contrats/{contract.pk}/"))
    assert "Document : document précédent → nouveau document PDF" in page and "Motif : Version signée" in page


def test_contract_edit_conflict_keeps_the_other_version(as_user, people, records):
    from pilotage.programme.contracts import edit_contract
    from pilotage.programme.editing import EditConflict, record_state

    contract = records["contract"]
    opened = record_state(contract, ("phase", "kind", "signed_on", "signatories", "document", "signed_at_meeting"))
    data = {"phase": contract.phase, "kind": "contract", "signed_on": datetime.date(2020, 2, 10)}
    edit_contract(people["pilot"], contract, {**data, "signatories": "Signé par la Région"}, base=opened)
    with pytest.raises(EditConflict) as conflict:
        edit_contract(people["team"], contract, {**data, "signatories": "Signé par l'État"}, base=opened)
    assert [(f.name, f.current, f.submitted) for f in conflict.value.fields] == [
        ("signatories", "Signé par la Région", "Signé par l'État")
    ]
    assert Contract.objects.get(pk=contract.pk).signatories == "Signé par la Région"


# --- query counts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/espace/territoires/ti-4401/gouvernance/",
        "/espace/territoires/ti-4401/contrats/",
        "/espace/territoires/ti-4401/reunions/",
    ],
)
def test_lists_cost_a_fixed_number_of_queries(as_user, records, django_assert_max_num_queries, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user("team")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    nord = records["member"].territory
    for i in range(12):
        GovernanceMember.objects.create(territory=nord, role="other", full_name=f"Membre {i}")
        Meeting.objects.create(territory=nord, kind="follow_up_committee", held_on=datetime.date(2022, 1, 1 + i))
    with django_assert_max_num_queries(len(few)):
        client.get(url)
