"""Test days and the end of a plan: the morning sampling notice, the evening result question,
release once the plan's negatives are in — or the plan held open and the worker told, never a
silent release — and the notice when one phase hands over to the next ("14+7").
`save_test_result` serves the /test button (handlers/checkin.py), which words the reply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import N_, Translator
from models.alerts import raise_alert
from models.chat import ChatUser
from models.checkins import TestResult
from models.outbox import Message, enqueue, enqueue_many
from models.people import Arrival, Resident
from models.plans import ACTIVE, HELD, RELEASED, MonitoringPlan
from services.buttons import TEST_RESULT
from services.papers import release_certificate
from services.vocabulary import TEST_ANSWERS
from services.wording import phase_text, whose


async def _plans_on(
    session: AsyncSession, day: date, statuses: Sequence[str] = (ACTIVE,)
) -> list[tuple[MonitoringPlan, Resident, ChatUser]]:
    query = (
        select(MonitoringPlan, Resident, ChatUser)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .join(ChatUser, ChatUser.id == Resident.reporter_user_id)
        .where(MonitoringPlan.status.in_(statuses), Resident.purged_at.is_(None))
        .where(MonitoringPlan.starts_on <= day)
    )
    return [(p, r, u) for p, r, u in (await session.execute(query)).all()]


# What a slot brings one person: folded into one message where they fall at one moment.
SLOT_PURPOSES = ("test_notice", "test_question", "checkin", "checkin_reminder")


async def sampling_notices(
    session: AsyncSession,
    now: datetime,
    zone: ZoneInfo,
    *,
    times: Sequence[time],
    reporters: Sequence[int] | None = None,
) -> int:
    """Morning of a test day: sample at home today. Evening (the last slot): the result?
    `reporters`: only the plans these users answer for (a chunk of the slot's round)."""
    local = now.astimezone(zone)
    day, clock = local.date(), local.time()
    first, last = min(times), max(times)
    if clock < first:
        return 0
    # The plans' test days first (plain rows): only the few with a test today are loaded.
    query = (
        select(MonitoringPlan.id, MonitoringPlan.test_days)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .join(Arrival, Arrival.id == MonitoringPlan.arrival_id)
        .where(
            MonitoringPlan.status == ACTIVE,
            MonitoringPlan.starts_on <= day,
            MonitoringPlan.ends_on >= day,
            Resident.purged_at.is_(None),
            Arrival.status == "arrived",  # nothing before the person has arrived
        )
    )
    if reporters is not None:
        query = query.where(Resident.reporter_user_id.in_(reporters))
    today = day.isoformat()
    testing = [plan_id for plan_id, test_days in await session.execute(query) if today in test_days]
    if not testing:
        return 0
    messages: list[Message] = []
    for plan, resident, user in await session.execute(
        select(MonitoringPlan, Resident, ChatUser)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .join(ChatUser, ChatUser.id == Resident.reporter_user_id)
        .where(MonitoringPlan.id.in_(testing))
        .order_by(Resident.reporter_user_id, MonitoringPlan.id)
    ):
        tr = Translator(user.language)
        # Where the sample is taken follows the plan: at home, or at the quarantine site.
        kind = next(
            (
                p["kind"]
                for p in plan.phases
                if date.fromisoformat(p["first"]) <= day <= date.fromisoformat(p["last"])
            ),
            None,
        )
        notice = (
            N_("🧪 Today is a test day: staff take your nucleic-acid sample at the site.")
            if kind == "centralised"
            else N_(
                "🧪 Today is a test day: a nucleic-acid sample is taken at home. Please stay in."
            )
        )
        messages.append(
            Message(
                chat_id=user.chat_id,
                text=whose(resident) + tr(notice),
                purpose="test_notice",
                dedupe_key=f"test-notice:{plan.id}:{today}",
            )
        )
        if clock >= last:
            buttons = (
                tuple(
                    TEST_RESULT.button(tr(label), plan.id, today, value)
                    for value, label in TEST_ANSWERS.items()
                ),
            )
            messages.append(
                Message(
                    chat_id=user.chat_id,
                    text=whose(resident) + tr("🧪 What was today's test result?"),
                    buttons=buttons,
                    purpose="test_question",
                    dedupe_key=f"test-question:{plan.id}:{today}",
                )
            )
    return await enqueue_many(session, messages, now=now, fold_with=SLOT_PURPOSES)


@dataclass(frozen=True)
class TestSaved:
    """What a test result answer did: `result` as recorded, `repeated` when the same negative
    was already in, `released` when it completed the negatives of a plan held open."""

    result: str
    repeated: bool = False
    released: bool = False


async def save_test_result(
    session: AsyncSession, *, user_id: int, args: str, now: datetime, zone: ZoneInfo
) -> TestSaved | None:
    """/test PLAN DAY RESULT, from the result question's buttons; None when the question is
    not the user's (any more). A positive result alerts the grid's workers at once."""
    parts = args.split()
    plan = None
    if len(parts) == 3 and parts[0].isdigit() and parts[2] in TEST_ANSWERS:
        plan = await session.get(MonitoringPlan, int(parts[0]))
    resident = await session.get(Resident, plan.resident_id) if plan else None
    if (
        plan is None
        or resident is None
        or resident.reporter_user_id != user_id
        or parts[1] not in plan.test_days
    ):
        return None
    day, result = date.fromisoformat(parts[1]), parts[2]
    existing = await session.scalar(
        select(TestResult).where(TestResult.plan_id == plan.id, TestResult.day == day)
    )
    if existing is None:
        existing = TestResult(
            plan_id=plan.id,
            resident_id=resident.id,
            day=day,
            result=result,
            reported_at=now,
            reported_by=user_id,
        )
        session.add(existing)
    elif existing.result == "negative" and result == "negative":
        return TestSaved(result, repeated=True)
    existing.result, existing.reported_at = result, now
    if result == "positive":
        await raise_alert(
            session,
            grid_id=resident.grid_id,
            resident_id=resident.id,
            kind="positive_test",
            now=now,
            details={"text": day.isoformat(), "day": day.isoformat()},
            dedupe_key=f"positive:{plan.id}:{day.isoformat()}",
        )
        return TestSaved(result)
    released = False
    if result == "negative" and plan.status == HELD:
        released = await _try_release(session, plan, resident, now, zone)
    return TestSaved(result, released=released)


async def _negatives(session: AsyncSession, plan: MonitoringPlan) -> int:
    query = (
        select(func.count())
        .select_from(TestResult)
        .where(TestResult.plan_id == plan.id, TestResult.result == "negative")
    )
    return int(await session.scalar(query) or 0)


async def _try_release(
    session: AsyncSession, plan: MonitoringPlan, resident: Resident, now: datetime, zone: ZoneInfo
) -> bool:
    user = await session.get(ChatUser, resident.reporter_user_id)
    if await _negatives(session, plan) < plan.negatives_needed:
        return False
    plan.status, plan.ended_at = RELEASED, now
    if user is not None:
        tr = Translator(user.language)
        await enqueue(
            session,
            chat_id=user.chat_id,
            text=whose(resident)
            + tr(
                "🎉 Your monitoring has ended: you are released. Thank you for your care. Keep your health code and a mask at hand."
            ),
            purpose="release",
            dedupe_key=f"release:{plan.id}",
            now=now,
        )
    await release_certificate(session, plan, resident, now, zone)
    await raise_alert(
        session,
        grid_id=resident.grid_id,
        resident_id=resident.id,
        kind="released",
        now=now,
        details={"plan": plan.plan_key, "plan_id": plan.id},
        dedupe_key=f"released:{plan.id}",
    )
    return True


async def end_plans(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
    """The day after a plan's last day: release it if its negatives are in, else hold it."""
    today = now.astimezone(zone).date()
    ended = 0
    for plan, resident, _user in await _plans_on(session, today):
        if plan.ends_on >= today:
            continue
        ended += 1
        if await _try_release(session, plan, resident, now, zone):
            continue
        plan.status = HELD
        await raise_alert(
            session,
            grid_id=resident.grid_id,
            resident_id=resident.id,
            kind="release_held",
            now=now,
            details={
                "text": f"{await _negatives(session, plan)}/{plan.negatives_needed}",
                "negatives": await _negatives(session, plan),
                "needed": plan.negatives_needed,
                "plan_id": plan.id,
            },
            dedupe_key=f"held:{plan.id}",
        )
    return ended


async def phase_changes(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
    """On the first day of a plan's next phase, say what it is and until when."""
    today = now.astimezone(zone).date()
    queued = 0
    for plan, resident, user in await _plans_on(session, today):
        for index, phase in enumerate(plan.phases):
            if index == 0 or phase["first"] != today.isoformat():
                continue
            tr = Translator(user.language)
            text = phase_text(phase, tr)
            queued += await enqueue(
                session,
                chat_id=user.chat_id,
                text=whose(resident) + tr("From today: {phase}.", phase=text),
                purpose="phase_change",
                dedupe_key=f"phase:{plan.id}:{index}",
                now=now,
            )
    return queued


__all__ = ["end_plans", "phase_changes", "sampling_notices", "save_test_result"]
