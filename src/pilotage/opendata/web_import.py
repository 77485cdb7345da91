"""Importing a projects file from the web (`/espace/import/`): upload, preview, then confirm.

The preview checks the whole file as the acting user (their scope decides: a row outside it is an error) and shows
what would be created and updated, field by field, and every rejected row; nothing is written. The file waits in
the spool directory under a random name; the session holds it under a random key, sent back in a signed token by
the "Confirmer l'import" button. Confirming checks the file again (the database may have changed meanwhile) and
writes it all or nothing through `projects.services.import_projects`, the same use case as the command line.

Checking and confirming a large file take seconds: both run as a background job (`jobs.py`, an `ImportJob`) and the
browser is sent to a progress page that polls the job's state, then shows the preview or the result. A small file
(up to `PILOTAGE_IMPORT_INLINE_MAX_BYTES`, default 100 KB) is handled within the request, as quick as a page.

The spool directory (`PILOTAGE_IMPORT_SPOOL_DIR`, default `MEDIA_ROOT/imports-en-attente`) must be shared by the app
servers, like uploaded documents: the confirmation may reach another server than the upload.
"""

from __future__ import annotations

import io
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from dsfr.forms import DsfrBaseForm

from pilotage.accounts.scopes import project_creation
from pilotage.core.progress import Progress, grouped, silent
from pilotage.core.uploads import human_size
from pilotage.opendata.readers import CSV_EXTENSIONS, SPREADSHEET_EXTENSIONS, ReadError
from pilotage.opendata.report import ImportReport, RowError
from pilotage.opendata.schema import FUNDING, PROJECTS, Resource
from pilotage.programme.models import Territory, Theme
from pilotage.programme.timeline import EMPTY, Values
from pilotage.projects import services
from pilotage.projects.importer import KEEP, check_tables, read_tables
from pilotage.projects.models import Project
from pilotage.projects.queries import projects_editable_by
from pilotage.projects.templatetags.projects_tags import euros

from . import jobs
from .models import ImportJob

SESSION_KEY = "pilotage_pending_imports"
TOKEN_SALT = "pilotage.opendata.web-import"
# A preview is confirmed within this delay, or sent again.
PENDING_SECONDS = 2 * 3600
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Files up to this size are checked and written within the request; larger ones in a background job.
DEFAULT_INLINE_MAX_BYTES = 100 * 1024
# Beyond this, the lists of the preview are cut (the counts stay exact; every error is always listed).
LISTED_PROJECTS = 300
EXTENSIONS = (*SPREADSHEET_EXTENSIONS, *CSV_EXTENSIONS)


