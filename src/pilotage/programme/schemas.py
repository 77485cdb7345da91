"""What the API shows of a territory: the list item, the detail and the GeoJSON features.

Every resolver reads prefetched relations only (see `api.with_summary` / `api.with_detail`): no query per row.
Governance members' e-mail and phone are personal data and appear in no schema here.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Schema

from .models import ActionPlan, Contract, GovernanceMember, Territory


class RegionRef(Schema):
    code: str = Field(..., description="Code INSEE de la région.")
    name: str


class PhaseMilestones(Schema):
    """Where a territory stands in one phase of the programme."""

    phase: str = Field(..., description="Code de la phase, ex. 2018-2022.")
    protocol_signed_on: datetime.date | None
    contract_signed_on: datetime.date | None
    action_plan_status: str | None = Field(..., description="État de la version en cours du plan d'actions.")
    action_plan_validated_on: datetime.date | None = Field(
        ..., description="Date de la première validation du plan par le Conseil régional."
    )
    action_plan_expected_validation_on: datetime.date | None


class TerritoryItem(Schema):
    code: str = Field(..., description="Identifiant ANCT (id_ti), ex. ti-4405.")
    name: str
    region: RegionRef
    phases: list[str] = Field(..., description="Codes des phases du programme.")
    population: int
    communes_count: int
    epci_count: int
    governance_installed_on: datetime.date | None
    milestones: list[PhaseMilestones] = Field(..., description="Jalons du programme, par phase.")

    @staticmethod
    def resolve_phases(obj: Territory) -> list[str]:
        return [phase.code for phase in obj.phases.all()]

    @staticmethod
    def resolve_epci_count(obj: Territory) -> int:
        return obj.epci_count if hasattr(obj, "epci_count") else len(obj.epcis.all())

    @staticmethod
    def resolve_milestones(obj: Territory) -> list[dict]:
        return milestones_by_phase(obj)


class GovernanceMemberOut(Schema):
    role: str
    role_label: str
    full_name: str
    position: str
    organisation: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None

    @staticmethod
    def resolve_role_label(obj: GovernanceMember) -> str:
        return str(obj.get_role_display())


class GovernanceOut(Schema):
    installed_on: datetime.date | None
    members: list[GovernanceMemberOut]


class ContractOut(Schema):
    kind: str = Field(..., description="protocol ou contract.")
    kind_label: str
    phase: str
    signed_on: datetime.date | None
    signatories: list[str] = Field(..., description="Signataires, un par ligne de la fiche.")

    @staticmethod
    def resolve_kind_label(obj: Contract) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_phase(obj: Contract) -> str:
        return obj.phase.code

    @staticmethod
    def resolve_signatories(obj: Contract) -> list[str]:
        return [line.strip() for line in obj.signatories.splitlines() if line.strip()]


class ActionPlanOut(Schema):
    """The current (latest) version of a phase's action plan."""

    phase: str
    version: int
    status: str = Field(..., description="draft, submitted, validated ou returned.")
    status_label: str
    submitted_on: datetime.date | None
    decided_on: datetime.date | None = Field(..., description="Date de la décision du Conseil régional.")
    expected_validation_on: datetime.date | None

    @staticmethod
    def resolve_phase(obj: ActionPlan) -> str:
        return obj.phase.code

    @staticmethod
    def resolve_status_label(obj: ActionPlan) -> str:
        return str(obj.get_status_display())


class EpciOut(Schema):
    siren: str
    name: str
    kind: str
    population: int


class TerritoryDetail(TerritoryItem):
    governance: GovernanceOut
    contracts: list[ContractOut]
    action_plans: list[ActionPlanOut] = Field(..., description="Version en cours du plan d'actions, par phase.")
    epcis: list[str] = Field(..., description="Périmètre : SIREN des EPCI.")
    epci_details: list[EpciOut]
    updated_at: datetime.datetime

    @staticmethod
    def resolve_governance(obj: Territory) -> dict:
        order = {role: index for index, role in enumerate(GovernanceMember.Role.values)}
        members = sorted(obj.governance_members.all(), key=lambda m: (order.get(m.role, len(order)), m.full_name))
        return {"installed_on": obj.governance_installed_on, "members": members}

    @staticmethod
    def resolve_contracts(obj: Territory) -> list[Contract]:
        return sorted(obj.contracts.all(), key=lambda c: (c.phase.starts_on, c.kind != Contract.Kind.PROTOCOL))

    @staticmethod
    def resolve_action_plans(obj: Territory) -> list[ActionPlan]:
        return sorted(current_action_plans(obj).values(), key=lambda plan: plan.phase.starts_on)

    @staticmethod
    def resolve_epcis(obj: Territory) -> list[str]:
        return [epci.siren for epci in obj.epcis.all()]

    @staticmethod
    def resolve_epci_details(obj: Territory) -> list:
        return list(obj.epcis.all())


