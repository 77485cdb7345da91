"""The records a dashboard figure counts, as a list page or a CSV file.

The rows are exactly `counted_territories` / `counted_projects` of `figures.py` (the same condition as the figure);
this module only adds what a reader needs beside each record: the date that makes a territory count, a project's
status as of the date, its themes and, for the funding figures, the amounts the figure sums.
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils.translation import gettext_lazy

from pilotage.programme.models import ActionPlan, Contract, Theme
from pilotage.projects.models import FundingLine, Project, ProjectStatus

from .blocks import NO_DEPARTMENT, euros
from .figures import (
    PROJECT_FIGURES,
    TERRITORY_FIGURES,
    Scope,
    counted_projects,
    counted_territories,
    with_status_as_of,
)

FUNDING_FIGURES = ("funding_requested", "funding_granted")
KEYED_FIGURES = ("projects_by_theme", "projects_by_status", "funding_by_funder")
LISTED_FIGURES = (*TERRITORY_FIGURES, *PROJECT_FIGURES, *FUNDING_FIGURES)

TITLES = {
    "territories": gettext_lazy("Territoires d'industrie"),
    "governance_installed": gettext_lazy("Territoires ayant installé leur gouvernance"),
    "protocols_signed": gettext_lazy("Territoires ayant signé leur protocole"),
    "contracts_signed": gettext_lazy("Territoires ayant signé leur contrat"),
    "action_plans_validated": gettext_lazy("Territoires dont le plan d'actions est validé par le Conseil régional"),
    "action_plans_validated_by_year_end": gettext_lazy(
        "Territoires dont le plan d'actions est validé ou attendu d'ici la fin de l'année"
    ),
    "projects": gettext_lazy("Projets remontés"),
    "projects_by_theme": gettext_lazy("Projets remontés du thème « %(key)s »"),
    "projects_by_status": gettext_lazy("Projets remontés au statut « %(key)s »"),
    "funding_by_funder": gettext_lazy("Projets financés par « %(key)s »"),
    "funding_requested": gettext_lazy("Financements demandés des projets remontés"),
    "funding_granted": gettext_lazy("Financements accordés des projets remontés"),
}
# The date shown beside each territory, by figure: the one that makes it count.
DATE_LABELS = {
    "governance_installed": gettext_lazy("Gouvernance installée le"),
    "protocols_signed": gettext_lazy("Protocole signé le"),
    "contracts_signed": gettext_lazy("Contrat signé le"),
    "action_plans_validated": gettext_lazy("Plan validé le"),
    "action_plans_validated_by_year_end": gettext_lazy("Plan validé le (ou validation prévue le)"),
}


@dataclass
class RecordList:
    figure: str
    key: str
    kind: str  # "territories" or "projects"
    title: str
    rows: QuerySet
    date_label: str = ""
    funding: bool = False
    totals: dict[str, Decimal] | None = None

    @property
    def totals_text(self) -> dict[str, str]:
        return {name: euros(float(amount)) for name, amount in (self.totals or {}).items()}


def is_listed(figure: str, key: str) -> bool:
    """A known figure, with a key exactly when the figure is split by one (theme, status, funder)."""
    return figure in LISTED_FIGURES and (figure in KEYED_FIGURES) == bool(key)


def territory_date(figure: str, scope: Scope, as_of: datetime.date):
    """The date that makes a territory count in `figure`, as an expression (None for `territories`)."""
    contracts = Contract.objects.filter(territory=OuterRef("pk"), signed_on__lte=as_of)
    plans = ActionPlan.objects.filter(territory=OuterRef("pk"))
    if scope.phase:
        contracts, plans = contracts.filter(phase__code=scope.phase), plans.filter(phase__code=scope.phase)
    validated = plans.filter(status=ActionPlan.Status.VALIDATED, decided_on__lte=as_of).order_by("decided_on")
    first_validation = Subquery(validated.values("decided_on")[:1])
    if figure == "governance_installed":
        return F("governance_installed_on")
    if figure in ("protocols_signed", "contracts_signed"):
        kind = Contract.Kind.PROTOCOL if figure == "protocols_signed" else Contract.Kind.CONTRACT
        return Subquery(contracts.filter(kind=kind).order_by("signed_on").values("signed_on")[:1])
    if figure == "action_plans_validated":
        return first_validation
    if figure == "action_plans_validated_by_year_end":
        expected = plans.filter(expected_validation_on__lte=datetime.date(as_of.year, 12, 31))
        first_expected = expected.order_by("expected_validation_on").values("expected_validation_on")[:1]
        return Coalesce(first_validation, Subquery(first_expected))
    return None


def territory_list(scope: Scope, as_of: datetime.date, figure: str) -> RecordList:
    rows = counted_territories(scope, as_of, figure).select_related("region").order_by("name", "code")
    expression = territory_date(figure, scope, as_of)
    if expression is not None:
        rows = rows.annotate(day=expression)
    return RecordList(figure, "", "territories", str(TITLES[figure]), rows, str(DATE_LABELS.get(figure, "")))


def key_label(figure: str, key: str) -> str:
    if figure == "projects_by_status":
        return str(dict(ProjectStatus.choices).get(key, key))
    if figure == "projects_by_theme":
        theme = Theme.objects.filter(code=key).first()
        return theme.label if theme else key
    return key


def funding_lines(projects: QuerySet[Project], figure: str, key: str) -> QuerySet[FundingLine]:
    """The lines a funding figure sums: all the lines of the listed projects, or only the funder's."""
    lines = FundingLine.objects.filter(project__in=projects.values("pk"))
    return lines.filter(funder__name=key) if figure == "funding_by_funder" else lines