def max_import_bytes() -> int:
    return int(getattr(settings, "PILOTAGE_WEB_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def inline_max_bytes() -> int:
    return int(getattr(settings, "PILOTAGE_IMPORT_INLINE_MAX_BYTES", DEFAULT_INLINE_MAX_BYTES))


def spool_dir() -> Path:
    configured = getattr(settings, "PILOTAGE_IMPORT_SPOOL_DIR", None)
    directory = Path(configured) if configured else Path(settings.MEDIA_ROOT) / "imports-en-attente"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# --- the upload form --------------------------------------------------------------------------------------------


def _check_upload(upload, *, csv_only: bool = False) -> None:
    extension = Path(upload.name or "").suffix.lower()
    allowed = CSV_EXTENSIONS if csv_only else EXTENSIONS
    if extension not in allowed:
        raise forms.ValidationError(
            _("Format non pris en charge (« %(extension)s ») : envoyez un fichier %(formats)s.")
            % {"extension": extension or upload.name, "formats": ", ".join(allowed)}
        )
    limit = max_import_bytes()
    if upload.size > limit:
        raise forms.ValidationError(
            _("Le fichier pèse %(size)s : la taille maximale est de %(limit)s.")
            % {"size": human_size(upload.size), "limit": human_size(limit)}
        )
    if not upload.size:
        raise forms.ValidationError(_("Le fichier est vide."))


class UploadInput(forms.FileInput):
    """The DSFR upload input; the file picker proposes the formats read (checked again on the server)."""

    def __init__(self, accept: tuple[str, ...]):
        super().__init__({"class": "fr-upload", "accept": ",".join(accept)})
        self.group_class = "fr-upload-group"


class ImportForm(DsfrBaseForm):
    file = forms.FileField(
        label=gettext_lazy("Fichier des projets"),
        help_text=gettext_lazy(
            "Classeur .xlsx ou .ods (feuille « projets », et feuille « financements » facultative) ou fichier .csv "
            "(UTF-8 ou Windows-1252, séparé par « ; » ou « , »). Une ligne par projet ; un id_projet existant est "
            "mis à jour, jamais dupliqué."
        ),
        widget=UploadInput(EXTENSIONS),
    )
    funding_file = forms.FileField(
        label=gettext_lazy("Fichier des financements (facultatif, pour un import CSV)"),
        required=False,
        help_text=gettext_lazy(
            "Pour un classeur, les financements sont dans sa feuille « financements ». Pour un fichier CSV, joignez "
            "ici un second fichier .csv : id_projet, financeur, dispositif, montant_demande, montant_accorde, "
            "date_decision."
        ),
        widget=UploadInput(CSV_EXTENSIONS),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_upload(upload)
        return upload

    def clean_funding_file(self):
        upload = self.cleaned_data.get("funding_file")
        if upload:
            _check_upload(upload, csv_only=True)
        return upload

    def clean(self):
        data = super().clean()
        upload, funding = data.get("file"), data.get("funding_file")
        if upload and funding and Path(upload.name).suffix.lower() not in CSV_EXTENSIONS:
            self.add_error(
                "funding_file",
                _(
                    "Un classeur porte ses financements dans sa feuille « financements » : ne joignez pas de second "
                    "fichier."
                ),
            )
        return data


# --- pending files ------------------------------------------------------------------------------------------------


@dataclass
class Pending:
    """An uploaded file waiting for its confirmation (and, for a CSV, its funding file)."""

    key: str
    stored: str
    filename: str
    funding_stored: str = ""
    funding_filename: str = ""
    uploaded_at: float = 0.0

    @property
    def path(self) -> Path:
        return spool_dir() / self.stored

    @property
    def funding_path(self) -> Path | None:
        return spool_dir() / self.funding_stored if self.funding_stored else None

    def token(self) -> str:
        return signing.dumps(self.key, salt=TOKEN_SALT)

    def delete(self) -> None:
        for stored in (self.stored, self.funding_stored):
            if stored:
                (spool_dir() / stored).unlink(missing_ok=True)


def _store(upload, key: str, suffix: str) -> str:
    name = f"{key}{suffix}{Path(upload.name).suffix.lower()}"
    with open(spool_dir() / name, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return name


def store_upload(request: HttpRequest, upload, funding_upload=None) -> Pending:
    key = secrets.token_urlsafe(24)
    pending = Pending(key, _store(upload, key, ""), Path(upload.name).name[:200], uploaded_at=time.time())
    if funding_upload:
        pending.funding_stored = _store(funding_upload, key, "-financements")
        pending.funding_filename = Path(funding_upload.name).name[:200]
    fresh_after = time.time() - PENDING_SECONDS
    sessions = {k: v for k, v in request.session.get(SESSION_KEY, {}).items() if v["uploaded_at"] > fresh_after}
    sessions[key] = pending.__dict__
    request.session[SESSION_KEY] = sessions
    return pending


def pending_of(request: HttpRequest, token: str) -> Pending | None:
    """The file a confirmation token names, if it is this session's and not expired."""
    try:
        key = signing.loads(token, salt=TOKEN_SALT, max_age=PENDING_SECONDS)
    except signing.BadSignature:
        return None
    data = request.session.get(SESSION_KEY, {}).get(key)
    if not data:
        return None
    pending = Pending(**data)
    return pending if pending.path.exists() else None


def forget(request: HttpRequest, pending: Pending) -> None:
    pending.delete()
    unlist(request, pending)


def unlist(request: HttpRequest, pending: Pending) -> None:
    """The file can no longer be confirmed from this session (its file stays, for the job writing it)."""
    sessions = request.session.get(SESSION_KEY, {})
    sessions.pop(pending.key, None)
    request.session[SESSION_KEY] = sessions


def sweep_spool(max_age: int = PENDING_SECONDS) -> None:
    """Files of previews never confirmed nor sent again are removed after their delay."""
    limit = time.time() - max_age
    for item in spool_dir().iterdir():
        try:
            if item.is_file() and item.stat().st_mtime < limit:
                item.unlink(missing_ok=True)
        except OSError:  # removed by another server meanwhile
            continue


# --- the preview ----------------------------------------------------------------------------------------------


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class PreviewProject:
    id_projet: str
    title: str
    territory: str
    status: str
    changes: list[FieldChange] = field(default_factory=list)
    funding: list[str] = field(default_factory=list)


@dataclass
class Preview:
    report: ImportReport
    created: list[PreviewProject] = field(default_factory=list)
    updated: list[PreviewProject] = field(default_factory=list)

    @property
    def more_created(self) -> int:
        return max(self.report.created - len(self.created), 0)

    @property
    def more_updated(self) -> int:
        return max(self.report.updated - len(self.updated), 0)


# The fields of the history snapshot, in the order a reader scans a project.
PREVIEW_FIELDS = (
    "title",
    "territory",
    "phase",
    "themes",
    "status",
    "abandon_reason",
    "description",
    "owner",
    "commune",
    "reported_on",
    "start_on",
    "end_on",
    "total_cost",
    "public",
)


def preview_import(pending: Pending, user, progress: Progress = silent) -> Preview:
    """What confirming would do, as `import_projects(..., dry_run=True)` counts it, with the projects listed.

    The same steps as the service (read, check as `user`, plan), so that the counts are the service's own.
    """
    report = ImportReport(dry_run=True)
    progress(_("Lecture du fichier…"))
    try:
        tables = read_tables(
            pending.path,
            filename=pending.filename,
            funding_source=pending.funding_path,
            funding_filename=pending.funding_filename or None,
        )
    except ReadError as error:
        report.errors.extend(error.as_errors())
        return Preview(report)
    report.rows = len(tables.projects.rows)
    progress(_("%(count)s lignes lues, vérification…") % {"count": report.rows})
    checked = check_tables(tables, user=user, progress=progress)
    report.errors.extend(checked.errors)
    if not report.ok:
        return Preview(report)
    progress(_("Préparation de l'aperçu…"))
    changes = services.plan_changes(checked, "")
    for change in changes:
        report.count(created=change.created, changed=change.changed)
    created = [c for c in changes if c.created][:LISTED_PROJECTS]
    updated = [c for c in changes if not c.created and c.changed][:LISTED_PROJECTS]
    return Preview(report, describe(created), describe(updated))


class PreviewValues(Values):
    """Snapshot values as the timelines show them, with themes by label and owners the file names."""

    def __init__(self, states: list[dict], themes: dict[str, str]):
        super().__init__(Project, states)
        self.themes = themes

    def show(self, name: str, value: Any) -> str:
        if name == "themes":
            return ", ".join(self.themes.get(str(pk), str(pk)) for pk in value or []) or EMPTY
        if name == "total_cost" and value not in (None, ""):
            return euros(value)
        return super().show(name, value)


def describe(changes: list) -> list[PreviewProject]:
    """Each planned change as a reader checks it: the project, then each changed field, before → after."""
    afters = [after_state(change) for change in changes]
    states = [*afters, *(change.before or {} for change in changes)]
    theme_ids = {pk for state in states for pk in state.get("themes", [])}
    values = PreviewValues(states, {str(t.pk): t.label for t in Theme.objects.filter(pk__in=theme_ids)})
    codes = Territory.objects.filter(pk__in={c.project.territory_id for c in changes}).values_list("pk", "code")
    territories = dict(codes)
    rows = []
    for change, after in zip(changes, afters, strict=True):
        project = change.project
        row = PreviewProject(
            project.id_projet,
            project.title,
            territories.get(project.territory_id, ""),
            capfirst(project.get_status_display()),
        )
        if not change.created and change.project_changed:
            row.changes = field_changes(change, after, values)
        row.funding = [funding_text(f) for f in change.funding]
        rows.append(row)
    return rows


def after_state(change) -> dict:
    after = services.project_state(change.project, change.theme_ids)
    if change.owner is not KEEP:  # the owner is set when written (a new organisation has no key yet)
        after["owner"] = change.owner.pk
    return after


def field_changes(change, after: dict, values: PreviewValues) -> list[FieldChange]:
    before = change.before or {}
    rows = []
    for name in PREVIEW_FIELDS:
        old, new = values.show(name, before.get(name)), values.show(name, after.get(name))
        if name == "owner" and change.owner is not KEEP and change.owner.pk is None:
            new = _("%(name)s (nouvelle organisation)") % {"name": change.owner.name}
        elif before.get(name) == after.get(name):
            continue
        rows.append(FieldChange(label_of(name, values), old, new))
    return rows


def label_of(name: str, values: Values) -> str:
    return _("Porteur") if name == "owner" else _("Commune") if name == "commune" else values.label(name)


def funding_text(funding) -> str:
    line = funding.line
    what = f"{funding.funder.name} — {line.instrument}" if line.instrument else funding.funder.name
    if funding.before is None:
        return _("financement ajouté : %(line)s") % {"line": what}
    return _("financement modifié : %(line)s") % {"line": what}


# --- background jobs ---------------------------------------------------------------------------------------------


def report_data(report: ImportReport) -> dict[str, Any]:
    return {**report.to_dict(), "dry_run": report.dry_run}


def report_of(data: dict[str, Any]) -> ImportReport:
    counts = {name: data[name] for name in ("rows", "created", "updated", "unchanged")}
    errors = [RowError(**error) for error in data["errors"]]
    return ImportReport(**counts, errors=errors, dry_run=data.get("dry_run", False))


def preview_data(preview: Preview) -> dict[str, Any]:
    return {
        "report": report_data(preview.report),
        "created": [asdict(row) for row in preview.created],
        "updated": [asdict(row) for row in preview.updated],
    }


def preview_of(data: dict[str, Any]) -> Preview:
    def project(row: dict) -> PreviewProject:
        return PreviewProject(**{**row, "changes": [FieldChange(**change) for change in row["changes"]]})

    return Preview(
        report_of(data["report"]), [project(row) for row in data["created"]], [project(row) for row in data["updated"]]
    )


def check_file(job: ImportJob, progress: Progress) -> dict[str, Any]:
    """The preview step, as a job's work."""
    return preview_data(preview_import(Pending(**job.pending), job.user, progress))


def write_file(job: ImportJob, progress: Progress) -> dict[str, Any]:
    """The confirmation step, as a job's work: the file is checked again and written, all or nothing."""
    pending = Pending(**job.pending)
    try:
        report = services.import_projects(
            pending.path,
            filename=pending.filename,
            funding_source=pending.funding_path,
            funding_filename=pending.funding_filename or None,
            user=job.user,
            progress=progress,
        )
    finally:
        pending.delete()
    return {"report": report_data(report)}


def run_job(request: HttpRequest, kind: str, pending: Pending, work: jobs.Work) -> HttpResponse:
    """Run the step: a small file at once, its outcome shown (nothing recorded); a large one as a background job,
    the browser sent to its progress page."""
    job = ImportJob(user=request.user, kind=kind, filename=pending.filename, pending=pending.__dict__)
    size = sum(path.stat().st_size for path in (pending.path, pending.funding_path) if path and path.exists())
    if size <= inline_max_bytes():
        job.result, job.status = work(job, silent), ImportJob.Status.DONE
        return job_outcome(request, job)
    jobs.sweep()
    job.save()
    jobs.start(job, work)
    return redirect("project_import:job", job.pk)


def job_outcome(request: HttpRequest, job: ImportJob) -> HttpResponse:
    """A finished job: the preview, the confirmation's result, or why it failed."""
    if job.status == ImportJob.Status.FAILED:
        if job.pending:
            forget(request, Pending(**job.pending))  # the file is sent again
        return progress_page(request, job)
    pending = Pending(**job.pending)
    if job.kind == ImportJob.Kind.PREVIEW:
        preview = preview_of(job.result)
        if not preview.report.ok:
            forget(request, pending)  # nothing to confirm: the corrected file is sent again
        return preview_page(request, pending, preview)
    report = report_of(job.result["report"])
    if not report.ok:
        # The database changed since the preview (or the user's scope did): nothing was written.
        return preview_page(request, pending, Preview(report), status=409, rechecked=True)
    messages.success(
        request,
        _(
            "Import de %(name)s terminé : %(created)s projets créés, %(updated)s mis à jour, %(unchanged)s sans "
            "changement."
        )
        % {
            "name": pending.filename,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
    )
    return redirect("project_import:upload")


def counts_text(job: ImportJob) -> str:
    if not job.total:
        return ""
    return _("%(done)s lignes sur %(total)s (%(percent)s %%)") % {
        "done": grouped(job.done),
        "total": grouped(job.total),
        "percent": job.percent,
    }


def progress_page(request: HttpRequest, job: ImportJob) -> HttpResponse:
    checking = job.kind == ImportJob.Kind.PREVIEW
    return page(
        request,
        "opendata/import_job.html",
        {
            "title": _("Vérification du fichier") if checking else _("Enregistrement de l'import"),
            "job": job,
            "counts": counts_text(job),
            "waiting": _("Lecture et vérification du fichier…") if checking else _("Enregistrement des projets…"),
        },
    )


@login_required
@never_cache
@require_GET
def job_page(request: HttpRequest, job_id) -> HttpResponse:
    job = jobs.state(get_object_or_404(ImportJob, pk=job_id, user=request.user))
    if job.finished:
        return job_outcome(request, job)
    return progress_page(request, job)


@login_required
@never_cache
@require_GET
def job_state(request: HttpRequest, job_id) -> JsonResponse:
    """What the progress page polls every second."""
    job = jobs.state(get_object_or_404(ImportJob, pk=job_id, user=request.user))
    return JsonResponse({**jobs.as_json(job), "counts": counts_text(job)})


# --- pages --------------------------------------------------------------------------------------------------------


def may_import(user) -> bool:
    """Whoever may create or change projects somewhere; others would only get errors."""
    return Territory.objects.filter(project_creation(user)).exists() or projects_editable_by(user).exists()


def columns_of(resource: Resource) -> list[dict[str, Any]]:
    return [
        {
            "name": column.name,
            # The schema keeps French (it is published); its texts are marked with gettext_noop for the screen.
            "title": _(column.title),
            "description": _(column.description) if column.description else "",
            "required": column.required,
            "example": column.example,
        }
        for column in resource.columns
    ]


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("title", _("Importer un fichier de projets"))
    crumbs = [
        (_("Mon espace"), reverse("workspace")),
        (_("Importer un fichier de projets"), reverse("project_import:upload")),
    ]
    if template != "opendata/import.html":
        crumbs.append((context["title"], None))
    else:
        crumbs[-1] = (crumbs[-1][0], None)
    context["breadcrumb"] = crumbs
    context.setdefault("max_size", human_size(max_import_bytes()))
    return render(request, template, context, status=status)


def forbidden(request: HttpRequest) -> HttpResponse:
    message = _("Vous n'avez aucun territoire ni aucun projet à modifier : l'import de projets ne vous est pas ouvert.")
    return render(
        request, "programme/manage/forbidden.html", {"title": _("Accès refusé"), "message": message}, status=403
    )


def too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > 2 * max_import_bytes() + 1024 * 1024


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    if not may_import(request.user):
        return forbidden(request)
    context: dict[str, Any] = {"projects_columns": columns_of(PROJECTS), "funding_columns": columns_of(FUNDING)}
    if request.method != "POST":
        return page(request, "opendata/import.html", {**context, "form": ImportForm()})
    if too_large(request):
        context["form_error"] = _("Le fichier envoyé dépasse la taille maximale de %(limit)s : rien n'a été lu.") % {
            "limit": human_size(max_import_bytes())
        }
        return page(request, "opendata/import.html", {**context, "form": ImportForm()}, status=413)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return page(request, "opendata/import.html", {**context, "form": form})
    sweep_spool()
    pending = store_upload(request, form.cleaned_data["file"], form.cleaned_data.get("funding_file"))
    return run_job(request, ImportJob.Kind.PREVIEW, pending, check_file)


def preview_page(
    request: HttpRequest, pending: Pending, preview: Preview, *, status: int = 200, rechecked: bool = False
) -> HttpResponse:
    report = preview.report
    return page(
        request,
        "opendata/import_preview.html",
        {
            "title": _("Aperçu de l'import : %(name)s") % {"name": pending.filename},
            "filename": pending.filename,
            "funding_filename": pending.funding_filename,
            "preview": preview,
            "report": report,
            "errors": report.sorted_errors(),
            "token": pending.token() if report.ok and (report.created or report.updated) else "",
            "nothing_to_do": report.ok and not (report.created or report.updated),
            "rechecked": rechecked,
        },
        status=status,
    )


@login_required
@require_POST
def confirm(request: HttpRequest) -> HttpResponse:
    pending = pending_of(request, request.POST.get("token", ""))
    if pending is None:
        messages.error(
            request,
            _(
                "Cet aperçu a expiré ou son import a déjà été fait : envoyez de nouveau le fichier. Rien n'a été "
                "enregistré."
            ),
        )
        return redirect("project_import:upload")
    unlist(request, pending)  # confirmed once: a second click finds it gone, and writes nothing twice
    return run_job(request, ImportJob.Kind.CONFIRM, pending, write_file)


@login_required
def template_file(request: HttpRequest) -> HttpResponse:
    """An empty workbook to fill: the `projets` and `financements` sheets with their headers, and the columns' help."""
    response = HttpResponse(
        template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="modele-import-projets.xlsx"'
    return response


def template_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="E3E3FD")
    for resource in (PROJECTS, FUNDING):
        sheet = workbook.create_sheet(resource.name)
        sheet.append(resource.names)
        for index, column in enumerate(resource.columns, start=1):
            cell = sheet.cell(row=1, column=index)
            cell.font = bold
            if column.required:
                cell.fill = required_fill
            sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.name) + 4)
        sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet(_("aide"))
    help_sheet.append([_("feuille"), _("colonne"), _("intitulé"), _("obligatoire"), _("description"), _("exemple")])
    for cell in help_sheet[1]:
        cell.font = bold
    for resource in (PROJECTS, FUNDING):
        for column in resource.columns:
            required = _("oui") if column.required else _("non")
            help_sheet.append([resource.name, column.name, column.title, required, column.description, column.example])
    for letter, width in zip("ABCDEF", (14, 18, 26, 12, 80, 30), strict=True):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


app_name = "project_import"
urlpatterns = [
    path("", upload, name="upload"),
    path("confirmer/", confirm, name="confirm"),
    path("operations/<uuid:job_id>/", job_page, name="job"),
    path("operations/<uuid:job_id>/etat/", job_state, name="job_state"),
    path("modele-import-projets.xlsx", template_file, name="template"),
]
