"""Governance, protocols, contracts and action plans of the demo territories.

Phase 1 reproduces the article's picture on the day of the assembly (2019-11-19): 87 % of the territories had
installed their governance, 58 had an action plan validated by their Regional Council and more than 98 were expected
by the end of the year; the 11 territories it names signed their protocol or contract that very day.
"""

from __future__ import annotations

import datetime
import random
import zlib
from dataclasses import dataclass, field

from pilotage.core.text import fold
from pilotage.programme.models import ActionPlan, Contract, GovernanceMember, Territory

from . import catalogue as cat
from .territories import Referential, TerritorySpec

Day = datetime.date
VALIDATED_EARLY, BY_YEAR_END, PLAN_NEXT_YEAR, LATE = "validated", "year_end", "next_year", "late"
RETURN_REASONS = (
    "Le plan doit préciser le calendrier et le plan de financement de chaque fiche action.",
    "Les fiches action doivent être hiérarchisées et leurs porteurs identifiés.",
    "Le volet compétences est à compléter avec les acteurs de l'emploi.",
)


def between(rng: random.Random, start: Day, end: Day) -> Day:
    """A day in [start, end]; `start` when the range is empty."""
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def phase1_tracks(specs: list[TerritorySpec], seed: int) -> dict[str, str]:
    """How far each phase-1 territory had got on 2019-11-19, in the article's proportions.

    Seven of the eleven territories signing at the assembly had their plan validated (they sign a contract), the
    others expected it by the end of the year (they sign a protocol).
    """
    phase1 = [s for s in specs if cat.PHASE_1 in s.phases]
    n = len(phase1)
    validated = round(n * cat.PLANS_VALIDATED / cat.NATIONAL_TERRITORIES)
    year_end = round(n * cat.PLANS_BY_YEAR_END / cat.NATIONAL_TERRITORIES)
    governance = round(n * cat.GOVERNANCE_INSTALLED_SHARE)
    rng = random.Random(f"{seed}/tracks")
    assembly = [s.code for s in phase1 if s.signed_at_assembly]
    others = [s.code for s in phase1 if not s.signed_at_assembly]
    rng.shuffle(assembly)
    rng.shuffle(others)
    front = assembly[: round(len(assembly) * 7 / 11)]
    order = front + others
    at = max(validated, len(front))
    order[at:at] = assembly[len(front) :]
    tracks = {}
    for rank, code in enumerate(order):
        track = (
            VALIDATED_EARLY
            if rank < validated
            else BY_YEAR_END
            if rank < year_end
            else PLAN_NEXT_YEAR
            if rank < governance
            else LATE
        )
        tracks[code] = PLAN_NEXT_YEAR if track == LATE and code in assembly else track
    return tracks


@dataclass
class TerritoryRecords:
    """What the programme records for one territory, unsaved (the territory has its primary key)."""

    governance_on: Day
    members: list[GovernanceMember] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    plans: list[ActionPlan] = field(default_factory=list)

    @property
    def project_manager(self) -> str:
        return next(m.full_name for m in self.members if m.role == GovernanceMember.Role.PROJECT_MANAGER)


