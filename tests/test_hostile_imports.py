"""Hostile import files (tests/hostile_corpus.py) through the two commands and the web upload: each gets its French
message, nothing crashes, and the database is the same afterwards, compared row by row.

The database digest covers every table but two, only in the web tests: `django_session` (the login session is saved
again) and `opendata_importjob` (the web import records each check as a job: bookkeeping, not imported data).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotage.accounts.services import create_or_update_user
from pilotage.opendata.export import export
from pilotage.opendata.readers import ReadError
from pilotage.opendata.tests.helpers import run_command, table_counts
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.projects import services
from pilotage.projects.models import Project
from pilotage.web.tests.factories import make_territory
from tests.hostile_corpus import HEADER, build

settings.register_profile("pilotage", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pilotage"))

pytestmark = pytest.mark.django_db
CORPUS_DIR = Path(os.environ.get("PILOTAGE_FUZZ_DIR", "/tmp")) / f"pilotage-hostile-{os.getpid()}"
CORPUS = build(CORPUS_DIR)
atexit.register(shutil.rmtree, CORPUS_DIR, True)  # the corpus lives as long as the test process
# Generated examples run, by test (read by scripts/fuzz_imports.py for its summary).
EXAMPLES = {"csv": 0, "bytes": 0}
WEB_EXCLUDED = {"sessions.Session", "opendata.ImportJob"}
URL = "/espace/import/"


def database_digest(exclude: set[str] = frozenset()) -> str:
    """Every row of every table (many-to-many included), ordered by key: equal digests, same database."""
    tables = set(connection.introspection.table_names())
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(include_auto_created=True), key=lambda m: m._meta.label):
        meta = model._meta
        if meta.proxy or meta.label in exclude or meta.db_table not in tables:
            continue
        digest.update(meta.label.encode())
        for row in model._base_manager.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture
def programme(geo_slice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PILOTAGE_IMPORT_INLINE_MAX_BYTES = 1024 * 1024 * 1024  # the preview within the request: its page
    nord = make_territory("ti-4401", "Nord Lorraine", "44", ["200039865", "245701222"], ("2018-2022",))
    phase = ProgrammePhase.objects.get(code="2018-2022")
    parc = Project.objects.create(id_projet="P-4401-001", territory=nord, phase=phase, title="Parc", status="idea")
    parc.themes.set([Theme.objects.get(phase=phase, code="innover")])
    return nord


@pytest.fixture
def team(programme, client):
    client.force_login(create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0])
    return client


def page_text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").replace("&quot;", '"')


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_each_hostile_file_is_refused_by_both_commands_with_its_message(programme, case):
    before = database_digest()
    for command in ("import_projects", "import_territories"):
        code, stdout, stderr = run_command(command, CORPUS_DIR / case.name, "--report", "json")
        report = json.loads(stdout)
        assert code == 1, (command, stdout, stderr)
        assert report["ok"] is False and "Traceback" not in stderr
        assert re.search(case.message, report["errors"][0]["message"]), (command, report)
        code, stdout, _ = run_command(command, CORPUS_DIR / case.name)
        assert code == 1 and "Import refusé" in stdout and re.search(case.message, stdout)
    assert database_digest() == before


WEB_CASES = [case for case in CORPUS if case.name != "enorme.csv"]  # 100 Mo: see the streamed test below


@pytest.mark.parametrize("case", WEB_CASES, ids=[case.name for case in WEB_CASES])
def test_each_hostile_file_is_refused_by_the_web_upload_with_its_message(team, case):
    before = database_digest(WEB_EXCLUDED)
    upload = SimpleUploadedFile(case.name, (CORPUS_DIR / case.name).read_bytes())
    response = team.post(URL, {"file": upload})
    assert response.status_code in (200, 400, 413)
    text = page_text(response)
    if case.name in ("vide.csv",):  # refused by the form itself, before the file is read
        assert "Le fichier soumis est vide" in text or "Le fichier est vide" in text
    else:
        assert re.search(case.message, text), text[-3000:]
    assert "Confirmer l'import" not in text
    assert database_digest(WEB_EXCLUDED) == before


class CountingStream:
    """A request body of `size` bytes made on demand, counting what the server reads of it."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.read_bytes = head, size, 0

    def read(self, count: int = -1) -> bytes:
        left = self.size - self.read_bytes
        count = left if count is None or count < 0 else min(count, left)
        start = self.read_bytes
        self.read_bytes += count
        return (self.head[start : start + count]).ljust(count, b"x")

    def readline(self, *args) -> bytes:
        return self.read(*args)


