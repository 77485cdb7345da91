"""The API's list of projects read as plain rows gives exactly what the schema gives for model instances."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from ninja.responses import NinjaJSONEncoder

from pilotage.core.pagination import PageParams, page_schema, paginate
from pilotage.geo.services import load_referential
from pilotage.opendata.demo.loader import load_demo
from pilotage.projects.listing import page_of_projects
from pilotage.projects.models import Project
from pilotage.projects.queries import filter_projects, in_list_order, projects_visible_to, with_summary
from pilotage.projects.schemas import ProjectOut


@pytest.fixture
def demo(db):
    load_referential(["54", "57"])
    load_demo(projects_per_territory=8, warn=lambda m: None, progress=lambda m: None)
    # Rows the demo does not hold: no owner, no commune, no cost, no report date (listed last).
    first = Project.objects.order_by("pk").first()
    Project.objects.filter(pk=first.pk).update(owner=None, commune=None, total_cost=None, reported_on=None)


def schema_answer(request, qs, params) -> dict:
    page = paginate(request, with_summary(qs), params)
    validated = page_schema(ProjectOut).model_validate(page, from_attributes=True)
    return json.loads(json.dumps(validated.model_dump(), cls=NinjaJSONEncoder))


FILTERS = [{}, {"status": "in_progress"}, {"theme": "innover"}, {"q": "usine"}, {"territory": "none"}]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize(("number", "size"), [(1, 50), (2, 7), (3, 500), (999, 20)])
def test_rows_give_the_schema_answer(demo, filters, number, size):
    request = RequestFactory().get("/api/v1/projects", {**filters, "page": number, "page_size": size})
    params = PageParams(page=number, page_size=size)
    for user in (AnonymousUser(), None):
        qs = projects_visible_to(user) if user else Project.objects.all()
        qs = in_list_order(filter_projects(qs, **filters))
        rows = json.loads(json.dumps(page_of_projects(request, qs, params), cls=NinjaJSONEncoder))
        assert rows == schema_answer(request, qs, params)


def test_the_demo_has_what_the_comparison_needs(demo):
    projects = Project.objects.all()
    assert projects.filter(owner__isnull=True, commune__isnull=True, reported_on__isnull=True).exists()
    assert projects.filter(funding_lines__isnull=False).exists() and projects.filter(public=False).exists()
    assert projects.filter(themes__isnull=False).distinct().count() > 10
