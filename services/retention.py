"""Personal data kept only as long as allowed (PIPL-style data minimisation).

RETENTION_DAYS after a person's plan ends — or after their last activity when they never got
as far as a plan that ended (an expected arrival that never came) — their name, phone, ID
number, address and every free text about them are erased: the daily job `purge_expired`
and `returnee admin purge` do it. A resident with no plan running can ask for it at once
with /forget. What stays is anonymous: dates, grid, plan kind, transport kind, health
answers, check-in and test counts, so the statistics do not change. Every purge is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts import Alert, AlertAction
from models.chat import ChatUser, Conversation, forget_handled_updates
from models.checkins import CheckIn, TestResult
from models.contact import ContactMessage
from models.db import mark_erased
from models.help import HelpRequest
from models.outbox import FAILED, FOLDED, SENT, UNREACHABLE, Outgoing
from models.people import Arrival, Change, Household, Resident, Stay
from models.plans import ACTIVE, HELD, MonitoringPlan
from models.pushed import PushedInvite, PushedList, PushedRow
from models.staff import Staff, audit

log = logging.getLogger(__name__)

# Who erased: the daily job, an administrator at the command line, or the person (/forget).
SYSTEM, ADMIN = "system", "admin"
# The audit log's actor for the job and the command line (Telegram ids are never 0).
NOBODY = 0
# What an alert about an erased person keeps: nothing that names them or quotes them.
ANONYMOUS_DETAILS = ("plan", "code", "slot", "request", "since")
CHUNK = 500
KEEP_HANDLED_UPDATES = timedelta(days=3)


@dataclass(frozen=True)
class Purged:
    people: int
    conversations: int = 0
    messages: int = 0
    # Rows of lists pushed from above (taken in before the cut-off): who they named.
    pushed_rows: int = 0


def due_for_purge(cutoff: datetime) -> Select[Any]:
    """Residents not purged yet whose data has been kept long enough: every plan over (none
    active or held) since before `cutoff`, or — with no plan, or a journey that never came —
    nothing heard of them since before `cutoff`."""
    of_person = MonitoringPlan.resident_id == Resident.id
    open_plan = exists().where(of_person, MonitoringPlan.status.in_((ACTIVE, HELD)))
    any_plan = exists().where(of_person)
    ended_lately = exists().where(
        of_person, func.coalesce(MonitoringPlan.ended_at, MonitoringPlan.created_at) >= cutoff
    )
    latest_journey = (
        select(Arrival.status)
        .where(Arrival.resident_id == Resident.id)
        .order_by(Arrival.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    heard_lately = exists().where(
        Arrival.resident_id == Resident.id,
        or_(Arrival.reported_at >= cutoff, Arrival.expected_at >= cutoff),
    )
    plans_over = and_(any_plan, ~open_plan, ~ended_lately)
    never_came = and_(
        or_(~any_plan, latest_journey == "expected"),
        Resident.updated_at < cutoff,
        ~heard_lately,
    )
    return (
        select(Resident.id)
        .where(Resident.purged_at.is_(None), or_(plans_over, never_came))
        .order_by(Resident.id)
    )


async def purge_expired(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, days: int, by: str = SYSTEM
) -> int:
    """The daily job: erase who is due; returns how many people were purged. The updates
    remembered as handled are kept KEEP_HANDLED_UPDATES (Telegram re-posts within hours)."""
    await forget_handled_updates(session, now - KEEP_HANDLED_UPDATES)
    return (await purge(session, now, days=days, by=by)).people


async def purge(session: AsyncSession, now: datetime, *, days: int, by: str) -> Purged:
    cutoff = now - timedelta(days=days)
    ids: list[int] = list((await session.scalars(due_for_purge(cutoff))).all())
    for start in range(0, len(ids), CHUNK):
        await erase(session, ids[start : start + CHUNK], now)
    # Unfinished answers (a report left half-way, a check-in not sent) kept no longer.
    conversations = await session.execute(
        delete(Conversation).where(Conversation.updated_at < cutoff)
    )
    # Messages already delivered (or given up) have done their work: their text goes.
    messages = await session.execute(
        update(Outgoing)
        .where(
            Outgoing.status.in_((SENT, FAILED, UNREACHABLE, FOLDED)),
            Outgoing.due_at < cutoff,
            or_(Outgoing.text != "", Outgoing.file_content.is_not(None)),
        )
        .values(text="", buttons=[], file_content=None)
    )
    # Pushed lists' rows: the names, numbers and addresses go; the counts (area, reason,
    # outcome) stay for the figures.
    pushed_rows = await session.execute(
        update(PushedRow)
        .where(
            PushedRow.list_id.in_(select(PushedList.id).where(PushedList.imported_at < cutoff)),
            PushedRow.name != "",
        )
        .values(
            name="",
            id_number=None,
            phone=None,
            id_number_hash=None,
            phone_tail_hash=None,
            raw={},
            address="",
            note=None,
            moved_to=None,
            transfer_by=None,
            transfer_vehicle=None,
        )
    )
    await session.execute(
        delete(PushedInvite).where(
            PushedInvite.row_id.in_(
                select(PushedRow.id).where(
                    PushedRow.list_id.in_(
                        select(PushedList.id).where(PushedList.imported_at < cutoff)
                    )
                )
            )
        )
    )
    result = Purged(
        len(ids),
        int(getattr(conversations, "rowcount", 0) or 0),
        int(getattr(messages, "rowcount", 0) or 0),
        int(getattr(pushed_rows, "rowcount", 0) or 0),
    )
    if result.people or result.conversations or result.messages or result.pushed_rows:
        mark_erased(session)
        await audit(
            session,
            NOBODY,
            "purge",
            "residents",
            now,
            by=by,
            days=days,
            residents=ids,
            conversations=result.conversations,
            messages=result.messages,
            pushed_rows=result.pushed_rows,
        )
        log.info(
            "retention: purged %d people, %d unfinished conversations, %d sent messages, "
            "%d pushed lists' rows",
            result.people,
            result.conversations,
            result.messages,
            result.pushed_rows,
        )
    return result


async def erase(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    """Erase what identifies these residents (ids of people not purged yet), keep the rest."""
    if not ids:
        return
    mark_erased(session)
    households = set(
        (await session.scalars(select(Resident.household_id).where(Resident.id.in_(ids)))).all()
    )
    await _scrub_alerts(session, ids, households)
    await session.execute(
        update(Resident)
        .where(Resident.id.in_(ids))
        .values(
            name=None,
            phone=None,
            id_number=None,
            phone_tail_hash=None,
            id_number_hash=None,
            user_id=None,
            reporter_user_id=NOBODY,
            purged_at=now,
            updated_at=now,
        )
    )
    journeys = select(Arrival.id).where(Arrival.resident_id.in_(ids))
    await session.execute(
        update(Arrival)
        .where(Arrival.resident_id.in_(ids))
        .values(origin_text="", transport_number=None, seat=None, notes=None)
    )
    await session.execute(update(Stay).where(Stay.arrival_id.in_(journeys)).values(place_text=""))
    await session.execute(
        update(CheckIn)
        .where(CheckIn.resident_id.in_(ids))
        .values(where=None, extra={}, answered_by=None, reporter_user_id=NOBODY)
    )
    await session.execute(
        update(TestResult).where(TestResult.resident_id.in_(ids)).values(reported_by=NOBODY)
    )
    await session.execute(
        update(HelpRequest)
        .where(HelpRequest.resident_id.in_(ids))
        .values(text="", answer=None, user_id=NOBODY)
    )
    await session.execute(
        update(Change).where(Change.resident_id.in_(ids)).values(old=None, new=None)
    )
    # What a worker and they wrote to each other: the words go, the dates stay.
    await session.execute(
        update(ContactMessage)
        .where(ContactMessage.resident_id.in_(ids))
        .values(text="", user_id=NOBODY)
    )
    # A household's address goes with the last of its people.
    everyone_gone = ~exists().where(
        Resident.household_id == Household.id, Resident.purged_at.is_(None)
    )
    await session.execute(
        update(Household)
        .where(Household.id.in_(households), everyone_gone)
        .values(address=None, reporter_user_id=NOBODY)
    )


async def _scrub_alerts(session: AsyncSession, ids: Sequence[int], households: set[int]) -> None:
    """Alerts about them keep their kind and dates only; lists of names drop theirs."""
    gone = set(ids)
    names = {
        name
        for name in (await session.scalars(select(Resident.name).where(Resident.id.in_(ids)))).all()
        if name
    }
    housemates = select(Resident.id).where(Resident.household_id.in_(households))
    alerts = await session.scalars(
        select(Alert).where(or_(Alert.resident_id.in_(housemates), Alert.resident_id.is_(None)))
    )
    about_them: list[int] = []
    for alert in alerts:
        details = dict(alert.details or {})
        if alert.resident_id in gone:
            about_them.append(alert.id)
            kept = {k: v for k, v in details.items() if k in ANONYMOUS_DETAILS}
        else:
            kept = _without(details, gone, names)
        if kept != details:
            alert.details = kept
    if about_them:
        await session.execute(
            update(AlertAction).where(AlertAction.alert_id.in_(about_them)).values(note=None)
        )


def _without(details: dict[str, Any], gone: set[int], names: set[str]) -> dict[str, Any]:
    """A list of people (a re-screening, a household unreachable) without the erased ones."""
    result = dict(details)
    people, shown = details.get("residents"), details.get("names")
    if isinstance(people, list) and isinstance(shown, list) and len(people) == len(shown):
        pairs = [(i, n) for i, n in zip(people, shown, strict=True) if i not in gone]
        result["residents"] = [i for i, _ in pairs]
        result["names"] = [n for _, n in pairs]
    elif isinstance(shown, list):
        result["names"] = [n for n in shown if n not in names]
    return result


async def forget_now(session: AsyncSession, people: Sequence[Resident], now: datetime) -> None:
    """/forget: erase at once, with the messages already sent that name them."""
    marks = {m for p in people for m in (p.name, p.phone, p.id_number) if m and len(m) >= 2}
    since = min((p.created_at for p in people), default=now)
    users = {u for p in people for u in (p.user_id, p.reporter_user_id) if u}
    await erase(session, [p.id for p in people], now)
    # The texts are encrypted, so they are read here: those sent since the people reported,
    # to the chats that could have been told about them (their own and their reporter's, and
    # staff's).
    chats = select(Staff.chat_id).union(select(ChatUser.chat_id).where(ChatUser.id.in_(users)))
    sent = await session.scalars(
        select(Outgoing).where(
            Outgoing.status.in_((SENT, FAILED, UNREACHABLE, FOLDED)),
            Outgoing.text != "",
            Outgoing.due_at >= since,
            Outgoing.chat_id.in_(chats),
        )
    )
    for message in sent:
        if any(mark in message.text for mark in marks):
            message.text, message.buttons, message.file_content = "", [], None


async def open_plans(
    session: AsyncSession, people: Sequence[Resident]
) -> list[tuple[Resident, MonitoringPlan]]:
    """The plans still running (active or held) for these people: their data is needed."""
    found = []
    for person in people:
        plan = await session.scalar(
            select(MonitoringPlan)
            .where(
                MonitoringPlan.resident_id == person.id,
                MonitoringPlan.status.in_((ACTIVE, HELD)),
            )
            .order_by(MonitoringPlan.id.desc())
            .limit(1)
        )
        if plan is not None:
            found.append((person, plan))
    return found


__all__ = ["erase", "forget_now", "open_plans", "purge", "purge_expired"]
