"""Long steps of the web import run in the background while a page shows their progress.

A job is an `ImportJob` row; its work runs in a thread the request starts (once its transaction commits), in the
same process: this works under runserver and gunicorn alike, without a task queue. The work gets a `Progress`
callback; what it says is kept in memory and written to the job's row every second by a second thread (with its own
database connection: the work's transaction must not carry it), along with a heartbeat. The page's JSON endpoint
reads the memory when the job runs in this process, else the row (another gunicorn worker).

Limits: a job lives as long as its process. If the server restarts or the worker is killed mid-way, the job's
heartbeat stops; once it is older than `PILOTAGE_IMPORT_JOB_STALE_SECONDS` (default 120 s) the job is declared
interrupted (failed) the next time it is looked at. The import being all or nothing, an interrupted job wrote
nothing: the user sends the file again. With SQLite, the import's write transaction holds the database's only write
lock, so the row is only updated once it is over: the page still sees the progress through the memory of the
process (a single process is SQLite's normal setting).
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import ImportJob

logger = logging.getLogger(__name__)

Work = Callable[[ImportJob, Callable[..., None]], dict]
BEAT_SECONDS = 1.0
DEFAULT_STALE_SECONDS = 120
KEPT_DAYS = 2

_running: dict[str, JobProgress] = {}  # jobs whose work runs in this process, by id
_running_lock = threading.Lock()


def stale_seconds() -> int:
    return int(getattr(settings, "PILOTAGE_IMPORT_JOB_STALE_SECONDS", DEFAULT_STALE_SECONDS))


class JobProgress:
    """The `Progress` callback a job's work calls (see `pilotage.core.progress`): the latest state, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = self.total = 0
        self.message = ""

    def __call__(self, message: str, done: int | None = None, total: int | None = None) -> None:
        with self.lock:
            self.message = message[:300]
            # A step without counts (e.g. "Enregistrement…") starts a phase whose length is not known.
            self.done, self.total = (done, total or 0) if done is not None else (0, 0)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"done": self.done, "total": self.total, "message": self.message}


def start(job: ImportJob, work: Work) -> None:
    """Run `work(job, progress)` (it returns the job's result, a JSON-able dict) in a thread of this process, once
    the current transaction commits (the thread must see the job)."""
    thread = threading.Thread(
        target=execute,
        args=(job.pk, work, translation.get_language()),
        name=f"pilotage-import-{job.pk}",
        daemon=True,
    )
    transaction.on_commit(thread.start)


def sweep(days: int = KEPT_DAYS) -> None:
    """Jobs are kept a few days (their page may be reloaded), then removed."""
    ImportJob.objects.filter(created_at__lt=timezone.now() - datetime.timedelta(days=days)).delete()


def execute(job_id, work: Work, language: str | None) -> None:
    """The job's thread: run the work, keep the heartbeat going, record the outcome."""
    progress = JobProgress()
    key = str(job_id)
    with _running_lock:
        _running[key] = progress
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(job_id, progress, stop), daemon=True)
    update: dict[str, Any] = {}
    try:
        with translation.override(language):
            job = ImportJob.objects.select_related("user").get(pk=job_id)
            ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.RUNNING, heartbeat=timezone.now())
            beat.start()
            result = work(job, progress)
            update = {"status": ImportJob.Status.DONE, "result": result, "message": ""}
    except Exception:
        logger.exception("Import job %s failed", job_id)
        with translation.override(language):
            message = _("Une erreur inattendue a interrompu le traitement : rien n'a été enregistré.")
        update = {"status": ImportJob.Status.FAILED, "message": message}
    finally:
        stop.set()
        if beat.is_alive():
            beat.join()
        state = progress.snapshot()
        update.setdefault("status", ImportJob.Status.FAILED)
        ImportJob.objects.filter(pk=job_id).update(
            done=state["done"], total=state["total"], finished_at=timezone.now(), heartbeat=timezone.now(), **update
        )
        with _running_lock:
            _running.pop(key, None)
        connections.close_all()


def _beat(job_id, progress: JobProgress, stop: threading.Event) -> None:
    """Write the progress and a heartbeat every second, for the pages served by other processes."""
    try:
        while not stop.wait(BEAT_SECONDS):
            try:
                ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(
                    heartbeat=timezone.now(), **progress.snapshot()
                )
            except DatabaseError:  # SQLite: the import holds the write lock; the memory still has the state
                close_old_connections()
    finally:
        connections.close_all()


def state(job: ImportJob) -> ImportJob:
    """The job as it stands: its live progress when it runs here; declared interrupted when its heartbeat stopped."""
    live = _running.get(str(job.pk))
    if live is not None and not job.finished:
        for name, value in live.snapshot().items():
            setattr(job, name, value)
        job.status = ImportJob.Status.RUNNING
        return job
    if not job.finished and job.heartbeat < timezone.now() - datetime.timedelta(seconds=stale_seconds()):
        message = _(
            "Le traitement a été interrompu (redémarrage du serveur ?) : rien n'a été enregistré. Envoyez de nouveau "
            "le fichier."
        )
        ImportJob.objects.filter(pk=job.pk, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]).update(
            status=ImportJob.Status.FAILED, message=message, finished_at=timezone.now()
        )
        job.refresh_from_db()
    return job


def running_here(job: ImportJob) -> bool:
    return str(job.pk) in _running


def as_json(job: ImportJob) -> dict[str, Any]:
    return {
        "status": job.status,
        "finished": job.finished,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
    }
