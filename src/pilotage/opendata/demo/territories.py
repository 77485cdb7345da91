"""Which demo territories exist and with which perimeter: the real Grand Est ones, synthetic ones elsewhere, copies.

Everything here is pure Python over a snapshot of the referential, so the plan depends only on the seed, the scale and
the referential loaded (never on set or dict ordering: every choice draws from sorted lists).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from pilotage.geo.models import Commune, Department, Epci, Region

from . import catalogue as cat


@dataclass
class EpciInfo:
    siren: str
    name: str
    population: int
    department: str = ""
    region: str = ""
    communes: list[tuple[str, str, int]] = field(default_factory=list)  # (insee, name, population), by INSEE code

    @property
    def town(self) -> str:
        """The most populous commune: what people call the place."""
        return max(self.communes, key=lambda c: (c[2], c[0]))[1] if self.communes else self.name


@dataclass
class Referential:
    regions: dict[str, str]  # code -> name
    departments: dict[str, tuple[str, str]]  # code -> (name, region code)
    epcis: dict[str, EpciInfo]

    @classmethod
    def from_database(cls) -> Referential:
        """Four queries, whatever the size of the referential."""
        regions = dict(Region.objects.values_list("code", "name"))
        departments = {
            code: (name, region) for code, name, region in Department.objects.values_list("code", "name", "region_id")
        }
        epcis = {s: EpciInfo(s, n, p) for s, n, p in Epci.objects.values_list("siren", "name", "population")}
        weight: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        rows = Commune.objects.filter(epci__isnull=False).order_by("insee")
        for insee, name, department, siren, population in rows.values_list(
            "insee", "name", "department_id", "epci_id", "population"
        ):
            epcis[siren].communes.append((insee, name, population))
            weight[siren][department] += population + 1
        for siren, info in epcis.items():
            if weight[siren]:
                info.department = max(sorted(weight[siren].items()), key=lambda item: item[1])[0]
                info.region = departments[info.department][1]
        return cls(regions, departments, {s: e for s, e in epcis.items() if e.communes})


@dataclass
class TerritorySpec:
    code: str
    name: str
    region: str
    epcis: tuple[str, ...]
    phases: tuple[str, ...]
    real: bool = False  # a real Grand Est territory (named in the article or the sample file)
    signed_at_assembly: bool = False


def plan_territories(ref: Referential, seed: int, scale: int, warn: Callable[[str], None]) -> list[TerritorySpec]:
    base = _real_territories(ref, warn) + _synthetic_territories(ref, seed, warn)
    base = [_with_continuation(spec, seed) for spec in base]
    return base + _copies(base, scale)


def _real_territories(ref: Referential, warn: Callable[[str], None]) -> list[TerritorySpec]:
    specs = []
    for real in cat.GRAND_EST:
        missing = [siren for siren in real.sirens if siren not in ref.epcis]
        if missing:
            absent = ", ".join(missing)
            warn(f"Territoire « {real.name} » ({real.code}) ignoré : EPCI absents du référentiel ({absent}).")
            continue
        specs.append(TerritorySpec(real.code, real.name, "44", real.sirens, real.phases, True, real.signed_at_assembly))
    return specs


def _synthetic_territories(ref: Referential, seed: int, warn: Callable[[str], None]) -> list[TerritorySpec]:
    reserved = {siren for real in cat.GRAND_EST for siren in real.sirens}
    by_region: dict[str, list[EpciInfo]] = defaultdict(list)
    for siren in sorted(ref.epcis):
        if siren not in reserved:
            by_region[ref.epcis[siren].region].append(ref.epcis[siren])
    specs: list[TerritorySpec] = []
    short: list[str] = []
    for region, (first, second) in sorted(cat.REGION_PLAN.items()):
        made = _region_territories(ref, region, by_region[region], first, second, random.Random(f"{seed}/{region}"))
        specs += made
        if len(made) < first + second:
            name = ref.regions.get(region, region)
            short.append(f"{name} ({first + second - len(made)})")
    if short:
        warn("Territoires synthétiques non créés faute d'EPCI dans le référentiel : " + ", ".join(short) + ".")
    return specs


def _region_territories(
    ref: Referential, region: str, pool: list[EpciInfo], first: int, second: int, rng: random.Random
) -> list[TerritorySpec]:
    """`first` phase-1 territories then `second` new in phase 2, each 1–4 EPCI sharing the seed EPCI's department."""
    pool = [e for e in pool if e.population <= cat.MAX_SEED_POPULATION]
    seeds = list(pool)
    rng.shuffle(seeds)
    by_department: dict[str, list[EpciInfo]] = defaultdict(list)
    for epci in pool:
        by_department[epci.department].append(epci)
    used: set[str] = set()
    names: set[str] = set()
    specs = []
    for number in range(1, first + second + 1):
        seed_epci = next((e for e in seeds if e.siren not in used), None)
        if seed_epci is None:
            break
        size = rng.choices((1, 2, 3, 4), weights=(25, 35, 25, 15))[0]
        # Small regions (overseas) must keep EPCI for the territories still to come.
        size = max(1, min(size, len(pool) - len(used) - (first + second - number)))
        neighbours = [e for e in by_department[seed_epci.department] if e.siren not in used and e is not seed_epci]
        members = [seed_epci, *rng.sample(neighbours, min(size - 1, len(neighbours)))]
        used.update(e.siren for e in members)
        name = _name(members, rng)
        if name in names:
            name = f"{name} ({ref.departments[seed_epci.department][0]})"
        names.add(name)
        phases = (cat.PHASE_1,) if number <= first else (cat.PHASE_2,)
        specs.append(TerritorySpec(f"ti-{region}{number:02d}", name, region, tuple(e.siren for e in members), phases))
    return specs


def _name(members: list[EpciInfo], rng: random.Random) -> str:
    towns = [e.town for e in sorted(members, key=lambda e: (-e.population, e.siren))]
    if len(towns) >= 2 and towns[0] != towns[1]:
        return f"{towns[0]} – {towns[1]}"
    return f"{rng.choice(('Bassin', 'Pays'))} {cat.of_place(towns[0])}"


def _with_continuation(spec: TerritorySpec, seed: int) -> TerritorySpec:
    """Most phase-1 territories carried on into phase 2 with the same perimeter."""
    if spec.real or spec.phases != (cat.PHASE_1,):
        return spec
    if random.Random(f"{seed}/{spec.code}/continues").random() < cat.CONTINUED_SHARE:
        spec.phases = (cat.PHASE_1, cat.PHASE_2)
    return spec


def _copies(base: list[TerritorySpec], scale: int) -> list[TerritorySpec]:
    """Scale K adds K-1 copies of every territory (same perimeter, new code) for benchmarks.

    A copy takes the next number of its region: `ti-RRNN` up to 99, then `ti-RRNNN` (three digits) — the only way to
    give more than 99 territories to a region; such codes are outside the ANCT pattern and not importable.
    """
    if scale <= 1:
        return []
    last: dict[str, int] = defaultdict(int)
    for spec in base:
        last[spec.region] = max(last[spec.region], int(spec.code[5:]))
    copies = []
    for copy in range(2, scale + 1):
        for spec in base:
            last[spec.region] += 1
            copies.append(
                TerritorySpec(
                    f"ti-{spec.region}{last[spec.region]:02d}",
                    f"{spec.name} (réplique {copy})",
                    spec.region,
                    spec.epcis,
                    spec.phases,
                )
            )
    return copies
