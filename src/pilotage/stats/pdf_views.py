"""PDF downloads of the territory sheet and the regional synthesis, in the viewer's scope (visitors: public
projects only). `?as_of=YYYY-MM-DD` gives the situation at a past date.

Both are built within the request: on the demo data (scale 1, SQLite, 2 busy cores) a territory sheet takes about
2 s and a regional synthesis 2 to 4 s once WeasyPrint is loaded. That is too long for a link that seems to do
nothing, too short for a background job: the dashboards' links show that the PDF is being prepared and hand it over
as a download when it arrives (`stats/static/stats/pdf_download.js`); without JavaScript they are plain downloads.
"""

import datetime
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .figures import today
from .reports import Pdf, region_pdf, territory_pdf


def pdf_response(request: HttpRequest, build: Callable[..., Pdf], code: str) -> HttpResponse:
    raw = request.GET.get("as_of", "").strip()
    try:
        as_of = datetime.date.fromisoformat(raw) if raw else today()
    except ValueError:
        return HttpResponseBadRequest(_("Date invalide : %(value)s (format attendu : AAAA-MM-JJ).") % {"value": raw})
    try:
        pdf = build(request.user, code, as_of)
    except LookupError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    # What a sheet lists depends on who asks (a pilot sees non-public projects): never a shared cache.
    patch_cache_control(response, private=True, max_age=0)
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response


@require_GET
def territory_report(request: HttpRequest, code: str) -> HttpResponse:
    return pdf_response(request, territory_pdf, code)


@require_GET
def region_report(request: HttpRequest, code: str) -> HttpResponse:
    return pdf_response(request, region_pdf, code)
