"""The API's list of projects, read as plain rows: one query for the page and its total, one for the themes, one for
the funding lines, then JSON. The same answer as `ProjectOut` (schemas.py) gives for model instances, field for
field (tested), without building an ORM instance per row and validating it again: at the programme's largest scale
the list spends its time in the database, not in Python.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse
from ninja.responses import NinjaJSONEncoder

from pilotage.core.pagination import PageParams, envelope

from .models import FundingLine, Project, ProjectStatus
from .schemas import amount

FIELDS = (
    "pk",
    "id_projet",
    "territory__code",
    "phase__code",
    "title",
    "description",
    "status",
    "owner_id",
    "owner__name",
    "owner__siren",
    "commune_id",
    "reported_on",
    "start_on",
    "end_on",
    "total_cost",
    "public",
    "updated_at",
)
LINE_FIELDS = ("project_id", "id", "funder__name", "instrument", "requested", "granted", "paid", "decided_on", "status")


def page_of_projects(request: HttpRequest, qs: QuerySet[Project], params: PageParams) -> dict[str, Any]:
    """The page envelope of core.pagination (count, page, page_size, next, previous) with the rows of `qs`."""
    offset = (params.page - 1) * params.page_size
    rows = list(qs.annotate(total=Window(Count("pk"))).values(*FIELDS, "total")[offset : offset + params.page_size])
    # A page past the last one has no row to carry the total: counted apart.
    count = rows[0]["total"] if rows else qs.count()
    return {**envelope(request, params, count), "results": project_items(rows)}


def project_items(rows: list[dict]) -> list[dict]:
    ids = [row["pk"] for row in rows]
    themes: dict[int, list[str]] = defaultdict(list)
    for project_id, code in (
        Project.themes.through.objects.filter(project_id__in=ids)
        .order_by("theme__position", "theme__code")
        .values_list("project_id", "theme__code")
    ):
        themes[project_id].append(code)
    funding: dict[int, list[dict]] = defaultdict(list)
    for project_id, *line in FundingLine.objects.filter(project_id__in=ids).values_list(*LINE_FIELDS):
        line_id, funder, instrument, requested, granted, paid, decided_on, status = line
        funding[project_id].append(
            {
                "id": line_id,
                "funder": funder,
                "instrument": instrument,
                "requested": amount(requested),
                "granted": amount(granted),
                "paid": amount(paid),
                "decided_on": decided_on,
                "status": status,
            }
        )
    labels = {status: str(status.label) for status in ProjectStatus}
    return [
        {
            "id_projet": row["id_projet"],
            "territory": row["territory__code"],
            "phase": row["phase__code"],
            "title": row["title"],
            "description": row["description"],
            "themes": themes[row["pk"]],
            "status": row["status"],
            "status_label": labels[row["status"]],
            "owner": None
            if row["owner_id"] is None
            else {"name": row["owner__name"], "siren": row["owner__siren"] or None},
            "commune": row["commune_id"],
            "reported_on": row["reported_on"],
            "start_on": row["start_on"],
            "end_on": row["end_on"],
            "total_cost": amount(row["total_cost"]),
            "public": row["public"],
            "funding": funding[row["pk"]],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]


def json_response(payload: dict[str, Any]) -> HttpResponse:
    """Encoded as django-ninja encodes a schema's output (dates in ISO 8601, datetimes to the millisecond)."""
    return HttpResponse(json.dumps(payload, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8")