def project_list(scope: Scope, as_of: datetime.date, figure: str, key: str, department: str = "") -> RecordList:
    rows = counted_projects(scope, as_of, figure, key or None)
    if department == NO_DEPARTMENT:
        rows = rows.filter(commune__isnull=True)
    elif department:
        rows = rows.filter(commune__department_id=department)
    if "status_as_of" not in rows.query.annotations:
        rows = with_status_as_of(rows, as_of)
    themes = Prefetch("themes", queryset=Theme.objects.order_by("position", "code"))
    rows = rows.select_related("territory").prefetch_related(themes)
    rows = rows.order_by(F("reported_on").desc(nulls_last=True), "id_projet")
    title = str(TITLES[figure])
    if figure in KEYED_FIGURES:
        title = title % {"key": key_label(figure, key)}
    listing = RecordList(figure, key, "projects", title, rows)
    if figure in (*FUNDING_FIGURES, "funding_by_funder"):
        zero = Value(Decimal(0))
        lines = funding_lines(rows, figure, key)
        listing.funding = True
        listing.totals = lines.aggregate(
            requested=Coalesce(Sum("requested"), zero), granted=Coalesce(Sum("granted"), zero)
        )
    return listing


STATUS_LABELS = dict(ProjectStatus.choices)


def funding_sums(listing: RecordList, project_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """(requested, granted) of each project, from the lines its funding figure sums (1 query)."""
    lines = FundingLine.objects.filter(project__in=project_ids)
    if listing.figure == "funding_by_funder":
        lines = lines.filter(funder__name=listing.key)
    rows = lines.order_by().values_list("project").annotate(r=Sum("requested"), g=Sum("granted"))
    return {pk: (requested or Decimal(0), granted or Decimal(0)) for pk, requested, granted in rows}


def decorate(listing: RecordList, projects: list[Project]) -> None:
    """What one page of projects shows beside each: its status label and, for funding, its amounts (1 query)."""
    for project in projects:
        project.status_label = STATUS_LABELS.get(project.status_as_of, project.status_as_of)
    if not listing.funding:
        return
    sums = funding_sums(listing, [p.pk for p in projects])
    for project in projects:
        project.requested, project.granted = sums.get(project.pk, (Decimal(0), Decimal(0)))
        project.requested_text = euros(float(project.requested))
        project.granted_text = euros(float(project.granted))


def csv_cell(value) -> str:
    from pilotage.opendata.schema import neutralise

    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return neutralise(str(value))


CSV_BATCH = 1000


def csv_response(listing: RecordList, as_of: datetime.date) -> HttpResponse:
    """The whole list (every page) as CSV, UTF-8 with a BOM so that spreadsheets read the accents."""
    name = "-".join(part for part in ("pilotage", listing.figure, listing.key, as_of.isoformat()) if part)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    if listing.kind == "territories":
        dated = bool(listing.date_label)
        writer.writerow(["id_ti", "territoire", "region", *(["date"] if dated else [])])
        for t in listing.rows.iterator(chunk_size=CSV_BATCH):
            writer.writerow([csv_cell(v) for v in (t.code, t.name, t.region.name, *([t.day] if dated else []))])
        return response
    amounts = ["montant_demande", "montant_accorde"] if listing.funding else []
    writer.writerow(["id_projet", "titre", "id_ti", "territoire", "statut", "themes", "date_remontee", *amounts])
    # Plain rows rather than model instances: a national list can hold every project of the programme.
    fields = ("pk", "id_projet", "title", "territory__code", "territory__name", "status_as_of", "reported_on")
    rows = listing.rows.prefetch_related(None).values_list(*fields)
    batch: list[tuple] = []

    def flush() -> None:
        ids = [row[0] for row in batch]
        themes: dict[int, list[str]] = {}
        tagged = Project.themes.through.objects.filter(project__in=ids).order_by("theme__position", "theme__code")
        for project_id, code in tagged.values_list("project_id", "theme__code"):
            themes.setdefault(project_id, []).append(code)
        sums = funding_sums(listing, ids) if listing.funding else {}
        for pk, id_projet, title, territory_code, territory_name, status, reported_on in batch:
            row = [id_projet, title, territory_code, territory_name, STATUS_LABELS.get(status, status)]
            row += [";".join(themes.get(pk, [])), reported_on]
            row += list(sums.get(pk, (Decimal(0), Decimal(0)))) if listing.funding else []
            writer.writerow([csv_cell(v) for v in row])
        batch.clear()

    for row in rows.iterator(chunk_size=CSV_BATCH):
        batch.append(row)
        if len(batch) == CSV_BATCH:
            flush()
    flush()
    return response
