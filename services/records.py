"""The register as grid workers read it: the areas a worker may see, the people and records
in them, and what the records say (missed, abnormal, day n of N).

Every read for a worker goes through a `Scope`: lists are filtered in SQL by the path of the
person's grid and checked again with `covers` on what was loaded (`scoped` is that query), and
a single record named by an id (typed or in button data) is returned only if it lies in the
scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from chat.forms import label_of
from chat.i18n import Translator
from models.areas import Area, Level
from models.checkins import CheckIn, TestResult
from models.people import (
    Arrival,
    Resident,
    id_number_hashes,
    normal_id,
    phone_tail_hashes,
)
from models.plans import SUPERSEDED, MonitoringPlan
from models.staff import Staff, active_staff, covers
from rules.health import abnormal, real_symptoms
from services.vocabulary import SYMPTOMS


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


@dataclass(frozen=True)
class Found:
    """Someone found by /find: their record number, name and phone, and their grid."""

    id: int
    name: str | None
    phone: str | None
    grid: Area


# What could be an ID, passport or permit number (looked up whole).
ID_SHAPE = re.compile(r"[A-Z0-9]{6,20}")
NOT_DIGITS = re.compile(r"\D")
# The most people one search reads.
FIND_LIMIT = 200


async def find_people(
    session: AsyncSession, scope: Scope, wanted: str, *, shown: int
) -> tuple[list[Found], int]:
    """People in the scope whose name contains `wanted`, whose phone contains its digits
    (four or more) or whose ID number it is, by name; the first `shown` of them with their
    phone, and how many were found in all.

    The search starts from the scope's grids (never every resident of a city), and matches
    phones and ID numbers by their keyed hashes: a phone is decrypted only when more than its
    last four digits must be compared, and for the people shown."""
    digits = NOT_DIGITS.sub("", wanted)
    by_phone = len(digits) >= 4 and len(digits) >= len(wanted.replace(" ", "")) - 1
    tails = set(phone_tail_hashes(digits)) if by_phone else set()
    ids = set(id_number_hashes(wanted)) if ID_SHAPE.fullmatch(normal_id(wanted)) else set()
    matches = [func.lower(Resident.name).contains(wanted.lower(), autoescape=True)]
    if tails:
        matches.append(Resident.phone_tail_hash.in_(tails))
    if ids:
        matches.append(Resident.id_number_hash.in_(ids))
    grids = select(Area.id).where(Area.level == Level.GRID, scope.condition())
    query = (
        select(Resident.id, Resident.name, Resident.phone_tail_hash, Resident.id_number_hash, Area)
        .join(Area, Area.id == Resident.grid_id)
        .where(
            Resident.grid_id.in_(grids),
            scope.condition(),
            Resident.purged_at.is_(None),
            or_(*matches),
        )
        .order_by(Resident.name, Resident.id)
        .limit(FIND_LIMIT)
    )
    rows = [row for row in (await session.execute(query)).all() if scope.covers(row[4])]

    def by_name_or_id(name: str | None, id_hash: str | None) -> bool:
        return wanted.lower() in (name or "").lower() or (id_hash is not None and id_hash in ids)

    # Phones that end in the digits' last four, compared whole when more digits were typed.
    check = [
        row[0]
        for row in rows
        if not by_name_or_id(row[1], row[3]) and row[2] in tails and len(digits) > 4
    ]
    phones = await _phones(session, check)
    found = [
        row
        for row in rows
        if by_name_or_id(row[1], row[3])
        or (
            row[2] in tails
            and (len(digits) == 4 or digits in NOT_DIGITS.sub("", phones.get(row[0]) or ""))
        )
    ]
    phones.update(await _phones(session, [row[0] for row in found[:shown] if row[0] not in phones]))
    return [Found(row[0], row[1], phones.get(row[0]), row[4]) for row in found[:shown]], len(found)


async def _phones(session: AsyncSession, ids: list[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    query = select(Resident.id, Resident.phone).where(Resident.id.in_(ids))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


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


# What a register reads about people: each has a resident_id, and is read with its person.
Personal = TypeVar("Personal", Arrival, CheckIn, MonitoringPlan, TestResult)


# The order a worker's list shows each kind in: by time, then by person.
LIST_ORDER: dict[type[Any], tuple[Any, ...]] = {
    Arrival: (Arrival.id,),
    CheckIn: (CheckIn.slot_start, Resident.id),
    MonitoringPlan: (MonitoringPlan.starts_on, Resident.id),
    TestResult: (TestResult.reported_at,),
}


async def scoped(
    session: AsyncSession,
    scope: Scope,
    entity: type[Personal],
    *conditions: ColumnElement[bool],
    order: Sequence[Any] = (),
) -> list[tuple[Personal, Resident]]:
    """Records of one kind about the (not purged) people in the scope, with the person: the
    one query every worker's list is made of, filtered by the scope in SQL and checked again
    on what was loaded."""
    query = (
        select(entity, Resident, Area)
        .join(Resident, Resident.id == entity.resident_id)
        .join(Area, Area.id == Resident.grid_id)
        .where(scope.condition(), Resident.purged_at.is_(None), *conditions)
        .order_by(*(order or LIST_ORDER[entity]))
    )
    rows = (await session.execute(query)).all()
    return [(record, person) for record, person, grid in rows if scope.covers(grid)]


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
    for plan, _ in await scoped(
        session,
        scope,
        MonitoringPlan,
        MonitoringPlan.status != SUPERSEDED,
        order=(MonitoringPlan.id,),
    ):
        if plan.resident_id in records:
            records[plan.resident_id].plan = plan  # the newest wins
    for test, _ in await scoped(session, scope, TestResult, order=(TestResult.day, TestResult.id)):
        if test.resident_id in records:
            records[test.resident_id].tests.append(test)
    for checkin, _ in await scoped(session, scope, CheckIn, order=(CheckIn.slot_start, CheckIn.id)):
        if checkin.resident_id in records:
            records[checkin.resident_id].checkins.append(checkin)
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


async def proxy_of(session: AsyncSession, person: Resident) -> str | None:
    """For someone a worker reported for (代报), the worker's name ("" if they gave none);
    None for everyone else."""
    if not person.by_proxy:
        return None
    name = await session.scalar(
        select(Staff.name).where(Staff.user_id == person.reporter_user_id).order_by(Staff.id)
    )
    return name or ""


def symptom_names(symptoms: Iterable[str], tr: Translator) -> str:
    return tr.join(label_of(SYMPTOMS, s, tr) for s in real_symptoms(symptoms))


def abnormal_checkin(checkin: CheckIn) -> bool:
    antipyretic = bool((checkin.extra or {}).get("antipyretic"))
    return checkin.answered_at is not None and abnormal(
        checkin.temperature, checkin.symptoms, antipyretic=antipyretic
    )


def abnormal_arrival(arrival: Arrival) -> bool:
    return abnormal(arrival.temperature, arrival.symptoms)


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
