"""The progress line of the long commands: live on a terminal, step messages elsewhere, nothing when quiet, and
never on stdout (which carries `--report json` alone)."""

import io
import json

from django.core.management import call_command

from pilotage.core.progress import ProgressLine, counted


def plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_one_line_is_redrawn_with_the_count_the_percentage_and_the_rate():
    stream, clock = Terminal(), Clock()
    progress = ProgressLine(stream, clock=clock)
    progress("Vérification des lignes", done=0, total=10000)
    clock.now += 2
    progress("Vérification des lignes", done=2500, total=10000)
    progress.finish()

    drawn = plain(stream.getvalue()).split("\r")
    assert "Vérification des lignes : 2 500 / 10 000 (25 %), 1 250 lignes/s" in drawn
    assert "\n" not in stream.getvalue()  # redrawn in place, never scrolled
    assert drawn[-2].strip() == "" and drawn[-1] == ""  # finished: the line is wiped before anything is printed


def test_redraws_are_limited_but_the_last_count_is_always_shown():
    stream, clock = Terminal(), Clock()
    progress = ProgressLine(stream, clock=clock)
    for done in range(0, 1001, 50):
        progress("Export des projets", done=done, total=1000)  # all within the same instant
    assert stream.getvalue().count("\r") == 2  # the first and the last (100 %)
    assert "1 000 / 1 000 (100 %)" in plain(stream.getvalue())


def test_elsewhere_only_the_steps_are_written_and_quiet_writes_nothing():
    log = io.StringIO()
    progress = ProgressLine(log)
    progress("3 000 lignes lues, vérification…")
    progress("Vérification des lignes", done=250, total=3000)
    assert log.getvalue() == "3 000 lignes lues, vérification…\n"

    quiet = io.StringIO()
    silenced = ProgressLine(Terminal(), quiet=True)
    silenced.stream = quiet
    silenced("Étape")
    silenced("Vérification des lignes", done=1, total=2)
    assert quiet.getvalue() == ""


def test_counted_tells_every_n_items_and_the_end():
    calls = []
    items = list(counted(range(7), lambda message, done=None, total=None: calls.append((done, total)), "x", every=3))
    assert items == list(range(7))
    assert calls == [(3, None), (6, None), (7, 7)]


def test_export_shows_progress_on_stderr_only_and_quiet_silences_it(db, tmp_path):
    out, err = io.StringIO(), Terminal()
    call_command("export", "projects", "--format", "csv", "-o", str(tmp_path / "p.csv"), stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert "0 projets exportés" in err.getvalue()

    err = Terminal()
    call_command("export", "projects", "-o", str(tmp_path / "p.csv"), "--quiet", stderr=err)
    assert err.getvalue() == ""


def test_import_report_json_stays_alone_on_stdout_while_a_terminal_shows_progress(geo_slice, tmp_path):
    path = tmp_path / "territoires.csv"
    path.write_text("id_ti;lib_ti;siren_groupement\nti-4401;Nord Lorraine;200039865\n", encoding="utf-8")
    out, err = io.StringIO(), Terminal()
    call_command("import_territories", str(path), "--report", "json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["created"] == 1
    assert "\r" not in out.getvalue()
