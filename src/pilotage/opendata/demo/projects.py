"""The projects of one demo territory, with their owners, status history, funding plan, indicators and milestones.

Objects are built unsaved; the loader inserts them in bulk. Each territory draws from its own random generator seeded
by (seed, territory code), so its projects do not depend on the order in which territories are generated.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from pilotage.core.text import fold
from pilotage.opendata.parsing import siren_key_is_valid
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.projects.models import (
    FundingLine,
    Indicator,
    IndicatorValue,
    Milestone,
    Organisation,
    Project,
    ProjectStatus,
    ProjectStatusChange,
)

from . import catalogue as cat
from .programme import between, company_name, days
from .territories import EpciInfo, Referential, TerritorySpec

Day = datetime.date
PATH = (
    ProjectStatus.IDEA,
    ProjectStatus.MATURING,
    ProjectStatus.READY,
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.COMPLETED,
)
GAPS = {  # days spent before reaching each status
    ProjectStatus.MATURING: (20, 150),
    ProjectStatus.READY: (30, 240),
    ProjectStatus.IN_PROGRESS: (15, 200),
    ProjectStatus.COMPLETED: (180, 900),
    ProjectStatus.ABANDONED: (30, 400),
}
FINAL_STATUS_WEIGHTS = {  # status the project is heading for, per phase (cut short by the snapshot date)
    cat.PHASE_1: (4, 6, 6, 18, 50, 16),
    cat.PHASE_2: (11, 22, 17, 30, 10, 10),
}
FINAL_STATUSES = (*PATH, ProjectStatus.ABANDONED)
OWNER_KINDS = (Organisation.Kind.COMPANY, Organisation.Kind.LOCAL_AUTHORITY, Organisation.Kind.ASSOCIATION)
OWNER_WEIGHTS = (60, 33, 7)
SIREN_FIRST_DIGITS = "345789"  # companies; 2 is the public bodies' range, so no clash with EPCI SIRENs
NOON_UTC = datetime.time(10, 0, tzinfo=datetime.UTC)


# The rows under a project are many (about ten per project): they are kept as tuples, first item the project, and
# inserted with plain INSERTs once the projects have their keys (model instances would cost most of the load time).
CHILD_COLUMNS: dict[type, tuple[str, ...]] = {
    Project.themes.through: ("project", "theme"),
    ProjectStatusChange: ("project", "status", "at", "by_label", "reason"),
    FundingLine: ("project", "funder", "instrument", "requested", "granted", "paid", "decided_on", "status"),
    IndicatorValue: ("project", "indicator", "on", "target", "measured"),
    Milestone: ("project", "label", "planned_on", "actual_on"),
}


@dataclass
class Batch:
    """Rows waiting for a bulk insert, in dependency order: organisations, projects, then the projects' children."""

    organisations: list[Organisation] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    children: dict[type, list[tuple]] = field(default_factory=lambda: {model: [] for model in CHILD_COLUMNS})


@dataclass
class Shared:
    """Read-mostly state shared by every territory's generation."""

    ref: Referential
    phases: dict[str, ProgrammePhase]
    themes: dict[str, list[Theme]]  # phase code -> themes
    funders: dict[str, Organisation]  # funder name ("Région Grand Est" for the region's) -> organisation
    indicators: dict[tuple[str, str], Indicator]  # (phase code, indicator code)
    sirens: set[str]  # every SIREN already taken
    epci_owners: dict[str, Organisation]  # EPCI SIREN -> its organisation (saved or pending)
    _communes: dict[str, tuple[list, list]] = field(default_factory=dict)

    def communes_of(self, siren: str) -> tuple[list, list]:
        """(communes, cumulative weights) of an EPCI: projects land more often where people live."""
        if siren not in self._communes:
            communes = self.ref.epcis[siren].communes
            self._communes[siren] = (communes, list(itertools.accumulate(c[2] + 50 for c in communes)))
        return self._communes[siren]


@dataclass
class Slot:
    """One project to generate: its phase and the day it was reported to the programme."""

    phase: str
    reported_on: Day


