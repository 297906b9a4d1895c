"""Filing a submitted report: a household, a person record and an arrival for each person,
each classified to a plan. Returns what it filed; the conversation words the replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.areas import Area, Level, lineage
from models.people import Arrival, Household, Resident, Stay
from models.plans import MonitoringPlan
from models.staff import staff_for_grid
from rules.health import real_symptoms
from rules.policy import Policy
from services.placement import ask_for_a_grid, grid_for
from services.plans import classify

# The journey fields every person travelling together shares.
SHARED = ("origin", "transport", "transport_number", "entry_port", "quarantine_end", "history")

# The answer that marks a report a worker files for someone (代报).
PROXY = "_proxy"


@dataclass(frozen=True)
class Filed:
    """What a report became: each person with their plan, where they stay, who looks after
    them (the names of the grid's workers who joined)."""

    people: tuple[tuple[Resident, MonitoringPlan], ...]
    where: tuple[str, ...]
    workers: tuple[str, ...]
    # False: the community's rules did not place the address in a grid; a worker will.
    placed: bool = True


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _arrival(
    answers: dict[str, Any], resident: Resident, health: dict[str, Any], now: datetime
) -> Arrival:
    a = answers
    at = datetime.fromisoformat(a["arrival_at"])
    expected = a["arrival_status"] == "expected"
    arrival = Arrival(
        resident=resident,
        grid_id=resident.grid_id,
        status="expected" if expected else "arrived",
        expected_at=at if expected else None,
        arrived_at=None if expected else at,
        reported_at=now,
        origin_code=(a.get("origin") or {}).get("code"),
        origin_text=(a.get("origin") or {}).get("text", ""),
        transport=a["transport"],
        transport_number=a.get("transport_number"),
        seat=health.get("seat"),
        entry_port=a.get("entry_port"),
        quarantine_ended_on=_day(a.get("quarantine_end")),
        temperature=health.get("temperature"),
        symptoms=real_symptoms(health.get("symptoms", [])),
        health_code=health.get("health_code"),
        test_result=health.get("test_result"),
        test_date=_day(health.get("test_date")),
    )
    arrival.stays = [
        Stay(
            place_code=s["place"].get("code"),
            place_text=s["place"]["text"],
            from_date=date.fromisoformat(s["from"]),
            to_date=date.fromisoformat(s["to"]),
        )
        for s in a.get("history", [])
    ]
    return arrival


async def file_report(
    session: AsyncSession,
    answers: dict[str, Any],
    *,
    user_id: int,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
) -> Filed:
    """Store the report's household, people and journeys, and give each person a plan."""
    a = answers
    area = await session.get(Area, a["stay"]["area_id"])
    if area is None:
        raise ValueError("the area chosen is gone")
    grid = await grid_for(session, area, a.get("address"))
    grid_id = grid.id
    household = Household(
        grid_id=grid_id, address=a.get("address"), reporter_user_id=user_id, created_at=now
    )
    session.add(household)
    people: list[tuple[Resident, dict[str, Any]]] = []
    # Reported by a worker for someone without Telegram (代报): the person has no chat of
    # their own, and the worker answers their check-ins (代打卡).
    by_proxy = bool(a.get(PROXY))
    self_record = Resident(
        household=household,
        grid_id=grid_id,
        user_id=None if by_proxy else user_id,
        reporter_user_id=user_id,
        relation="self",
        name=a["name"],
        phone=a.get("phone"),
        id_number=a.get("id_number"),
        created_at=now,
        updated_at=now,
    )
    people.append((self_record, a))
    for companion in a.get("companions", []):
        record = Resident(
            household=household,
            grid_id=grid_id,
            user_id=None,
            reporter_user_id=user_id,
            relation=companion["relation"],
            name=companion["name"],
            phone=companion.get("phone"),
            id_number=companion.get("id_number"),
            created_at=now,
            updated_at=now,
        )
        health = {
            "symptoms": companion.get("symptoms", []),
            "temperature": companion.get("temperature"),
        }
        people.append((record, health))
    arrivals: list[tuple[Resident, Arrival]] = []
    for resident, health in people:
        session.add(resident)
        arrival = _arrival(a, resident, health, now)
        session.add(arrival)
        arrivals.append((resident, arrival))
    await session.flush()
    plans = [
        (resident, await classify(session, resident, arrival, policy, now, zone))
        for resident, arrival in arrivals
    ]
    placed = grid.level == Level.GRID
    if not placed:
        await ask_for_a_grid(session, household, self_record, now)
    where = tuple(x.name for x in await lineage(session, grid))
    workers = (
        tuple(w.name for w in await staff_for_grid(session, grid, "grid") if w.name)
        if placed
        else ()
    )
    return Filed(tuple(plans), where, workers, placed)
