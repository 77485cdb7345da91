"""Progress of long work (imports, exports, PDF sheets): the one callback the work calls, and the line a terminal shows.

The work calls `progress(message)` at each step ("12 000 lignes lues, vérification…"), and
`progress(label, done=n, total=N)` every few hundred rows. A command gives it a `ProgressLine` (on stderr); the web
import gives it its job (`pilotage.opendata.jobs`), which the progress page polls. Both are cheap to call often.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from django.utils.formats import number_format
from django.utils.translation import gettext as _

# How often a terminal line is redrawn, at most (seconds).
REDRAW_SECONDS = 0.1
# How often the counted calls happen in the row loops: cheap enough, fine enough for a progress bar.
EVERY_ROWS = 250


class Progress(Protocol):
    def __call__(self, message: str, done: int | None = None, total: int | None = None) -> None: ...


def silent(message: str, done: int | None = None, total: int | None = None) -> None:
    """Progress nobody watches."""


def grouped(value: int) -> str:
    return number_format(value, force_grouping=True)


def counted_text(label: str, done: int, total: int | None, rate: float | None) -> str:
    """`Vérification : 2 500 / 10 000 (25 %), 1 800 lignes/s`."""
    text = f"{label} : {grouped(done)}"
    if total:
        text += f" / {grouped(total)} ({min(100, done * 100 // total)} %)"
    if rate:
        text += ", " + _("%(rate)s lignes/s") % {"rate": grouped(round(rate))}
    return text


class ProgressLine:
    """Progress written to a stream (stderr): on a terminal, one line redrawn in place with the rows done, the total,
    the percentage and the rate; elsewhere (a file, a pipe, a cron log) only the step messages, one per line, never
    the counters; nothing at all when `quiet`. Call `finish()` before printing a result on the same terminal."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Django wraps a command's stderr in an OutputWrapper, which ends every write with a newline: write below it.
        self.stream = getattr(stream, "_out", stream) if stream is not None else sys.stderr
        self.live = is_terminal(self.stream) if live is None else live
        self.quiet = quiet
        self.clock = clock
        self.drawn = 0  # width of the line on screen, 0 when none
        self.last_draw = 0.0
        self.phase: tuple[str, float, int] | None = None  # label, started at, rows done then

    def __call__(self, message: str, done: int | None = None, total: int | None = None) -> None:
        if self.quiet:
            return
        if done is None:
            self.clear()
            self.stream.write(message + "\n")
            self.stream.flush()
            self.phase = None
            return
        if not self.live:
            return
        now = self.clock()
        if self.phase is None or self.phase[0] != message:
            self.phase = (message, now, done)
        finished = total is not None and done >= total
        if now - self.last_draw < REDRAW_SECONDS and not finished:
            return
        label, started, first = self.phase
        rate = (done - first) / (now - started) if now - started >= 0.5 else None
        self.draw(counted_text(label, done, total, rate))
        self.last_draw = now

    def draw(self, text: str) -> None:
        padding = " " * max(0, self.drawn - len(text))
        self.stream.write("\r" + text + padding)
        self.stream.flush()
        self.drawn = len(text)

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0

    def finish(self) -> None:
        self.clear()


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def counted(items, progress: Progress | None, label: str, total: int | None = None, every: int = EVERY_ROWS):
    """The items, telling `progress` how many were handed out every `every` items, and at the end."""
    if progress is None:
        yield from items
        return
    done = 0
    for done, item in enumerate(items, start=1):
        yield item
        if done % every == 0:
            progress(label, done=done, total=total)
    progress(label, done=done, total=total if total is not None else done)


def add_quiet_argument(parser) -> None:
    """`--quiet` for a command that shows its progress."""
    parser.add_argument("--quiet", action="store_true", help="n'affiche pas la progression (sur stderr)")


def progress_line(command, options: dict) -> ProgressLine:
    """The progress of a management command on its stderr, silenced by `--quiet` or `-v 0`."""
    quiet = options.get("quiet", False) or options.get("verbosity", 1) < 1
    return ProgressLine(command.stderr, quiet=quiet)