def current_action_plans(territory: Territory) -> dict[str, ActionPlan]:
    """The latest version of the action plan of each phase, keyed by phase code."""
    current: dict[str, ActionPlan] = {}
    for plan in territory.action_plans.all():
        if plan.phase.code not in current or plan.version > current[plan.phase.code].version:
            current[plan.phase.code] = plan
    return current


def milestones_by_phase(territory: Territory) -> list[dict]:
    """One summary per phase the territory belongs to (or has records in), in the phases' order.

    A plan counts as validated from its first validation on, as in the programme figures, even when a later version
    is being drafted.
    """
    phases = {phase.code: phase.starts_on for phase in territory.phases.all()}
    contracts = {(c.phase.code, c.kind): c.signed_on for c in territory.contracts.all()}
    plans = list(territory.action_plans.all())
    for record in [*territory.contracts.all(), *plans]:
        phases.setdefault(record.phase.code, record.phase.starts_on)
    current = current_action_plans(territory)
    summaries = []
    for code in sorted(phases, key=phases.get):
        validations = [p.decided_on for p in plans if p.phase.code == code and p.status == ActionPlan.Status.VALIDATED]
        plan = current.get(code)
        summaries.append(
            {
                "phase": code,
                "protocol_signed_on": contracts.get((code, Contract.Kind.PROTOCOL)),
                "contract_signed_on": contracts.get((code, Contract.Kind.CONTRACT)),
                "action_plan_status": plan.status if plan else None,
                "action_plan_validated_on": min(validations) if validations else None,
                "action_plan_expected_validation_on": plan.expected_validation_on if plan else None,
            }
        )
    return summaries


# GeoJSON (RFC 7946). Shapes are merged by concatenating the EPCI polygons: adjacent EPCI keep their shared border,
# which a map draws as one filled area, and no geometry library is needed at run time.


def polygons_of(geometry: dict | None) -> list[list]:
    """The polygons (each a list of rings) of a Polygon, MultiPolygon or GeometryCollection."""
    if not geometry:
        return []
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return list(geometry["coordinates"])
    if kind == "GeometryCollection":
        return [polygon for part in geometry.get("geometries", []) for polygon in polygons_of(part)]
    return []


def merged_geometry(epcis: list) -> dict | None:
    polygons = [polygon for epci in epcis for polygon in polygons_of(epci.geometry)]
    return {"type": "MultiPolygon", "coordinates": polygons} if polygons else None


def territory_properties(territory: Territory) -> dict[str, Any]:
    """Flat properties, as GIS tools expect them."""
    epcis = list(territory.epcis.all())
    return {
        "code": territory.code,
        "name": territory.name,
        "region": territory.region_id,
        "region_name": territory.region.name,
        "phases": [phase.code for phase in territory.phases.all()],
        "population": territory.population,
        "communes_count": territory.communes_count,
        "epci_count": len(epcis),
        "epcis": [epci.siren for epci in epcis],
        "governance_installed_on": territory.governance_installed_on,
    }


def territory_feature(territory: Territory) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": territory.code,
        "geometry": merged_geometry(list(territory.epcis.all())),
        "properties": territory_properties(territory),
    }


def perimeter_feature_collection(territory: Territory) -> dict[str, Any]:
    """One Feature per EPCI of the perimeter; the territory's own properties ride along as a foreign member."""
    features = [
        {
            "type": "Feature",
            "id": epci.siren,
            "geometry": epci.geometry or None,
            "properties": {
                "code": epci.siren,
                "name": epci.name,
                "kind": epci.kind,
                "population": epci.population,
                "territory": territory.code,
            },
        }
        for epci in territory.epcis.all()
    ]
    return {"type": "FeatureCollection", "properties": territory_properties(territory), "features": features}


GEOJSON_FEATURE_COLLECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "FeatureCollection GeoJSON (RFC 7946), coordonnées en WGS 84 (longitude, latitude).",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "properties": {"type": "object", "description": "Propriétés du territoire (pour un seul territoire)."},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "string"},
                    "geometry": {"type": ["object", "null"], "description": "Polygon ou MultiPolygon."},
                    "properties": {"type": "object"},
                },
            },
        },
    },
}
