"""Page-number pagination shared by the API's lists: `?page=&page_size=`, answered as
`{"count", "page", "page_size", "next", "previous", "results"}`.

A page past the last one is an empty page (not an error), so that a client walking `next` never trips on a record
deleted meanwhile. Out-of-range parameters are rejected by the schema (400 in the pinned error format).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import create_model

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class PageParams(Schema):
    page: int = Field(1, ge=1, description="Numéro de la page, à partir de 1.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Nombre d'éléments par page ({DEFAULT_PAGE_SIZE} par défaut, {MAX_PAGE_SIZE} au plus).",
    )


def page_schema(item: type[Schema], name: str | None = None) -> type[Schema]:
    """The response schema of a page of `item`s (named `<Item>Page` in the OpenAPI document)."""
    return create_model(
        name or f"{item.__name__}Page",
        __base__=Schema,
        count=(int, Field(..., description="Nombre total d'éléments correspondant aux filtres.")),
        page=(int, ...),
        page_size=(int, ...),
        next=(str | None, Field(..., description="Adresse de la page suivante, ou null.")),
        previous=(str | None, Field(..., description="Adresse de la page précédente, ou null.")),
        results=(list[item], ...),
    )


@dataclass
class Page:
    count: int
    page: int
    page_size: int
    next: str | None
    previous: str | None
    results: list[Any]


def paginate(request: HttpRequest, qs: QuerySet, params: PageParams) -> Page:
    """One COUNT and one slice of `qs` (plus whatever prefetches `qs` carries): a fixed number of queries."""
    count = qs.count()
    offset = (params.page - 1) * params.page_size
    results = list(qs[offset : offset + params.page_size]) if offset < count else []
    return Page(**envelope(request, params, count), results=results)


def envelope(request: HttpRequest, params: PageParams, count: int) -> dict[str, Any]:
    """A page's fields but its results: count, page, page_size and the addresses of the pages around it."""
    last_page = max(1, -(-count // params.page_size))
    return {
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "next": page_url(request, params.page + 1) if params.page < last_page else None,
        "previous": page_url(request, min(params.page - 1, last_page)) if params.page > 1 else None,
    }


def page_url(request: HttpRequest, page: int) -> str:
    """The current address with `page` replaced, the other parameters (filters, page_size) kept."""
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def page_numbers(page) -> list[int | None]:
    """Page numbers a web list links to, None where the DSFR pagination shows an ellipsis."""
    elided = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return [n if isinstance(n, int) else None for n in elided]