class ProgrammeBuilder:
    def __init__(self, ref: Referential, phases: dict, seed: int, tracks: dict[str, str]) -> None:
        self.ref, self.phases, self.seed, self.tracks = ref, phases, seed, tracks

    def build(self, spec: TerritorySpec, territory: Territory) -> TerritoryRecords:
        rng = random.Random(f"{self.seed}/{spec.code}/programme")
        if cat.PHASE_1 in spec.phases:
            governance_on = self._governance_phase1(rng, self.tracks[spec.code])
        else:
            governance_on = between(rng, Day(2023, 3, 1), Day(2024, 3, 31))
        records = TerritoryRecords(governance_on)
        records.members = self._members(rng, spec, territory, governance_on)
        if cat.PHASE_1 in spec.phases:
            self._phase1(rng, spec, territory, records)
        if cat.PHASE_2 in spec.phases:
            self._phase2(rng, spec, territory, records)
        return records

    @staticmethod
    def _governance_phase1(rng: random.Random, track: str) -> Day:
        if track == VALIDATED_EARLY:
            return between(rng, Day(2019, 1, 10), Day(2019, 5, 31))
        if track == BY_YEAR_END:
            return between(rng, Day(2019, 2, 1), Day(2019, 9, 15))
        if track == PLAN_NEXT_YEAR:
            return between(rng, Day(2019, 3, 1), Day(2019, 11, 15))
        return between(rng, Day(2019, 11, 25), Day(2020, 7, 15))

    # --- phase 1 ---------------------------------------------------------------------------------

    def _phase1(self, rng: random.Random, spec: TerritorySpec, territory: Territory, records: TerritoryRecords) -> None:
        phase = self.phases[cat.PHASE_1]
        track = self.tracks[spec.code]
        gov = records.governance_on
        if track == VALIDATED_EARLY:
            last_day = cat.ASSEMBLY_ON - days(7) if spec.signed_at_assembly else cat.ASSEMBLY_ON
            submitted = between(rng, gov + days(20), min(gov + days(200), last_day - days(20)))
            decided = between(rng, submitted + days(10), last_day)
            expected = max(submitted + days(5), decided - days(rng.randint(0, 40)))
        elif track == BY_YEAR_END:
            submitted = between(rng, max(gov + days(20), Day(2019, 9, 1)), Day(2019, 11, 15))
            expected = between(rng, cat.ASSEMBLY_ON + days(1), Day(2019, 12, 31))
            decided = expected + days(rng.randint(0, 60))
        else:
            start = Day(2020, 1, 10) if track == PLAN_NEXT_YEAR else gov + days(60)
            submitted = between(rng, start, start + days(170))
            expected = submitted + days(rng.randint(20, 90))
            decided = expected + days(rng.randint(0, 90))
        version = 1
        if track in (PLAN_NEXT_YEAR, LATE) and rng.random() < 0.15:
            returned_on = submitted + days(rng.randint(20, 60))
            records.plans.append(
                ActionPlan(
                    territory=territory,
                    phase=phase,
                    version=1,
                    status=ActionPlan.Status.RETURNED,
                    summary=self._summary(spec, cat.PHASE_1),
                    submitted_on=submitted,
                    decided_on=returned_on,
                    expected_validation_on=expected,
                    return_reason=rng.choice(RETURN_REASONS),
                )
            )
            version = 2
            submitted = returned_on + days(rng.randint(30, 120))
            expected = submitted + days(rng.randint(20, 60))
            decided = expected + days(rng.randint(0, 60))
        records.plans.append(
            ActionPlan(
                territory=territory,
                phase=phase,
                version=version,
                status=ActionPlan.Status.VALIDATED,
                summary=self._summary(spec, cat.PHASE_1),
                submitted_on=submitted,
                decided_on=decided,
                expected_validation_on=expected,
            )
        )
        self._phase1_contracts(rng, spec, territory, records, track, decided)

    def _phase1_contracts(
        self,
        rng: random.Random,
        spec: TerritorySpec,
        territory: Territory,
        records: TerritoryRecords,
        track: str,
        decided: Day,
    ) -> None:
        phase = self.phases[cat.PHASE_1]
        signed: dict[str, Day] = {}
        if spec.signed_at_assembly:
            kind = Contract.Kind.CONTRACT if track == VALIDATED_EARLY else Contract.Kind.PROTOCOL
            signed[kind] = cat.ASSEMBLY_ON
            if kind == Contract.Kind.PROTOCOL:
                after = max(decided + days(15), Day(2020, 2, 1))
                signed[Contract.Kind.CONTRACT] = between(rng, after, Day(2020, 12, 15))
        else:
            if rng.random() < 0.6:
                signed[Contract.Kind.PROTOCOL] = between(rng, records.governance_on + days(15), decided)
            if rng.random() < 0.95:
                signed[Contract.Kind.CONTRACT] = min(decided + days(rng.randint(15, 300)), Day(2022, 6, 30))
            # Only the eleven of the article signed on the day of the assembly.
            signed = {k: d + days(1) if d == cat.ASSEMBLY_ON else d for k, d in signed.items()}
        for kind, on in signed.items():
            records.contracts.append(
                Contract(
                    territory=territory,
                    phase=phase,
                    kind=kind,
                    signed_on=on,
                    signatories=self._signatories(spec, records, cat.PHASE_1),
                )
            )

    # --- phase 2 ---------------------------------------------------------------------------------

    def _phase2(self, rng: random.Random, spec: TerritorySpec, territory: Territory, records: TerritoryRecords) -> None:
        phase = self.phases[cat.PHASE_2]
        start = max(records.governance_on + days(30), Day(2023, 6, 1))
        draw = rng.random()
        plan = ActionPlan(territory=territory, phase=phase, version=1, summary=self._summary(spec, cat.PHASE_2))
        if draw < 0.75:
            plan.submitted_on = between(rng, start, Day(2025, 12, 31))
            plan.expected_validation_on = plan.submitted_on + days(rng.randint(20, 90))
            plan.decided_on = plan.expected_validation_on + days(rng.randint(0, 60))
            plan.status = ActionPlan.Status.VALIDATED
        elif draw < 0.9:
            plan.submitted_on = between(rng, Day(2026, 3, 1), Day(2026, 9, 15))
            plan.expected_validation_on = between(rng, Day(2026, 10, 15), Day(2027, 3, 31))
            plan.status = ActionPlan.Status.SUBMITTED
        else:
            plan.expected_validation_on = between(rng, Day(2027, 1, 15), Day(2027, 6, 30))
            plan.status = ActionPlan.Status.DRAFT
        records.plans.append(plan)
        if plan.status == ActionPlan.Status.VALIDATED and rng.random() < 0.85:
            on = plan.decided_on + days(rng.randint(15, 240))
            if on <= cat.SNAPSHOT_ON:
                records.contracts.append(
                    Contract(
                        territory=territory,
                        phase=phase,
                        kind=Contract.Kind.CONTRACT,
                        signed_on=on,
                        signatories=self._signatories(spec, records, cat.PHASE_2),
                    )
                )

    # --- people and words ------------------------------------------------------------------------

    def _members(
        self, rng: random.Random, spec: TerritorySpec, territory: Territory, governance_on: Day
    ) -> list[GovernanceMember]:
        main = self.ref.epcis[spec.epcis[0]]
        region = self.ref.regions.get(spec.region, spec.region)
        department = self.ref.departments[main.department][0]
        Role = GovernanceMember.Role
        roles = (
            (Role.ELECTED_LEAD, ("Président", "Présidente"), main.name),
            (Role.INDUSTRIAL_LEAD, ("Directeur général", "Directrice générale"), company_name(rng, main.town)),
            (Role.PROJECT_MANAGER, ("Chef de projet", "Cheffe de projet"), main.name),
            (Role.STATE_REFERENT, ("Sous-préfet référent", "Sous-préfète référente"), f"Préfecture ({department})"),
            (Role.REGION_REFERENT, ("Chargé de mission industrie", "Chargée de mission industrie"), f"Région {region}"),
        )
        members = []
        for role, positions, organisation in roles:
            female = rng.random() < 0.45
            first = rng.choice(cat.FIRST_NAMES_F if female else cat.FIRST_NAMES_M)
            last = rng.choice(cat.LAST_NAMES)
            members.append(
                GovernanceMember(
                    territory=territory,
                    role=role,
                    full_name=f"{first} {last}",
                    position=positions[female],
                    organisation=organisation,
                    email=email(first, last),
                    phone=phone(first, last),
                    starts_on=governance_on,
                )
            )
        return members

    def _signatories(self, spec: TerritorySpec, records: TerritoryRecords, phase: str) -> str:
        region = self.ref.regions.get(spec.region, spec.region)
        leads = [f"{m.full_name} ({m.position}, {m.organisation})" for m in records.members[:2]]
        employment = "Pôle emploi" if phase == cat.PHASE_1 else "France Travail"
        return "; ".join(
            [
                f"Préfet de la région {region}",
                f"Président du Conseil régional {region}",
                *leads,
                "Banque des Territoires",
                "Bpifrance",
                employment,
                "Business France",
            ]
        )

    @staticmethod
    def _summary(spec: TerritorySpec, phase: str) -> str:
        axes = (
            "attirer, recruter, simplifier, innover et installer"
            if phase == cat.PHASE_1
            else ("compétences, transition écologique, innovation et foncier")
        )
        return f"Plan d'actions du Territoire d'industrie {spec.name} ({phase}), organisé autour des axes : {axes}."


def phone(first: str, last: str) -> str:
    """A number in the 03 53 01 xx xx block ARCEP reserves for fiction (no line can be reached), drawn from the name
    so that the generator's sequence, hence the rest of the demo, is unchanged."""
    number = zlib.crc32(f"{first} {last}".encode()) % 10000
    return f"03 53 01 {number // 100:02d} {number % 100:02d}"


def email(first: str, last: str) -> str:
    local = ".".join(fold(part).replace(" ", "-").replace("'", "") for part in (first, last))
    return f"{local}@{cat.EMAIL_DOMAIN}"


ACRONYM_LETTERS = "ABCDEFGHJKLMNPRSTVX"


def company_name(rng: random.Random, town: str, sector: str = "") -> str:
    pattern = rng.choice(cat.COMPANY_PATTERNS)
    acronym = "".join(rng.choice(ACRONYM_LETTERS) for _ in range(3))
    name = pattern.format(
        last=rng.choice(cat.LAST_NAMES), town=town, of_town=cat.of_place(town), acr=acronym, sector=sector
    )
    return f"{name} {rng.choice(cat.COMPANY_FORMS)}"
