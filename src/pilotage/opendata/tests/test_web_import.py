"""The web import of a projects file (`/espace/import/`) as a territory team uses it: upload, preview of what would
be created and updated and of every rejected row (nothing written), then confirmation (all or nothing, as the
acting user, so that a project outside their scope is a row error)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pilotage.accounts.models import Role
from pilotage.accounts.services import create_or_update_user
from pilotage.core.history import history_of
from pilotage.opendata.schema import FUNDING, PROJECTS
from pilotage.opendata.tests.helpers import table_counts, write_csv, write_xlsx
from pilotage.programme.models import ProgrammePhase, Theme
from pilotage.projects import services
from pilotage.projects.models import FundingLine, Organisation, Project
from pilotage.web.tests.factories import make_territory

pytestmark = pytest.mark.django_db

URL = "/espace/import/"
METZ_METROPOLE, FENSCH, EPINAL_AGGLO = "200039865", "245701222", "200068757"
METZ, HAYANGE = "57463", "57306"
HEADER = ["id_projet", "id_ti", "titre", "themes", "statut", "porteur_nom", "porteur_siren", "commune_insee",
          "date_debut", "date_fin", "cout_total", "public"]  # fmt: skip
FUNDING_HEADER = ["id_projet", "financeur", "dispositif", "montant_demande", "montant_accorde", "date_decision"]


def page_text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).replace("\xa0", " ").replace("\u202f", " ")


def figure(response, name: str) -> str:
    return re.search(rf'id="count-{name}">([^<]*)<', response.content.decode()).group(1).replace("\u202f", "")


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def programme(geo_slice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    nord = make_territory("ti-4401", "Nord Lorraine", "44", [METZ_METROPOLE, FENSCH], ("2018-2022",))
    epinal = make_territory("ti-4402", "Épinal", "44", [EPINAL_AGGLO], ("2023-2027",))
    phase = ProgrammePhase.objects.get(code="2018-2022")
    parc = Project.objects.create(
        id_projet="P-4401-001", territory=nord, phase=phase, title="Parc d'activités", status="idea"
    )
    parc.themes.set([Theme.objects.get(phase=phase, code="innover")])
    foncier = Project.objects.create(
        id_projet="P-4402-001",
        territory=epinal,
        phase=ProgrammePhase.objects.get(code="2023-2027"),
        title="Foncier d'Épinal",
    )
    return {"nord": nord, "epinal": epinal, "parc": parc, "foncier": foncier}


@pytest.fixture
def team(programme, client):
    user = create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0]
    client.force_login(user)
    return user


def xlsx(tmp_path, projects: list, funding: list | None = None, name: str = "projets.xlsx") -> SimpleUploadedFile:
    sheets = {"projets": [HEADER, *projects]}
    if funding is not None:
        sheets["financements"] = [FUNDING_HEADER, *funding]
    path = write_xlsx(tmp_path / name, sheets)
    return SimpleUploadedFile(name, path.read_bytes())


ROWS = [
    ["P-4401-001", "ti-4401", "Parc d'activités bio-ressources", "innover;attirer", "maturing", "Fonderie de l'Est",
     "732829320", METZ, "2024-01-01", "2025-12-31", "1 200 000,50", "oui"],
    ["P-4401-002", "ti-4401", "Campus des métiers", "recruter", "idea", "", "", HAYANGE, "", "", "85000", "non"],
]  # fmt: skip
FUNDING_ROWS = [["P-4401-001", "Bpifrance", "Prêt d'amorçage", 300000, None, None]]


def test_preview_lists_what_would_change_and_writes_nothing(client, team, programme, tmp_path):
    before = table_counts()

    response = client.post(URL, {"file": xlsx(tmp_path, ROWS, FUNDING_ROWS)})

    assert response.status_code == 200
    assert (figure(response, "rows"), figure(response, "created"), figure(response, "updated")) == ("2", "1", "1")
    assert figure(response, "unchanged") == "0"
    text = page_text(response)
    assert "Rien n'est encore enregistré" in text
    created = re.search(r'id="created-projects".*?</table>', response.content.decode(), re.S).group(0)
    assert "P-4401-002" in created and "Campus des métiers" in created and "P-4401-001" not in created
    assert "Titre : Parc d'activités → Parc d'activités bio-ressources" in text
    assert "Statut : Idée → En maturation" in text
    assert "Coût total (€) : 1 200 000,50 €" in text
    assert "Porteur : Fonderie de l'Est (nouvelle organisation)" in text
    assert "Financement ajouté : Bpifrance — Prêt d'amorçage" in text
    assert "Confirmer l'import" in text
    assert table_counts() == before
    assert Project.objects.get(id_projet="P-4401-001").title == "Parc d'activités"


def test_preview_counts_are_those_of_the_service(client, team, programme, tmp_path):
    upload = xlsx(tmp_path, [*ROWS, ["P-4401-003", "ti-4401", "Parc d'activités", "innover", "idea", "", "",
                                     "", "", "", "", "oui"]])  # fmt: skip
    response = client.post(URL, {"file": upload})
    report = services.import_projects(tmp_path / "projets.xlsx", user=team, dry_run=True)
    shown = [int(figure(response, name)) for name in ("rows", "created", "updated", "unchanged")]
    assert shown == [report.rows, report.created, report.updated, report.unchanged]


def test_confirm_writes_everything_as_the_acting_user(client, team, programme, tmp_path):
    preview = client.post(URL, {"file": xlsx(tmp_path, ROWS, FUNDING_ROWS)})

    response = client.post(f"{URL}confirmer/", {"token": token_of(preview)}, follow=True)

    assert response.redirect_chain[-1][0] == URL
    assert "1 projets créés, 1 mis à jour, 0 sans changement" in page_text(response)
    parc = Project.objects.get(id_projet="P-4401-001")
    assert (parc.title, parc.status, parc.total_cost) == ("Parc d'activités bio-ressources", "maturing",
                                                          Decimal("1200000.50"))  # fmt: skip
    assert Project.objects.get(id_projet="P-4401-002").public is False
    assert FundingLine.objects.get(project=parc).funder.name == "Bpifrance"
    entry = history_of(parc).order_by("-at", "-id").first()
    assert (entry.user, entry.source, entry.reason) == (team, "import", "Import du fichier projets.xlsx")
    # The spooled file is gone and the token cannot be used twice.
    counts = table_counts()
    again = client.post(f"{URL}confirmer/", {"token": token_of(preview)}, follow=True)
    assert "Cet aperçu a expiré ou son import a déjà été fait" in page_text(again)
    assert table_counts() == counts
    assert list((tmp_path / "media" / "imports-en-attente").iterdir()) == []


def test_every_row_error_is_listed_with_row_and_column_and_nothing_can_be_confirmed(client, team, programme, tmp_path):
    rows = [
        ["P-4401-010", "ti-4401", "Usine", "innover", "idea", "Fonderie", "732829321", METZ, "", "", "", ""],
        ["P-4401-011", "ti-4401", "", "inconnu", "idea", "", "", "", "2024-05-01", "2024-01-01", "-5", ""],
    ]
    before = table_counts()

    response = client.post(URL, {"file": xlsx(tmp_path, rows)})

    text = page_text(response)
    assert "Import impossible : rien ne sera enregistré" in text
    errors = re.findall(
        r"<tr>\s*<td class=\"pil-num\">(\d+)</td>\s*<td><code>([^<]+)</code>", response.content.decode()
    )
    assert sorted(errors) == sorted(
        [("2", "porteur_siren"), ("3", "titre"), ("3", "themes"), ("3", "date_fin"), ("3", "cout_total")]
    )
    assert "clé de contrôle erronée" in text
    assert 'name="token"' not in response.content.decode()
    assert table_counts() == before
    assert list((tmp_path / "media" / "imports-en-attente").iterdir()) == []


def test_a_project_outside_the_user_s_scope_is_a_row_error_never_an_update(client, team, programme, tmp_path):
    rows = [["P-4402-001", "ti-4402", "Foncier repris", "foncier", "idea", "", "", "", "", "", "", ""]]

    response = client.post(URL, {"file": xlsx(tmp_path, rows)})

    text = page_text(response)
    assert "Le projet « P-4402-001 » est hors de votre périmètre." in text
    assert figure(response, "errors") == "1"
    assert Project.objects.get(id_projet="P-4402-001").title == "Foncier d'Épinal"


def test_confirming_checks_the_file_again(client, team, programme, tmp_path):
    preview = client.post(URL, {"file": xlsx(tmp_path, ROWS)})
    Role.objects.filter(user=team).delete()  # the team member lost their role meanwhile
    counts = table_counts()

    response = client.post(f"{URL}confirmer/", {"token": token_of(preview)})

    assert response.status_code == 409
    assert "Le fichier n'est plus valide : rien n'a été enregistré" in page_text(response)
    assert table_counts() == counts


def test_a_forged_token_writes_nothing(client, team, programme, tmp_path):
    client.post(URL, {"file": xlsx(tmp_path, ROWS)})
    counts = table_counts()
    response = client.post(f"{URL}confirmer/", {"token": "forged"}, follow=True)
    assert "Cet aperçu a expiré" in page_text(response)
    assert table_counts() == counts


def test_a_csv_file_and_its_funding_file(client, team, programme, tmp_path):
    projects = write_csv(tmp_path / "projets.csv", [HEADER, *ROWS])
    funding = write_csv(tmp_path / "financements.csv", [FUNDING_HEADER, *FUNDING_ROWS])
    upload = {
        "file": SimpleUploadedFile("projets.csv", projects.read_bytes()),
        "funding_file": SimpleUploadedFile("financements.csv", funding.read_bytes()),
    }
    preview = client.post(URL, upload)
    assert "Financement ajouté : Bpifrance — Prêt d'amorçage" in page_text(preview)
    client.post(f"{URL}confirmer/", {"token": token_of(preview)})
    assert FundingLine.objects.filter(project__id_projet="P-4401-001", requested=300000).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("projets.txt", b"id_projet\n", "Format non pris en charge (« .txt »)"),
        ("projets.xlsx", b"PK\x03\x04 not a workbook", "Le fichier est illisible"),
        ("projets.csv", b"titre;statut\nUsine;idea\n", "1 id_projet Colonne obligatoire absente."),
    ],
)
def test_unusable_files_get_a_french_message(client, team, programme, name, content, message):
    response = client.post(URL, {"file": SimpleUploadedFile(name, content)})
    assert message in page_text(response)
    assert not Project.objects.filter(title="Usine").exists()


def test_a_file_over_the_size_limit_is_refused(client, team, programme, settings, tmp_path):
    settings.PILOTAGE_WEB_IMPORT_MAX_BYTES = 1000
    response = client.post(URL, {"file": SimpleUploadedFile("projets.csv", b"x" * 2000)})
    assert "la taille maximale est de 1000 octets" in page_text(response)


def test_who_may_import(client, programme):
    assert client.get(URL)["Location"].startswith("/compte/connexion/?next=")
    client.force_login(create_or_update_user("prefecture@example.fr", "state_services", "44")[0])
    assert client.get(URL).status_code == 403
    client.force_login(create_or_update_user("equipe@example.fr", "territory_team", "ti-4401")[0])
    response = client.get(URL)
    assert response.status_code == 200
    text = page_text(response)
    for column in PROJECTS.columns + FUNDING.columns:  # the columns' documentation comes from the schema
        assert column.description in text


def test_the_template_is_a_workbook_with_the_import_sheets_and_headers(client, team):
    from openpyxl import load_workbook

    response = client.get(f"{URL}modele-import-projets.xlsx")

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:2] == ["projets", "financements"]
    assert [c.value for c in workbook["projets"][1]] == PROJECTS.names
    assert [c.value for c in workbook["financements"][1]] == FUNDING.names


def test_the_filled_template_imports(client, team, programme, tmp_path):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(client.get(f"{URL}modele-import-projets.xlsx").content))
    values = dict(zip(PROJECTS.names, [None] * len(PROJECTS.names), strict=True))
    values |= {"id_projet": "P-4401-050", "id_ti": "ti-4401", "titre": "Usine", "themes": "innover", "statut": "idea"}
    workbook["projets"].append(list(values.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = client.post(URL, {"file": SimpleUploadedFile("modele.xlsx", buffer.getvalue())})
    assert figure(preview, "created") == "1"
    client.post(f"{URL}confirmer/", {"token": token_of(preview)})
    assert Project.objects.get(id_projet="P-4401-050").title == "Usine"
    assert not Organisation.objects.exists()
