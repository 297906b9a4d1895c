"""The register as grid workers read it: the areas a worker may see, the people and records
in them, and what the records say (missed, abnormal, day n of N).

Every read for a worker's command goes through a `Scope`: lists are filtered in SQL by the
path of the person's grid and checked again with `covers` on what was loaded, and a single
record named by an id (typed or in button data) is returned only if it lies in the scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from chat.i18n import N_, Translator
from handlers.checkins import FEVER
from handlers.forms import Option
from handlers.report import SYMPTOMS
from models.areas import Area, Level
from models.checkins import CheckIn, TestResult
from models.people import Arrival, Resident
from models.plans import ACTIVE, HELD, RELEASED, SUPERSEDED, MonitoringPlan
from models.staff import active_staff, covers


@dataclass(frozen=True)
class Scope:
    """The areas one worker looks after (an area under another of theirs is dropped)."""

    user_id: int
    areas: tuple[Area, ...]

    def covers(self, area: Area | None) -> bool:
        return area is not None and any(covers(mine, area) for mine in self.areas)

    def condition(self) -> ColumnElement[bool]:
        """SQL: the `Area` in the query (a person's grid) lies in the scope."""
        return or_(
            *(
                or_(Area.path == a.path, Area.path.startswith(a.path + "/", autoescape=True))
                for a in self.areas
            )
        )

    @property
    def highest(self) -> bool:
        """Above grid level: registers and figures are rolled up per area below."""
        return any(a.level != Level.GRID for a in self.areas)


async def scope_of(session: AsyncSession, user_id: int) -> Scope | None:
    """The worker's scope, or None for anyone who is not active staff."""
    posts = [area for _, area in await active_staff(session, user_id)]
    if not posts:
        return None
    own = [
        area
        for area in posts
        if not any(other.id != area.id and covers(other, area) for other in posts)
    ]
    unique = {area.id: area for area in own}
    return Scope(user_id, tuple(sorted(unique.values(), key=lambda a: a.path)))


def people_query(scope: Scope) -> Select[Resident, Area]:
    """People (not purged) whose grid lies in the scope, with their grid."""
    return (
        select(Resident, Area)
        .join(Area, Area.id == Resident.grid_id)
        .where(scope.condition(), Resident.purged_at.is_(None))
    )


async def people_in(session: AsyncSession, scope: Scope) -> list[tuple[Resident, Area]]:
    query = people_query(scope).options(
        selectinload(Resident.arrivals).selectinload(Arrival.stays),
        selectinload(Resident.household),
    )
    rows = (await session.execute(query.order_by(Area.path, Resident.id))).all()
    return [(person, grid) for person, grid in rows if scope.covers(grid)]


async def person_in(
    session: AsyncSession, scope: Scope, resident_id: int
) -> tuple[Resident, Area] | None:
    """One person, only if their grid lies in the scope (else None, as if there were none)."""
    person = await session.get(Resident, resident_id)
    if person is None or person.purged_at is not None:
        return None
    grid = await session.get(Area, person.grid_id)
    if grid is None or not scope.covers(grid):
        return None
    return person, grid


def parse_id(text: str) -> int | None:
    """A record number as typed (`12` or `#12`) or in button data; None if it is not one."""
    text = text.strip().removeprefix("#")
    if not text.isdigit() or len(text) > 12:
        return None
    return int(text)


@dataclass
class Record:
    """What the register holds of one person."""

    person: Resident
    grid: Area
    plan: MonitoringPlan | None = None
    tests: list[TestResult] = field(default_factory=list)
    checkins: list[CheckIn] = field(default_factory=list)
    # Everyone filed under the same household (loaded for one record, not for the register).
    household: list[Resident] = field(default_factory=list)

    @property
    def arrival(self) -> Arrival | None:
        return self.person.arrivals[-1] if self.person.arrivals else None


async def records_in(session: AsyncSession, scope: Scope) -> list[Record]:
    """Every person in the scope with their current plan, test results and check-ins:
    a few queries for the lot, each filtered by the scope."""
    records = {p.id: Record(p, g) for p, g in await people_in(session, scope)}
    plans = (
        select(MonitoringPlan)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .join(Area, Area.id == Resident.grid_id)
        .where(scope.condition(), MonitoringPlan.status != SUPERSEDED)
        .order_by(MonitoringPlan.id)
    )
    for plan in await session.scalars(plans):
        if plan.resident_id in records:
            records[plan.resident_id].plan = plan  # the newest wins
    tests = (
        select(TestResult)
        .join(Resident, Resident.id == TestResult.resident_id)
        .join(Area, Area.id == Resident.grid_id)
        .where(scope.condition())
        .order_by(TestResult.day, TestResult.id)
    )
    for test in await session.scalars(tests):
        record = records.get(test.resident_id)
        if record is not None:
            record.tests.append(test)
    checkins = (
        select(CheckIn)
        .join(Resident, Resident.id == CheckIn.resident_id)
        .join(Area, Area.id == Resident.grid_id)
        .where(scope.condition())
        .order_by(CheckIn.slot_start, CheckIn.id)
    )
    for checkin in await session.scalars(checkins):
        record = records.get(checkin.resident_id)
        if record is not None:
            record.checkins.append(checkin)
    return list(records.values())


async def record_of(session: AsyncSession, scope: Scope, resident_id: int) -> Record | None:
    """One person's full record, only if they lie in the scope."""
    person = await session.scalar(
        select(Resident)
        .where(Resident.id == resident_id, Resident.purged_at.is_(None))
        .options(
            selectinload(Resident.arrivals).selectinload(Arrival.stays),
            selectinload(Resident.household),
        )
    )
    grid = await session.get(Area, person.grid_id) if person is not None else None
    if person is None or grid is None or not scope.covers(grid):
        return None
    household = await session.scalars(
        select(Resident)
        .where(Resident.household_id == person.household_id, Resident.purged_at.is_(None))
        .order_by(Resident.id)
    )
    plan = await session.scalar(
        select(MonitoringPlan)
        .where(MonitoringPlan.resident_id == person.id, MonitoringPlan.status != SUPERSEDED)
        .order_by(MonitoringPlan.id.desc())
        .limit(1)
    )
    tests = await session.scalars(
        select(TestResult).where(TestResult.resident_id == person.id).order_by(TestResult.day)
    )
    checkins = await session.scalars(
        select(CheckIn).where(CheckIn.resident_id == person.id).order_by(CheckIn.slot_start)
    )
    return Record(person, grid, plan, list(tests), list(checkins), list(household))


# ----- what a record says -----

PHASE_NAMES = {
    "centralised": N_("Centralised quarantine"),
    "home_isolation": N_("Home isolation"),
    "home_monitoring": N_("Home health monitoring"),
    "self_monitoring": N_("Self-monitoring"),
}
PLAN_STATES = {
    ACTIVE: N_("active"),
    HELD: N_("held open: the negative tests it needs are missing"),
    RELEASED: N_("released"),
}
RELATION_NAMES = {
    "self": N_("the reporter"),
    "spouse": N_("Spouse"),
    "child": N_("Child"),
    "parent": N_("Parent"),
    "relative": N_("Other family"),
    "friend": N_("Friend"),
    "colleague": N_("Colleague"),
}


def named(options: Sequence[Option], value: object, tr: Translator) -> str:
    return next((tr(o.label) for o in options if o.value == value), str(value or ""))


def symptom_names(symptoms: Iterable[str], tr: Translator) -> str:
    return ", ".join(named(SYMPTOMS, s, tr) for s in symptoms if s != "none")


def abnormal_checkin(checkin: CheckIn) -> bool:
    return checkin.answered_at is not None and (
        (checkin.temperature or 0) >= FEVER or bool(checkin.symptoms)
    )


def abnormal_arrival(arrival: Arrival) -> bool:
    return (arrival.temperature or 0) >= FEVER or any(s != "none" for s in arrival.symptoms)


def missed(checkin: CheckIn, now: datetime) -> bool:
    """Missed: recorded as such, or its slot is over unanswered (the job may not have run)."""
    return checkin.missed_at is not None or (
        checkin.answered_at is None and checkin.slot_end <= now
    )


@dataclass(frozen=True)
class CheckinSummary:
    answered: int
    due: int
    missed: int
    abnormal: int
    late: int
    last: CheckIn | None


def checkin_summary(checkins: Sequence[CheckIn], now: datetime) -> CheckinSummary:
    """Of the slots begun by `now`: answered, due, missed, abnormal, late; the last answer."""
    due = [c for c in checkins if c.slot_start <= now]
    answered = [c for c in due if c.answered_at is not None]
    return CheckinSummary(
        answered=len(answered),
        due=len(due),
        missed=sum(1 for c in due if missed(c, now)),
        abnormal=sum(1 for c in due if abnormal_checkin(c)),
        late=sum(1 for c in answered if c.late),
        last=max(answered, key=lambda c: c.slot_start, default=None),
    )


def phase_on(plan: MonitoringPlan, day: date) -> dict[str, str] | None:
    for phase in plan.phases:
        if date.fromisoformat(phase["first"]) <= day <= date.fromisoformat(phase["last"]):
            return phase
    return None


def day_of(phase: dict[str, str], day: date) -> tuple[int, int]:
    """Day n of N of a phase."""
    first, last = date.fromisoformat(phase["first"]), date.fromisoformat(phase["last"])
    return (day - first).days + 1, (last - first).days + 1