def test_a_100_mo_upload_is_refused_before_anything_reads_it(programme, settings):
    client = Client(enforce_csrf_checks=True)  # as a browser: the CSRF check would parse the body first
    client.force_login(create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0])
    before = database_digest(WEB_EXCLUDED)
    size = 100 * 1024 * 1024
    head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="projets.csv"\r\n\r\n'
    body = CountingStream(head, size)
    response = client.generic(
        "POST",
        URL,
        b"",
        content_type="multipart/form-data; boundary=B",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413
    assert "L'envoi pèse 100 Mo : la taille maximale est de 41 Mo. Rien n'a été lu ni enregistré." in page_text(
        response
    )
    assert body.read_bytes == 0
    assert database_digest(WEB_EXCLUDED) == before
    api = client.generic("POST", "/api/v1/projects", b"", CONTENT_LENGTH=str(size), **{"wsgi.input": body})
    assert api.status_code == 413 and api.json()["error"]["code"] == "payload_too_large"


# --- memory: each defence holds before the file is inflated or split ----------------------------------------------

MEASURE = """
import os, resource, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pilotage.settings")
import django
django.setup()
from django.core.management import call_command
import python_calamine, openpyxl, csv  # loaded before the baseline: only the file's cost is measured
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
code = 0
try:
    call_command(sys.argv[1], sys.argv[2], "--report", "json")
except SystemExit as stop:
    code = stop.code
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("\\nMEASURE", code, (peak - base) // 1024, file=sys.stderr)
"""
MEMORY_BOUND_MB = 400


@pytest.mark.parametrize(
    "name", ["bombe.xlsx", "bombe-compacte.xlsx", "cellule-lointaine.xlsx", "repetitions.ods", "colonnes-50mo.csv"]
)
def test_peak_memory_stays_bounded(tmp_path, name):
    path = CORPUS_DIR / name
    if name == "colonnes-50mo.csv":  # a 48 Mo line of separators: 50 million cells once split
        path = tmp_path / name
        path.write_bytes(b"id_projet;id_ti\r\n" + b";" * (48 * 1024 * 1024) + b"\r\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'vide.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "import_projects", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    code, growth = re.search(r"MEASURE (\d+) (\d+)", done.stderr).groups()
    assert int(code) == 1 and '"ok": false' in done.stdout, done.stderr[-2000:]
    assert int(growth) < MEMORY_BOUND_MB, f"{name}: {growth} Mo"


# --- formulas -------------------------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://exemple.invalid","cliquez")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd", "-2+3"]


def test_formulas_are_kept_as_inert_text_and_neutralised_again_on_export(programme, tmp_path):
    rows = [HEADER] + [
        [f"P-4401-9{index:02}", "ti-4401", "", text, "innover", "idea", ""] for index, text in enumerate(FORMULAS)
    ]
    path = tmp_path / "formules.csv"
    path.write_text("\r\n".join(";".join(f'"{c}"' if ";" in c else c for c in row) for row in rows), "utf-8")
    report = services.import_projects(path)
    assert report.ok, report.errors
    titles = set(Project.objects.filter(id_projet__startswith="P-4401-9").values_list("title", flat=True))
    assert titles == set(FORMULAS)  # stored as typed: nothing ever evaluates them
    export(
        "projects", "csv", tmp_path / "export.csv", territories=Territory.objects.all(), projects=Project.objects.all()
    )
    exported = (tmp_path / "export.csv").read_text("utf-8-sig")
    for text in FORMULAS:
        assert f"'{text}" in exported.replace('""', '"')  # a spreadsheet opening the export shows text
    again = services.import_projects(tmp_path / "export.csv", dry_run=True)
    assert again.ok and again.created == 0 and again.updated == 0  # the apostrophe is removed on the way back


# --- generated malformed rows ----------------------------------------------------------------------------------------

PROJECT_COLUMNS = ["id_projet", "id_ti", "titre", "themes", "statut", "porteur_siren", "date_debut", "date_fin",
                   "cout_total", "public"]  # fmt: skip
printable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
dates = st.one_of(
    st.tuples(st.dates(), st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y", "%Y%m%d"])).map(
        lambda pair: pair[0].strftime(pair[1])
    ),
    st.from_regex(r"\A\d{1,5}[-/.]\d{1,3}[-/.]\d{1,5}\Z"),
    printable,
)
amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.from_regex(r"\A[-+]?[\d .,\u202f]{0,18}(€| EUR)?\Z"),
    printable,
)
cells = {
    "id_projet": st.one_of(st.just("P-4401-001"), st.from_regex(r"\AP-4401-\d{3}\Z"), printable),
    "id_ti": st.one_of(st.sampled_from(["ti-4401", "TI-4401", "ti-9901", "ti-44"]), printable),
    "titre": st.one_of(st.text(max_size=300), st.sampled_from(FORMULAS)),
    "themes": st.one_of(st.sampled_from(["innover", "innover;attirer", "recruter", ";;"]), printable),
    "statut": st.one_of(st.sampled_from(["idea", "En maturation", "abandoned"]), printable),
    "porteur_siren": st.one_of(st.sampled_from(["732829320", "732829321", ""]), st.from_regex(r"\A\d{0,12}\Z")),
    "date_debut": dates,
    "date_fin": dates,
    "cout_total": amounts,
    "public": st.one_of(st.sampled_from(["oui", "non", "vrai", "2"]), printable),
}
row_strategy = st.fixed_dictionaries(cells)


@st.composite
def csv_files(draw) -> bytes:
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    rows = draw(st.lists(row_strategy, min_size=0, max_size=6))
    lines = [delimiter.join(PROJECT_COLUMNS)]
    for row in rows:
        lines.append(delimiter.join('"' + str(row[c]).replace('"', '""') + '"' for c in PROJECT_COLUMNS))
    text = draw(st.sampled_from(["\r\n", "\n", "\r"])).join(lines)
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # and sometimes raw damage: bytes cut, inserted or flipped
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(max_size=20)) + data[position + draw(st.integers(0, 10)) :]
    return data


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=csv_files())
def test_generated_malformed_csv_files_are_all_or_nothing(programme, tmp_path_factory, data):
    EXAMPLES["csv"] += 1
    path = tmp_path_factory.mktemp("gen") / "projets.csv"
    path.write_bytes(data)
    with transaction.atomic():
        before = table_counts()
        report = services.import_projects(path)  # never raises: every defect is in the report
        if report.ok:
            assert table_counts()["projects.Project"] == before["projects.Project"] + report.created
        else:
            assert report.errors and all(error.message for error in report.errors)
            assert table_counts() == before
        transaction.set_rollback(True)


@given(
    data=st.one_of(st.binary(max_size=4000), st.binary(max_size=4000).map(b"PK\x03\x04".__add__)),
    name=st.sampled_from(["f.csv", "f.xlsx", "f.ods", "f.xls"]),
)
def test_generated_bytes_only_ever_raise_read_error(tmp_path_factory, data, name):
    from pilotage.projects.importer import read_tables

    EXAMPLES["bytes"] += 1
    path = tmp_path_factory.mktemp("bytes") / name
    path.write_bytes(data)
    try:
        read_tables(path)
    except ReadError as error:
        assert error.message
