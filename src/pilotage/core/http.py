"""HTTP helpers shared by the API's single-record answers: entity tags and conditional GETs."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from ninja import Schema


def etag_of(payload: Schema) -> str:
    """A strong entity tag computed from the answer itself, so that a change anywhere in what it shows
    (a governance member, a contract…) changes it, not only the record's own `updated_at`."""
    digest = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    return f'"{digest[:32]}"'


def matches_if_none_match(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def not_modified(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    return response
