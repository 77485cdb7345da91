"""Uploaded documents: PDF only, checked by their content, limited in size, stored under a random name.

A file is a PDF when its first bytes are the PDF signature `%PDF-`, whatever its name or the content type the
browser announced (both are chosen by the sender). The size limit is `PILOTAGE_UPLOAD_MAX_BYTES` (default 10 Mo).
The stored name is random so that it says nothing about the record and cannot be guessed; documents are served
by views that check the reader's scope, never by a public URL (see `programme/manage_views.py`).

`RequestSizeLimitMiddleware` refuses (413) a request whose announced body is larger than any form of the site
accepts, before anything reads it: without it, the CSRF check would parse a 100 Mo upload (to a temporary file)
before the view could refuse it.
"""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _

PDF_SIGNATURE = b"%PDF-"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The web import's default (`PILOTAGE_WEB_IMPORT_MAX_BYTES`, opendata/web_import.py), for each of its two files.
DEFAULT_IMPORT_MAX_BYTES = 20 * 1024 * 1024
# What a multipart form adds around its files (boundaries, headers, the other fields).
FORM_OVERHEAD_BYTES = 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "PILOTAGE_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    """A size as French readers write it: "850 octets", "12 ko", "2,5 Mo", "10 Mo"."""
    if size < 1024:
        return _("%(size)s octets") % {"size": size}
    if size < 1024 * 1024:
        return _("%(size)s ko") % {"size": round(size / 1024)}
    value = round(size / (1024 * 1024), 1)
    decimals = 0 if value == int(value) else 1
    return _("%(size)s Mo") % {"size": number_format(value, decimals)}


def check_pdf(upload: UploadedFile) -> None:
    """Raise a ValidationError (in French) unless the upload is a non-empty PDF within the size limit."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("Le fichier pèse %(size)s : la taille maximale est de %(limit)s.")
            % {"size": human_size(upload.size), "limit": human_size(limit)},
            code="file_too_big",
        )
    if not upload.size:
        raise ValidationError(_("Le fichier est vide."), code="empty_file")
    upload.seek(0)
    head = upload.read(len(PDF_SIGNATURE))
    upload.seek(0)
    if head != PDF_SIGNATURE:
        raise ValidationError(
            _("Ce fichier n'est pas un document PDF. Enregistrez-le au format PDF puis joignez-le de nouveau."),
            code="not_pdf",
        )


def random_pdf_name() -> str:
    return f"{uuid.uuid4().hex}.pdf"


def store_pdf(field_file: FieldFile, upload: UploadedFile) -> None:
    """Save a checked upload in the field's directory under a random name (the record is saved by the caller).

    A replaced document is kept on disk: the history still names it.
    """
    field_file.save(random_pdf_name(), upload, save=False)


class PdfFileInput(forms.FileInput):
    """The DSFR upload input, restricted to PDF in the browser's file picker (checked again on the server)."""

    def __init__(self, attrs: dict | None = None):
        super().__init__({"class": "fr-upload", "accept": "application/pdf,.pdf", **(attrs or {})})
        self.group_class = "fr-upload-group"


def _pdf_help_text() -> str:
    return _("Format PDF uniquement, %(limit)s au maximum.") % {"limit": human_size(max_upload_bytes())}


# Lazy: the limit is a setting, read when the form is shown rather than when the module is imported.
pdf_help_text = lazy(_pdf_help_text, str)


class PdfField(forms.FileField):
    """A form field for a PDF document, with the rule in its help text."""

    widget = PdfFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", pdf_help_text())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if isinstance(upload, UploadedFile):
            check_pdf(upload)
        return upload


def max_request_bytes() -> int:
    """The largest request body the site reads: `PILOTAGE_MAX_REQUEST_BYTES`, else room for the largest form (two
    import files, or a PDF document) and its overhead."""
    configured = getattr(settings, "PILOTAGE_MAX_REQUEST_BYTES", None)
    if configured:
        return int(configured)
    imports = 2 * int(getattr(settings, "PILOTAGE_WEB_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES))
    return max(imports, max_upload_bytes()) + FORM_OVERHEAD_BYTES


class RequestSizeLimitMiddleware:
    """Answer 413 to a request announcing a body over `max_request_bytes()`, without reading it.

    Its `__call__` runs before any view and before the CSRF check (a `process_view` hook), so it may stand anywhere
    in MIDDLEWARE after the authentication (the page shows the user's menu). The API gets its pinned JSON error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_request_bytes()
        if length <= limit:
            return self.get_response(request)
        message = _("L'envoi pèse %(size)s : la taille maximale est de %(limit)s. Rien n'a été lu ni enregistré.") % {
            "size": human_size(length),
            "limit": human_size(limit),
        }
        if request.path.startswith("/api/"):
            from .errors import error_body

            return JsonResponse(error_body("payload_too_large", message), status=413)
        context = {"title": _("Envoi trop volumineux"), "message": message}
        return render(request, "core/request_too_large.html", context, status=413)