class TerritoryProjects:
    def __init__(self, shared: Shared, spec: TerritorySpec, territory: Territory, seed: int, manager: str) -> None:
        self.s, self.spec, self.territory, self.manager = shared, spec, territory, manager
        self.rng = random.Random(f"{seed}/{spec.code}/projects")
        self.epcis: list[EpciInfo] = [shared.ref.epcis[siren] for siren in spec.epcis]
        self.epci_weights = list(itertools.accumulate(e.population + 1 for e in self.epcis))
        self.sectors = self.rng.sample(cat.SECTORS, 3)
        self.companies: list[tuple[Organisation, str]] = []  # (company, its commune)
        self.association: Organisation | None = None
        self.titles: set[str] = set()

    def generate(self, slots: list[Slot], batch: Batch) -> None:
        slots = sorted(slots, key=lambda slot: (slot.reported_on, slot.phase))
        article = cat.ARTICLE_PROJECTS.get(self.spec.code) if self.spec.real else None
        for number, slot in enumerate(slots, start=1):
            featured = article if article and slot.phase == cat.PHASE_1 else None
            article = None if featured else article
            self._project(f"PRJ-{self.spec.code}-{number:04d}", slot, featured, batch)

    # --- one project -----------------------------------------------------------------------------

    def _project(self, id_projet: str, slot: Slot, featured: tuple | None, batch: Batch) -> None:
        rng = self.rng
        themes = self._themes(slot.phase, featured[2] if featured else None)
        owner, commune = self._owner(batch, prefer_authority=bool(featured))
        changes = self._history(slot)
        status = changes[-1][0]
        start_on, end_on = self._dates(slot, changes)
        town = commune[1]
        if featured:
            title, description = featured[0], featured[1]
        else:
            title = self._title(themes[0], town)
            description = self._description(themes[0], owner.name, town)
        project = Project(
            id_projet=id_projet,
            territory=self.territory,
            phase=self.s.phases[slot.phase],
            title=title,
            description=description,
            owner=owner,
            commune_id=commune[0],
            status=status,
            reported_on=slot.reported_on,
            start_on=start_on,
            end_on=end_on,
            total_cost=self._cost(),
            public=bool(featured) or rng.random() < 0.9,
            featured=bool(featured),
            search_text=fold(f"{title} {description} {owner.name}"),
            created_at=datetime.datetime.combine(slot.reported_on, NOON_UTC),
        )
        if status == ProjectStatus.ABANDONED:
            project.abandon_reason = changes[-1][2]
        batch.projects.append(project)
        batch.children[Project.themes.through].extend((project, theme.pk) for theme in themes)
        batch.children[ProjectStatusChange].extend(
            (project, code, datetime.datetime.combine(on, NOON_UTC), self.manager, reason)
            for code, on, reason in changes
        )
        self._funding(project, slot.phase, changes, batch)
        if rng.random() < 0.45:
            self._indicators(project, slot.phase, themes[0].code, changes, batch)
        if rng.random() < 0.35:
            self._milestones(project, themes[0].code, changes, batch)

    def _themes(self, phase: str, codes: tuple[str, ...] | None) -> list[Theme]:
        available = self.s.themes[phase]
        if codes:
            chosen = [t for t in available if t.code in codes]
            if chosen:
                return chosen
        return self.rng.sample(available, 1 if self.rng.random() < 0.6 or len(available) < 2 else 2)

    def _owner(self, batch: Batch, prefer_authority: bool) -> tuple[Organisation, tuple]:
        rng = self.rng
        kind = Organisation.Kind.LOCAL_AUTHORITY if prefer_authority else rng.choices(OWNER_KINDS, OWNER_WEIGHTS)[0]
        epci = self.epcis[bisect.bisect_left(self.epci_weights, rng.random() * self.epci_weights[-1])]
        if kind == Organisation.Kind.LOCAL_AUTHORITY:
            owner = self.s.epci_owners.get(epci.siren)
            if owner is None:
                owner = Organisation(name=epci.name, siren=epci.siren, kind=Organisation.Kind.LOCAL_AUTHORITY)
                self.s.epci_owners[epci.siren] = owner
                batch.organisations.append(owner)
            return owner, self._commune(epci)
        if kind == Organisation.Kind.ASSOCIATION:
            if self.association is None:
                self.association = Organisation(
                    name=f"Association des industriels – {self.spec.name}", kind=Organisation.Kind.ASSOCIATION
                )
                batch.organisations.append(self.association)
            return self.association, self._commune(self.epcis[0])
        if self.companies and rng.random() < 0.35:
            return rng.choice(self.companies)
        commune = self._commune(epci)
        company = Organisation(
            name=company_name(rng, commune[1], rng.choice(self.sectors)),
            siren=self._siren(),
            kind=Organisation.Kind.COMPANY,
        )
        batch.organisations.append(company)
        self.companies.append((company, commune))
        return company, commune

    def _commune(self, epci: EpciInfo) -> tuple:
        communes, weights = self.s.communes_of(epci.siren)
        return communes[bisect.bisect_left(weights, self.rng.random() * weights[-1])]

    def _siren(self) -> str:
        """A fresh company SIREN whose ninth digit is a correct Luhn key."""
        while True:
            body = f"{self.rng.choice(SIREN_FIRST_DIGITS)}{self.rng.randrange(10**7):07d}"
            siren = next(body + key for key in "0123456789" if siren_key_is_valid(body + key))
            if siren not in self.s.sirens:
                self.s.sirens.add(siren)
                return siren

    def _history(self, slot: Slot) -> list[tuple[str, Day, str]]:
        """(status, day, reason) from `idea` on the reporting day, stopped by the snapshot date."""
        rng = self.rng
        final = rng.choices(FINAL_STATUSES, FINAL_STATUS_WEIGHTS[slot.phase])[0]
        if final == ProjectStatus.ABANDONED:
            path = [*PATH[: rng.randint(1, 4)], ProjectStatus.ABANDONED]
        else:
            path = list(PATH[: PATH.index(final) + 1])
        on = slot.reported_on
        changes = [(path[0], on, cat.TRANSITION_REASONS[path[0]])]
        for status in path[1:]:
            low, high = GAPS[status]
            on = on + days(rng.randint(low, high))
            if on > cat.SNAPSHOT_ON:
                break
            reason = (
                rng.choice(cat.ABANDON_REASONS)
                if status == ProjectStatus.ABANDONED
                else (cat.TRANSITION_REASONS[status])
            )
            changes.append((status, on, reason))
        return changes

    def _dates(self, slot: Slot, changes: list) -> tuple[Day, Day | None]:
        reached = {code: on for code, on, _ in changes}
        start = reached.get(ProjectStatus.IN_PROGRESS) or slot.reported_on + days(self.rng.randint(180, 540))
        if ProjectStatus.COMPLETED in reached:
            return start, reached[ProjectStatus.COMPLETED]
        if ProjectStatus.ABANDONED in reached:
            return start, (reached[ProjectStatus.ABANDONED] if ProjectStatus.IN_PROGRESS in reached else None)
        return start, start + days(self.rng.randint(180, 1080))

    def _cost(self) -> Decimal:
        amount = math.exp(self.rng.gauss(math.log(450_000), 1.1))
        return Decimal(int(min(max(amount, 20_000), 30_000_000) / 100) * 100)

    # --- words -----------------------------------------------------------------------------------

    def _title(self, theme: Theme, town: str) -> str:
        templates = cat.TITLES.get(theme.code, (cat.GENERIC_TITLE,))
        title = ""
        for _attempt in range(4):
            title = self.rng.choice(templates).format(
                at_town=cat.at_place(town),
                of_town=cat.of_place(town),
                sector=self.rng.choice(self.sectors),
                territory=self.spec.name,
                theme=theme.label,
                town=town,
            )
            if title not in self.titles:
                break
        self.titles.add(title)
        return title

    def _description(self, theme: Theme, owner: str, town: str) -> str:
        aim = cat.AIMS.get(theme.code, theme.description.lower() or theme.label.lower())
        extra = self.rng.choice(cat.EXTRA_SENTENCES).format(sector=self.rng.choice(self.sectors))
        return f"Porté par {owner} {cat.at_place(town)}, ce projet vise à {aim}. {extra}"

    # --- funding, indicators, milestones ---------------------------------------------------------

    def _funding(self, project: Project, phase: str, changes: list, batch: Batch) -> None:
        rng = self.rng
        reached = {code: on for code, on, _ in changes}
        status = changes[-1][0]
        count = rng.choices(range(1, 7), cat.FUNDING_LINES_WEIGHTS)[0]
        names = list(cat.FUNDERS[phase])
        weights = [cat.FUNDER_WEIGHTS[name] for name in names]
        shares = [rng.uniform(0.5, 1.5) for _ in range(count)]
        coverage = rng.uniform(0.35, 0.8) / sum(shares)
        decided_by = reached.get(ProjectStatus.READY) or changes[-1][1]
        for share in shares:
            name = rng.choices(names, weights)[0]
            funder = self.s.funders[self._funder_name(name)]
            requested = Decimal(max(10, int(project.total_cost * Decimal(share * coverage) / 100)) * 100)
            decided_on = granted = paid = None
            state = FundingLine.Status.REQUESTED
            if self._decided(status, rng):
                decided_on = min(between(rng, project.reported_on + days(30), decided_by + days(120)), cat.SNAPSHOT_ON)
                granted, paid, state = self._outcome(requested, status, rng)
            instrument = rng.choice(cat.FUNDERS[phase][name])
            batch.children[FundingLine].append(
                (project, funder.pk, instrument, requested, granted, paid, decided_on, state)
            )

    def _funder_name(self, name: str) -> str:
        return name.format(region=self.s.ref.regions.get(self.spec.region, self.spec.region))

    @staticmethod
    def _decided(status: str, rng: random.Random) -> bool:
        if status in (ProjectStatus.READY, ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED):
            return rng.random() < 0.92
        return rng.random() < {ProjectStatus.MATURING: 0.25, ProjectStatus.ABANDONED: 0.5}.get(status, 0.0)

    @staticmethod
    def _outcome(requested: Decimal, status: str, rng: random.Random) -> tuple[Decimal, Decimal | None, str]:
        """(granted, paid, line status) once the funder has decided."""
        if rng.random() < 0.1:
            return Decimal(0), None, FundingLine.Status.REFUSED
        granted = Decimal(int(requested * Decimal(rng.uniform(0.6, 1.0)) / 100) * 100)
        if status == ProjectStatus.COMPLETED:
            return granted, granted, FundingLine.Status.PAID
        if status == ProjectStatus.IN_PROGRESS:
            paid = Decimal(int(granted * Decimal(rng.uniform(0.2, 0.6)) / 100) * 100)
            return granted, paid, FundingLine.Status.GRANTED
        return granted, None, FundingLine.Status.GRANTED

    def _indicators(self, project: Project, phase: str, theme: str, changes: list, batch: Batch) -> None:
        rng = self.rng
        codes = cat.INDICATORS_BY_THEME.get(theme, ("jobs_created", "jobs_kept"))
        cost = float(project.total_cost)
        for code in codes[: rng.randint(1, len(codes))]:
            target = {
                "jobs_created": lambda: rng.randint(3, 12) * max(1, round(cost / 400_000)),
                "jobs_kept": lambda: rng.randint(10, 60) * max(1, round(cost / 500_000)),
                "private_investment": lambda: int(cost * rng.uniform(0.3, 2.0) / 1000) * 1000,
                "people_trained": lambda: rng.randint(2, 30) * 10,
            }[code]()
            indicator = self.s.indicators[(phase, code)]
            batch.children[IndicatorValue].append((project, indicator.pk, project.start_on, Decimal(target), None))
            if changes[-1][0] not in (ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED):
                continue
            on, progress = project.start_on + days(365), 0.0
            while on <= cat.SNAPSHOT_ON and progress < 1.0:
                progress = min(1.0, progress + rng.uniform(0.2, 0.6))
                measured = Decimal(round(target * progress * rng.uniform(0.8, 1.1)))
                batch.children[IndicatorValue].append((project, indicator.pk, on, None, measured))
                on += days(365)

    def _milestones(self, project: Project, theme: str, changes: list, batch: Batch) -> None:
        rng = self.rng
        labels = cat.MILESTONES.get(theme, cat.MILESTONES["default"])
        status, last = changes[-1][0], changes[-1][1]
        cutoff = cat.SNAPSHOT_ON if status in (ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED) else last
        end = project.end_on or project.start_on + days(720)
        span = max(60, (end - project.reported_on).days)
        for index, label in enumerate(labels):
            planned = project.reported_on + days(span * (index + 1) // len(labels))
            actual = max(planned + days(rng.randint(-20, 90)), project.reported_on)
            batch.children[Milestone].append((project, label, planned, actual if actual <= cutoff else None))


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` in proportion to `weights` (largest remainder; ties by key), so the sum is exactly `total`."""
    if not weights or total <= 0:
        return dict.fromkeys(weights, 0)
    whole = sum(weights.values())
    raw = {key: total * weight / whole for key, weight in sorted(weights.items())}
    counts = {key: int(value) for key, value in raw.items()}
    remainders = sorted(raw, key=lambda key: (-(raw[key] - counts[key]), key))
    for key in remainders[: total - sum(counts.values())]:
        counts[key] += 1
    return counts
