"""Filing a submitted report: a household, a person record and an arrival for each person."""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import Any

from chat.contract import Reply, Send
from handlers.forms import Turn
from handlers.plans import classify, describe_plan
from models.areas import Area, lineage
from models.people import Arrival, Household, Resident, Stay
from models.staff import staff_for_grid

# The journey fields every person travelling together shares.
SHARED = ("origin", "transport", "transport_number", "entry_port", "quarantine_end", "history")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _arrival(turn: Turn, resident: Resident, health: dict[str, Any]) -> Arrival:
    a = turn.answers
    at = datetime.fromisoformat(a["arrival_at"])
    expected = a["arrival_status"] == "expected"
    arrival = Arrival(
        resident=resident,
        status="expected" if expected else "arrived",
        expected_at=at if expected else None,
        arrived_at=None if expected else at,
        reported_at=turn.now,
        origin_code=(a.get("origin") or {}).get("code"),
        origin_text=(a.get("origin") or {}).get("text", ""),
        transport=a["transport"],
        transport_number=a.get("transport_number"),
        seat=health.get("seat"),
        entry_port=a.get("entry_port"),
        quarantine_ended_on=_day(a.get("quarantine_end")),
        temperature=health.get("temperature"),
        symptoms=[s for s in health.get("symptoms", []) if s != "none"],
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


async def file_report(turn: Turn) -> list[Reply]:
    a, session, now, user_id = turn.answers, turn.session, turn.now, turn.user.id
    grid_id = a["stay"]["grid_id"]
    household = Household(
        grid_id=grid_id, address=a.get("address"), reporter_user_id=user_id, created_at=now
    )
    session.add(household)
    people: list[tuple[Resident, dict[str, Any]]] = []
    self_record = Resident(
        household=household,
        grid_id=grid_id,
        user_id=user_id,
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
            created_at=now,
            updated_at=now,
        )
        people.append((record, {"symptoms": companion.get("symptoms", [])}))
    arrivals: list[tuple[Resident, Arrival]] = []
    for resident, health in people:
        session.add(resident)
        arrival = _arrival(turn, resident, health)
        session.add(arrival)
        arrivals.append((resident, arrival))
    await session.flush()
    plans = [
        await classify(session, resident, arrival, turn.policy, now, turn.zone)
        for resident, arrival in arrivals
    ]

    grid = await session.get(Area, grid_id)
    where = " › ".join(x.name for x in await lineage(session, grid)) if grid else ""
    turn.answers.clear()
    tr = turn.tr
    names = ", ".join(html.escape(r.name or "") for r, _ in people)
    workers = (
        [w.name for w in await staff_for_grid(session, grid, "grid") if w.name] if grid else []
    )
    if workers:
        contact = tr(
            "Your grid worker: {names}. They will contact you.",
            names=html.escape(", ".join(workers)),
        )
    else:
        contact = tr("Your grid worker will contact you.")
    replies: list[Reply] = [
        Send(
            tr("✅ Your report is filed, for: {names}.", names=names)
            + "\n"
            + tr("Your grid: {grid}.", grid=html.escape(where))
            + "\n"
            + contact
            + "\n"
            + tr("/me shows your record and plan; /edit corrects it.")
        )
    ]
    for (resident, _), plan in zip(arrivals, plans, strict=True):
        title = f"<b>{html.escape(resident.name or '')}</b>\n" if len(plans) > 1 else ""
        replies.append(Send(title + describe_plan(plan, tr)))
    return replies
