"""A project as the API shows it (PRODUCT.md pins the field names). Amounts are JSON numbers in euros."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, field_validator

from pilotage.core.params import Amount, IsoDate

from .models import FundingLine, Project, ProjectStatus
from .queries import indicator_series


def amount(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class OwnerOut(Schema):
    name: str
    siren: str | None = Field(None, description="SIREN (9 chiffres), null si l'organisation n'en a pas.")


class FundingLineOut(Schema):
    id: int = Field(..., description="Identifiant de la ligne (pour la modifier ou la supprimer).")
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
    version: int = Field(
        ...,
        description="Version du projet, augmentée à chaque écriture (le projet, son financement, ses indicateurs…).",
    )

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


class FundingLineAsOfOut(Schema):
    id: int
    funder: str
    instrument: str
    requested: float | None = None
    granted: float | None = None
    paid: float | None = None
    decided_on: datetime.date | None = None
    status: FundingLine.Status


class ProjectAsOfOut(Schema):
    """A project as it stood at `as_of`, rebuilt from its history (the fields of `ProjectDetailOut`)."""

    as_of: datetime.datetime
    id_projet: str
    territory: str | None
    phase: str | None
    title: str
    description: str
    themes: list[str]
    status: ProjectStatus
    status_label: str
    owner: OwnerOut | None = None
    commune: str | None = None
    reported_on: datetime.date | None = None
    start_on: datetime.date | None = None
    end_on: datetime.date | None = None
    total_cost: float | None = None
    public: bool
    funding: list[FundingLineAsOfOut]
    indicators: list[IndicatorOut]
    milestones: list[MilestoneOut]
    updated_at: datetime.datetime | None = Field(None, description="Dernière modification connue à ce moment.")


# --- what the write API takes ---------------------------------------------------------------------------------------

REASON_DESCRIPTION = (
    "Motif de la modification, gardé dans l'historique ; obligatoire pour changer un montant (coût total, montants "
    "d'une ligne de financement)."
)


class WriteIn(Schema):
    """A write body: an unknown field is refused (422) rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class OwnerIn(WriteIn):
    name: str = Field("", max_length=300, description="Nom du porteur.")
    siren: str | None = Field(
        None, description="SIREN (9 chiffres, clé de contrôle vérifiée) ; prioritaire sur le nom."
    )


class ProjectFieldsIn(WriteIn):
    title: str | None = Field(None, max_length=300)
    description: str | None = None
    themes: list[str] | None = Field(None, description='Codes des thèmes de la phase du projet, ex. ["innover"].')
    owner: OwnerIn | None = Field(
        None, description="Porteur : retrouvé par son SIREN, sinon par son nom exact, sinon créé ; null le retire."
    )
    commune: str | None = Field(None, description="Code INSEE d'une commune du périmètre du territoire.")
    reported_on: IsoDate | None = Field(None, description="Date de remontée au programme.")
    start_on: IsoDate | None = None
    end_on: IsoDate | None = Field(None, description="Pas avant `start_on`.")
    total_cost: Amount | None = Field(None, description="Coût total (€).")
    public: StrictBool | None = None
    reason: str = Field("", max_length=2000, description=REASON_DESCRIPTION)


class ProjectCreateIn(ProjectFieldsIn):
    territory: str = Field(..., max_length=16, description="Code `id_ti` du territoire (celui de votre équipe).")
    title: str = Field(..., min_length=1, max_length=300)
    id_projet: str | None = Field(
        None, max_length=64, description="Identifiant stable ; par défaut `PRJ-<id_ti>-NNNN`, le suivant libre."
    )
    phase: str | None = Field(
        None, max_length=20, description="Code de la phase ; par défaut celle des thèmes, sinon la plus récente."
    )
    status: ProjectStatus | None = Field(None, description="Statut initial (idea par défaut ; pas abandoned).")


class ProjectPatchIn(ProjectFieldsIn):
    version: StrictInt | None = Field(
        None,
        description="Version lue (champ `version` du projet) : si le projet a changé depuis, 409 sans rien modifier. "
        "`If-Match` fait de même avec l'ETag.",
    )
    status: Any = Field(
        None,
        description="Non modifiable ici : le statut change par `POST /api/v1/projects/{id_projet}/status` (avec un "
        "motif). Toute valeur est refusée (422).",
    )

    @field_validator("status", mode="before")
    @classmethod
    def status_has_its_own_endpoint(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "Le statut se change par POST /api/v1/projects/{id_projet}/status, avec un motif (champ reason)."
            )
        return None


class StatusIn(WriteIn):
    status: ProjectStatus = Field(
        ...,
        description="Nouveau statut : un statut suivant dans l'ordre idea → maturing → ready → in_progress → "
        "completed (on peut sauter des étapes, jamais revenir en arrière), ou abandoned depuis tout statut ouvert.",
    )
    reason: str = Field(..., max_length=2000, description="Motif (obligatoire).")
    version: StrictInt | None = Field(None, description="Version lue : 409 si le projet a changé depuis.")


class FundingLineIn(WriteIn):
    funder: str = Field(..., min_length=1, max_length=300, description="Nom du financeur (créé s'il est inconnu).")
    instrument: str = Field("", max_length=200, description="Dispositif.")
    requested: Amount | None = Field(None, description="Montant demandé (€).")
    granted: Amount | None = Field(None, description="Montant accordé (€).")
    paid: Amount | None = Field(None, description="Montant versé (€).")
    decided_on: IsoDate | None = None
    status: FundingLine.Status | None = Field(None, description="État ; par défaut accordé si un montant l'est.")
    reason: str = Field("", max_length=2000, description=REASON_DESCRIPTION)
    version: StrictInt | None = Field(None, description="Version lue du projet : 409 s'il a changé depuis.")


class FundingLinePatchIn(FundingLineIn):
    funder: str | None = Field(None, min_length=1, max_length=300, description="Nom du financeur.")
    instrument: str | None = Field(None, max_length=200, description="Dispositif.")


class FundingDecisionIn(WriteIn):
    granted: Amount | None = Field(..., description="Montant accordé (€), null si refusé.")
    decided_on: IsoDate = Field(..., description="Date de la décision.")
    status: FundingLine.Status = Field(..., description="État décidé : granted, refused, paid…")
    reason: str = Field(..., max_length=2000, description="Motif de la décision (obligatoire).")
    version: StrictInt | None = Field(None, description="Version lue du projet : 409 s'il a changé depuis.")


class IndicatorValueIn(WriteIn):
    indicator: str = Field(..., max_length=40, description="Code de l'indicateur (de la phase du projet).")
    on: IsoDate = Field(..., description="Date de la valeur ; une valeur existante à cette date est remplacée.")
    target: Amount | None = Field(None, description="Valeur cible.")
    measured: Amount | None = Field(None, description="Valeur mesurée.")
    reason: str = Field("", max_length=2000, description="Motif, gardé dans l'historique.")
    version: StrictInt | None = Field(None, description="Version lue du projet : 409 s'il a changé depuis.")


class IndicatorValueOut(Schema):
    indicator: str
    on: datetime.date
    target: float | None = None
    measured: float | None = None
