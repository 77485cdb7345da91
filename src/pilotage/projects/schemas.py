"""A project as the API shows it (PRODUCT.md pins the field names). Amounts are JSON numbers in euros."""

from __future__ import annotations

import datetime
from decimal import Decimal

from ninja import Field, Schema

from .models import FundingLine, Project, ProjectStatus
from .queries import indicator_series


def amount(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class OwnerOut(Schema):
    name: str
    siren: str | None = Field(None, description="SIREN (9 chiffres), null si l'organisation n'en a pas.")


class FundingLineOut(Schema):
    funder: str = Field(..., description="Nom du financeur.")
    instrument: str = Field(..., description="Dispositif ou programme de financement.")
    requested: float | None = Field(None, description="Montant demandé (€).")
    granted: float | None = Field(None, description="Montant accordé (€).")
    paid: float | None = Field(None, description="Montant versé (€).")
    decided_on: datetime.date | None = None
    status: FundingLine.Status

    @staticmethod
    def resolve_funder(line: FundingLine) -> str:
        return line.funder.name

    @staticmethod
    def resolve_requested(line: FundingLine) -> float | None:
        return amount(line.requested)

    @staticmethod
    def resolve_granted(line: FundingLine) -> float | None:
        return amount(line.granted)

    @staticmethod
    def resolve_paid(line: FundingLine) -> float | None:
        return amount(line.paid)


class ProjectOut(Schema):
    """A project in a list: everything but its indicators and milestones."""

    id_projet: str
    territory: str = Field(..., description="Code `id_ti` du territoire.")
    phase: str = Field(..., description="Code de la phase du programme, ex. 2018-2022.")
    title: str
    description: str
    themes: list[str] = Field(..., description="Codes des thèmes.")
    status: ProjectStatus
    status_label: str = Field(..., description="Libellé français du statut.")
    owner: OwnerOut | None = Field(None, description="Porteur du projet.")
    commune: str | None = Field(None, description="Code INSEE de la commune.")
    reported_on: datetime.date | None = Field(None, description="Date de remontée au programme.")
    start_on: datetime.date | None = None
    end_on: datetime.date | None = None
    total_cost: float | None = Field(None, description="Coût total (€).")
    public: bool
    funding: list[FundingLineOut] = Field(..., description="Plan de financement.")
    updated_at: datetime.datetime

    @staticmethod
    def resolve_territory(project: Project) -> str:
        return project.territory.code

    @staticmethod
    def resolve_phase(project: Project) -> str:
        return project.phase.code

    @staticmethod
    def resolve_themes(project: Project) -> list[str]:
        return [theme.code for theme in project.themes.all()]

    @staticmethod
    def resolve_status_label(project: Project) -> str:
        return str(project.get_status_display())

    @staticmethod
    def resolve_owner(project: Project) -> dict | None:
        owner = project.owner
        return None if owner is None else {"name": owner.name, "siren": owner.siren or None}

    @staticmethod
    def resolve_commune(project: Project) -> str | None:
        return project.commune_id

    @staticmethod
    def resolve_total_cost(project: Project) -> float | None:
        return amount(project.total_cost)

    @staticmethod
    def resolve_funding(project: Project) -> list[FundingLine]:
        return list(project.funding_lines.all())


class IndicatorPointOut(Schema):
    on: datetime.date
    target: float | None = Field(None, description="Valeur cible à cette date.")
    measured: float | None = Field(None, description="Valeur mesurée à cette date.")


class IndicatorOut(Schema):
    code: str
    label: str
    unit: str
    values: list[IndicatorPointOut] = Field(..., description="Par date croissante.")


class MilestoneOut(Schema):
    label: str
    planned_on: datetime.date | None = Field(None, description="Date prévue.")
    actual_on: datetime.date | None = Field(None, description="Date réelle, null tant que le jalon n'est pas atteint.")


class ProjectDetailOut(ProjectOut):
    """One project, with its indicators (target and measured values by date) and milestones."""

    indicators: list[IndicatorOut]
    milestones: list[MilestoneOut]

    @staticmethod
    def resolve_indicators(project: Project) -> list[dict]:
        return [
            {
                "code": s.indicator.code,
                "label": s.indicator.label,
                "unit": s.indicator.unit,
                "values": [{"on": v.on, "target": amount(v.target), "measured": amount(v.measured)} for v in s.values],
            }
            for s in indicator_series(project)
        ]

    @staticmethod
    def resolve_milestones(project: Project) -> list:
        return list(project.milestones.all())
