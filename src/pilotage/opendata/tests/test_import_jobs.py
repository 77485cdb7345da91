"""A large web import runs as a background job: the browser is sent to a progress page that polls a JSON state,
then shows the preview (or the result). Real threads and a real database: the tests are transactional."""

from __future__ import annotations

import datetime
import re
import time
import uuid

import pytest
from django.utils import timezone

from pilotage.accounts.services import create_or_update_user
from pilotage.opendata import jobs
from pilotage.opendata.models import ImportJob
from pilotage.opendata.tests import test_web_import
from pilotage.opendata.tests.test_web_import import HAYANGE, page_text, token_of, xlsx
from pilotage.projects.models import Project

pytestmark = pytest.mark.django_db(transaction=True)
programme, team = test_web_import.programme, test_web_import.team  # the web import's fixtures

URL = "/espace/import/"
JOB_URL = re.compile(r"^/espace/import/operations/([0-9a-f-]{36})/$")


def many_rows(count: int) -> list[list]:
    return [
        [f"P-JOB-{n:05}", "ti-4401", f"Atelier {n}", "recruter", "idea", "", "", HAYANGE, "", "", "1000", "oui"]
        for n in range(count)
    ]


@pytest.fixture
def background(settings):
    """Every file goes through a job, whatever its size."""
    settings.PILOTAGE_IMPORT_INLINE_MAX_BYTES = 0


def wait_until_finished(client, job_url: str, timeout: float = 60) -> list[dict]:
    """Poll the state as the page does; the states seen, the last one finished."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(job_url + "etat/")
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        seen.append(response.json())
        if seen[-1]["finished"]:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job not finished after {timeout} s: {seen[-1:]}")


def test_a_large_file_is_checked_in_the_background_then_its_preview_shown(client, team, background, tmp_path):
    response = client.post(URL, {"file": xlsx(tmp_path, many_rows(1200))})

    assert response.status_code == 302
    job_url = response["Location"]
    assert JOB_URL.match(job_url)
    states = wait_until_finished(client, job_url)
    assert states[-1]["status"] == "done"
    assert set(states[-1]) == {"status", "finished", "done", "total", "percent", "message", "counts"}
    for state in states:
        assert state["percent"] is None or 0 <= state["percent"] <= 100
    preview = client.get(job_url)
    assert preview.status_code == 200
    text = page_text(preview)
    assert "Aperçu de l'import" in text and "1 200 lignes lues" in text
    assert "1 200 projets seront créés" in text and "Confirmer l'import" in text
    assert not Project.objects.filter(id_projet__startswith="P-JOB-").exists()  # a preview writes nothing
    assert ImportJob.objects.get().status == ImportJob.Status.DONE


def test_confirming_a_large_file_writes_it_in_the_background_once(client, team, background, tmp_path):
    job_url = client.post(URL, {"file": xlsx(tmp_path, many_rows(300))})["Location"]
    wait_until_finished(client, job_url)
    token = token_of(client.get(job_url))

    confirm = client.post(f"{URL}confirmer/", {"token": token})
    assert confirm.status_code == 302 and JOB_URL.match(confirm["Location"])
    again = client.post(f"{URL}confirmer/", {"token": token}, follow=True)  # a second click meanwhile
    assert "Cet aperçu a expiré ou son import a déjà été fait" in page_text(again)
    assert wait_until_finished(client, confirm["Location"])[-1]["status"] == "done"
    result = client.get(confirm["Location"], follow=True)

    assert "Import de projets.xlsx terminé : 300 projets créés, 0 mis à jour" in page_text(result)
    assert Project.objects.filter(id_projet__startswith="P-JOB-").count() == 300
    assert list(Project.objects.get(id_projet="P-JOB-00007").themes.values_list("code", flat=True)) == ["recruter"]


def test_the_progress_page_shows_the_rows_done_and_works_without_javascript(client, team):
    job = ImportJob.objects.create(
        user=team, kind="preview", filename="gros.xlsx", status="running", done=2500, total=10000,
        message="Vérification des lignes", heartbeat=timezone.now(),
    )  # fmt: skip
    url = f"{URL}operations/{job.pk}/"

    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Vérification du fichier" in page_text(response) and "gros.xlsx" in html
    assert re.search(r'<progress [^>]*id="job-progress"[^>]*value="25"', html)
    assert "2 500 lignes sur 10 000 (25 %)" in page_text(response)
    assert 'aria-live="polite"' in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html  # no JavaScript: it reloads
    assert f'href="{url}"' in html and "Actualiser" in html
    assert "<script>" not in html and "import_job.js" in html  # no inline script: the CSP forbids them
    state = client.get(url + "etat/").json()
    assert (state["status"], state["done"], state["total"], state["percent"]) == ("running", 2500, 10000, 25)
    assert state["message"] == "Vérification des lignes" and not state["finished"]


def test_a_job_whose_heartbeat_stopped_is_declared_interrupted(client, team, settings):
    settings.PILOTAGE_IMPORT_JOB_STALE_SECONDS = 60
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    job = ImportJob.objects.create(
        user=team, kind="confirm", filename="gros.xlsx", status="running", heartbeat=long_ago
    )

    state = client.get(f"{URL}operations/{job.pk}/etat/").json()

    assert state["status"] == "failed" and state["finished"]
    assert "interrompu" in state["message"] and "rien n'a été enregistré" in state["message"]
    page = client.get(f"{URL}operations/{job.pk}/")
    assert "Le traitement n'a pas abouti" in page_text(page) and "Envoyer de nouveau le fichier" in page_text(page)


def test_only_its_author_sees_a_job(client, team, programme):
    job = ImportJob.objects.create(user=team, kind="preview", filename="a.xlsx", status="running")
    other = create_or_update_user("autre@nord-lorraine.fr", "territory_team", "ti-4401")[0]
    client.force_login(other)

    assert client.get(f"{URL}operations/{job.pk}/").status_code == 404
    assert client.get(f"{URL}operations/{job.pk}/etat/").status_code == 404
    assert client.get(f"{URL}operations/{uuid.uuid4()}/etat/").status_code == 404
    client.logout()
    assert client.get(f"{URL}operations/{job.pk}/etat/")["Location"].startswith("/compte/connexion/")


def test_job_progress_keeps_the_latest_counts_and_a_step_starts_an_unknown_length():
    progress = jobs.JobProgress()
    progress("Vérification des lignes", done=250, total=1000)
    assert progress.snapshot() == {"done": 250, "total": 1000, "message": "Vérification des lignes"}
    progress("Enregistrement de 1000 projets…")
    assert progress.snapshot() == {"done": 0, "total": 0, "message": "Enregistrement de 1000 projets…"}
