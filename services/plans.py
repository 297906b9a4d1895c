"""From a filed report to a plan: the facts the rules need, the policy's decision, the plan
stored with its dates, and the alerts it calls for. services/wording.py tells it in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.alerts import raise_alert
from models.people import Arrival, Resident
from models.plans import ACTIVE, SUPERSEDED, MonitoringPlan, active_plan
from models.risk import listings_between
from rules import places
from rules.health import abnormal
from rules.policy import Facts, Policy
from rules.risk import Finding, highest, risk_of
from services.checkins import carry_over


def arrival_day(arrival: Arrival, zone: ZoneInfo) -> date:
    moment = arrival.arrived_at or arrival.expected_at
    assert moment is not None
    return moment.astimezone(zone).date()


def is_abroad(arrival: Arrival) -> bool:
    if arrival.entry_port:
        return True
    if arrival.origin_code:
        try:
            return bool(places.place(arrival.origin_code).abroad)
        except KeyError:
            return False
    return False


async def facts_for(
    session: AsyncSession,
    arrival: Arrival,
    policy: Policy,
    zone: ZoneInfo,
    *,
    assume_possible: bool = False,
    known: Mapping[str, bool] | None = None,
) -> tuple[Facts, Finding, Finding]:
    """What the rules need to know, and the risk findings behind it (for the worker).

    `assume_possible`: a match a worker confirmed (the person reported only the city of a
    listed district, and was there) counts as certain."""
    day = arrival_day(arrival, zone)
    first = day - timedelta(days=policy.window_days)
    listings = await listings_between(session, first, day)
    origin = risk_of(arrival.origin_code, arrival.origin_text, first, day, listings)
    history = Finding()
    for stay in arrival.stays:
        found = risk_of(
            stay.place_code, stay.place_text, max(stay.from_date, first), stay.to_date, listings
        )
        history = Finding(
            highest(history.level, found.level),
            highest(history.possible, found.possible),
            history.listings + found.listings,
        )
    if assume_possible:
        origin = Finding(highest(origin.level, origin.possible), None, origin.listings)
        history = Finding(highest(history.level, history.possible), None, history.listings)
    facts = Facts(
        abroad=is_abroad(arrival),
        origin_risk=origin.level,
        history_risk=history.level,
        released_elsewhere=arrival.quarantine_ended_on is not None,
        health_code=arrival.health_code
        if arrival.health_code in ("green", "yellow", "red")
        else None,
        symptoms=abnormal(arrival.temperature, arrival.symptoms),
    )
    if known:
        # What a list pushed from above says of the person (a close contact…).
        facts = replace(facts, **dict(known))  # type: ignore[arg-type]
    return facts, origin, history


async def classify(
    session: AsyncSession,
    resident: Resident,
    arrival: Arrival,
    policy: Policy,
    now: datetime,
    zone: ZoneInfo,
    *,
    start: date | None = None,
    assume_possible: bool = False,
    known: Mapping[str, bool] | None = None,
) -> MonitoringPlan:
    """Decide and store the person's plan, superseding the one they had; raise its alerts.

    The plan's days count from `start` (a re-screening: the last day in the listed place),
    else from the day of arrival."""
    facts, origin, history = await facts_for(
        session, arrival, policy, zone, assume_possible=assume_possible, known=known
    )
    decision = policy.plan_for(facts)
    plan = decision.plan
    start = start or arrival_day(arrival, zone)
    schedule = plan.schedule(start)
    previous = await active_plan(session, resident.id)
    if previous is not None:
        previous.status = SUPERSEDED
        previous.ended_at = now
    stored = MonitoringPlan(
        resident_id=resident.id,
        grid_id=resident.grid_id,
        arrival_id=arrival.id,
        policy=policy.name,
        plan_key=plan.key,
        rule=decision.rule,
        reason=decision.reason[:200],
        phases=[
            {"kind": p.kind, "first": p.first.isoformat(), "last": p.last.isoformat()}
            for p in schedule.phases
        ],
        test_days=[d.isoformat() for d in schedule.tests],
        negatives_needed=plan.negatives_to_release,
        refer_to_clinic=plan.refer_to_clinic,
        needs_confirmation=origin.needs_confirmation or history.needs_confirmation,
        starts_on=start,
        ends_on=schedule.last,
        status=ACTIVE,
        created_at=now,
    )
    session.add(stored)
    await session.flush()
    if previous is not None:
        await carry_over(session, previous, stored, now, zone)
    await _alerts(session, resident, arrival, facts, stored, now, origin, history)
    return stored


async def _alerts(
    session: AsyncSession,
    resident: Resident,
    arrival: Arrival,
    facts: Facts,
    plan: MonitoringPlan,
    now: datetime,
    origin: Finding,
    history: Finding,
) -> None:
    details: dict[str, Any] = {
        "plan": plan.plan_key,
        "plan_id": plan.id,
        "origin": arrival.origin_text,
        "reason": plan.reason,
    }
    kinds: list[str] = []
    if plan.refer_to_clinic:
        kinds.append("refer_clinic")
    if facts.abroad:
        kinds.append("abroad_arrival")
    if highest(facts.origin_risk, facts.history_risk) == "high":
        kinds.append("high_risk_arrival")
    if arrival.status == "expected":
        kinds.append("pre_arrival")
    if facts.health_code in ("yellow", "red"):
        # The seeds: a yellow or red code is asked about travel, registered, and handed to
        # the health authority; the worker must know whatever the plan.
        kinds.append("health_code")
        details["code"] = facts.health_code
    if plan.needs_confirmation:
        kinds.append("confirm_match")
        details["to_confirm"] = sorted(
            {f"{item.place} ({item.level})" for item in origin.listings + history.listings}
        )
        details["listings"] = [
            {"place": place, "level": level}
            for place, level in sorted(
                {(item.place, item.level) for item in origin.listings + history.listings}
            )
        ]
    for kind in kinds:
        await raise_alert(
            session,
            grid_id=resident.grid_id,
            resident_id=resident.id,
            kind=kind,
            details=details,
            now=now,
            dedupe_key=f"{kind}:{plan.id}",
        )


async def apply_stricter(
    session: AsyncSession, alert_resident_id: int, policy: Policy, now: datetime, zone: ZoneInfo
) -> MonitoringPlan | None:
    """A worker confirmed that someone who gave only the city of a listed district was there:
    their plan becomes the one the listed risk calls for, its days counted as before (from the
    last day there). None when they have no journey or no running plan any more."""
    resident = await session.get(Resident, alert_resident_id)
    if resident is None or resident.purged_at is not None:
        return None
    arrival = await session.scalar(
        select(Arrival)
        .where(Arrival.resident_id == resident.id)
        .options(selectinload(Arrival.stays))
        .order_by(Arrival.id.desc())
        .limit(1)
    )
    previous = await active_plan(session, resident.id)
    if arrival is None or previous is None:
        return None
    return await classify(
        session,
        resident,
        arrival,
        policy,
        now,
        zone,
        start=previous.starts_on,
        assume_possible=True,
    )


async def clear_confirmation(session: AsyncSession, resident_id: int) -> None:
    """A worker found the person was not in the listed area: their plan stands, unflagged."""
    plan = await active_plan(session, resident_id)
    if plan is not None:
        plan.needs_confirmation = False
