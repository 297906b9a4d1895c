"""Daily check-ins while someone is under home isolation or home health monitoring.

Jobs (run by the scheduler, any number of times): open the check-ins of a slot and ask,
remind once after a while, and record the unanswered as missed when the slot ends, alerting
the grid worker. `due_for` and `record_answer` serve the conversation (handlers/checkin.py),
which asks the questions and words the replies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, String, bindparam, cast, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import Buttons
from chat.i18n import N_, Translator
from models.alerts import Alert, raise_alert
from models.base import Base, insert_for
from models.chat import ChatUser
from models.checkins import CheckIn
from models.db import commit_chunk, defer_write
from models.outbox import Message, enqueue_many
from models.people import Arrival, Resident
from models.plans import ACTIVE, MonitoringPlan
from rules.health import abnormal, alert_kind, real_symptoms
from rules.policy import Policy
from services.buttons import CHECKIN
from services.release import SLOT_PURPOSES, sampling_notices

HOME_KINDS = frozenset({"home_isolation", "home_monitoring"})


def slots_of(day: date, times: Sequence[time], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The day's check-in slots: each runs until the next begins; the last until midnight."""
    starts = [datetime.combine(day, t, tzinfo=zone) for t in sorted(times)]
    ends = [*starts[1:], datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)]
    return list(zip(starts, ends, strict=True))


def at_home_on(plan: MonitoringPlan, day: date) -> bool:
    return _at_home(plan.phases, day)


def _at_home(phases: Sequence[dict[str, Any]], day: date) -> bool:
    return any(
        p["kind"] in HOME_KINDS
        and date.fromisoformat(p["first"]) <= day <= date.fromisoformat(p["last"])
        for p in phases
    )


def own_times(chosen: Sequence[str] | None, default: Sequence[time]) -> tuple[time, ...]:
    """A reporter's daily check-in times: those they chose with /time, else the bot's."""
    if chosen and len(chosen) == len(default):
        try:
            return tuple(sorted(time.fromisoformat(t) for t in chosen))
        except ValueError:
            pass
    return tuple(sorted(default))


def monitored_from(arrival: Arrival) -> datetime | None:
    """When monitoring of the journey starts: at arrival, or when the bot heard of it (the
    report, or the confirmation of a journey reported ahead), whichever is later; None while
    the person has not arrived."""
    return _begun(arrival.status, arrival.arrived_at, arrival.reported_at, arrival.confirmed_at)


def _begun(status: str, *moments: datetime | None) -> datetime | None:
    if status != "arrived":
        return None
    known = [m for m in moments if m]
    return max(known) if known else None


# Reporters taken together: their slot's messages and check-ins are written with a few
# statements per chunk and, when the scheduler runs the round, committed chunk by chunk
# (`commit_chunk`), so the first prompts leave while the next chunks are written and the
# event loop is never held by more than one chunk's rows. A chunk's rows built between two
# statements (texts rendered and encrypted, JSON, slots) were 20–45 ms of CPU at 500, the
# longest hold of the loop in a round of 20,000.
CHUNK = 250


async def _reporters_on(session: AsyncSession, now: datetime, day: date) -> list[int]:
    """Everyone who answers for a plan running that day (arrived, not erased) that may have
    something due now, in order: a plan whose person has a check-in open now has had this
    slot's prompt, so it is left out unless today is one of its test days (the notices).
    Between slots the job then reads next to nothing."""
    asked = (
        select(CheckIn.id)
        .where(
            CheckIn.resident_id == Resident.id,
            CheckIn.slot_start <= now,
            CheckIn.slot_end > now,
        )
        .exists()
    )
    # The test days are a JSON list of ISO dates: its text holds the day in quotes.
    testing = cast(MonitoringPlan.test_days, String).like(f'%"{day.isoformat()}"%')
    query = (
        select(Resident.reporter_user_id)
        .distinct()
        .join(MonitoringPlan, MonitoringPlan.resident_id == Resident.id)
        .join(Arrival, Arrival.id == MonitoringPlan.arrival_id)
        .where(
            MonitoringPlan.status == ACTIVE,
            MonitoringPlan.starts_on <= day,
            MonitoringPlan.ends_on >= day,
            Resident.purged_at.is_(None),
            Arrival.status == "arrived",
            or_(~asked, testing),
        )
        .order_by(Resident.reporter_user_id)
    )
    return list(await session.scalars(query))


async def _in_chunks(
    session: AsyncSession,
    now: datetime,
    day: date,
    size: int,
    step: Callable[[list[int]], Awaitable[int]],
) -> int:
    """`step` over the day's reporters, `size` at a time, committing after each where the
    session's owner allows it. A household's messages all fall in one chunk."""
    reporters = await _reporters_on(session, now, day)
    done = 0
    for first in range(0, len(reporters), size):
        done += await step(reporters[first : first + size])
        await commit_chunk(session)
    return done


async def open_checkins(
    session: AsyncSession,
    now: datetime,
    zone: ZoneInfo,
    *,
    times: Sequence[time],
    grace: timedelta = timedelta(hours=1),
    chunk: int = CHUNK,
) -> int:
    """Create the current slot's check-ins (once) and ask each household's reporter.

    Each reporter's slots follow their own times (/time). Nobody is asked before they have
    arrived, nor for a slot that opened less than `grace` after their arrival (or report)."""
    day = now.astimezone(zone).date()

    async def step(reporters: list[int]) -> int:
        return await _open_for(session, reporters, now, zone, times=times, grace=grace)

    return await _in_chunks(session, now, day, chunk, step)


async def _open_for(
    session: AsyncSession,
    reporters: Sequence[int],
    now: datetime,
    zone: ZoneInfo,
    *,
    times: Sequence[time],
    grace: timedelta,
) -> int:
    """`open_checkins` for these reporters: one read of their plans, one of the check-ins
    they have today, one `INSERT` of the new check-ins and one of the prompts."""
    day = now.astimezone(zone).date()
    query = (
        select(
            MonitoringPlan.id,
            MonitoringPlan.phases,
            Resident.id,
            Resident.grid_id,
            Resident.reporter_user_id,
            Arrival.status,
            Arrival.arrived_at,
            Arrival.reported_at,
            Arrival.confirmed_at,
            ChatUser.checkin_times,
        )
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .join(Arrival, Arrival.id == MonitoringPlan.arrival_id)
        .outerjoin(ChatUser, ChatUser.id == Resident.reporter_user_id)
        .where(
            Resident.reporter_user_id.in_(reporters),
            MonitoringPlan.status == ACTIVE,
            MonitoringPlan.starts_on <= day,
            MonitoringPlan.ends_on >= day,
            Resident.purged_at.is_(None),
            Arrival.status == "arrived",
        )
        .order_by(MonitoringPlan.id)
    )
    plans = (await session.execute(query)).all()
    if not plans:
        return 0
    # Each person's check-ins already open today: a reporter who moved their times keeps the
    # slot they had, and a plan replaced mid-slot (re-screening) asks nothing twice.
    since = datetime.combine(day, time(0), tzinfo=zone)
    taken: dict[int, list[tuple[datetime, datetime]]] = {}
    # Driven from the chunk's reporters (a range: the chunk is in order): a list of 500 ids
    # against check-ins was read row by row against the list (PostgreSQL's generic plan) as
    # the round filled the table, each chunk slower than the one before.
    for resident_id, slot_start, slot_end in await session.execute(
        select(CheckIn.resident_id, CheckIn.slot_start, CheckIn.slot_end)
        .join(Resident, Resident.id == CheckIn.resident_id)
        .where(
            Resident.reporter_user_id.between(reporters[0], reporters[-1]),
            CheckIn.slot_end > since,
        )
    ):
        taken.setdefault(resident_id, []).append((slot_start, slot_end))
    rows: list[dict[str, Any]] = []
    slot_of: dict[int, tuple[int, datetime]] = {}
    own: dict[int, list[tuple[datetime, datetime]]] = {}
    for plan_id, phases, resident_id, grid_id, reporter, status, *moments, chosen in plans:
        if not _at_home(phases, day):
            continue
        if reporter not in own:
            own[reporter] = slots_of(day, own_times(chosen, times), zone)
        current = [(start, end) for start, end in own[reporter] if start <= now < end]
        begun = _begun(status, *moments)
        if not current or begun is None or current[0][0] < begun + grace:
            continue
        start, end = current[0]
        if any(s < end and start < e for s, e in taken.get(resident_id, ())):
            continue
        rows.append(
            {
                "plan_id": plan_id,
                "resident_id": resident_id,
                "grid_id": grid_id,
                "reporter_user_id": reporter,
                "slot_start": start,
                "slot_end": end,
                "late": False,
                "symptoms": [],
                "extra": {},
            }
        )
        slot_of[plan_id] = (reporter, start)
    if not rows:
        return 0
    insert = insert_for(session.get_bind().dialect.name)
    table = Base.metadata.tables[CheckIn.__tablename__]
    created = await session.scalars(
        insert(table)
        .on_conflict_do_nothing(index_elements=["plan_id", "slot_start"])
        .returning(table.c.plan_id),
        rows,
    )
    asked: dict[int, datetime] = {}
    for plan_id in created:
        reporter, start = slot_of[plan_id]
        asked[reporter] = start
    return await _ask_reporters(
        session, {reporter: asked[reporter] for reporter in sorted(asked)}, now, reminder=False
    )


async def set_own_times(session: AsyncSession, user_id: int, times: Sequence[time]) -> None:
    """The user's own daily check-in times (/time), from their next slot on."""
    user = await session.get(ChatUser, user_id)
    if user is not None:
        user.checkin_times = [t.strftime("%H:%M") for t in sorted(times)]


async def answers_for_someone(session: AsyncSession, user_id: int) -> bool:
    """Whether the user answers check-ins for anyone under a plan now."""
    query = (
        select(MonitoringPlan.id)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .where(Resident.reporter_user_id == user_id, MonitoringPlan.status == ACTIVE)
        .limit(1)
    )
    return await session.scalar(query) is not None


async def slot_round(
    session: AsyncSession,
    now: datetime,
    zone: ZoneInfo,
    *,
    times: Sequence[time],
    grace: timedelta = timedelta(hours=1),
    chunk: int = CHUNK,
) -> int:
    """What a slot brings, in order: the test-day notice, the test question, the check-in
    prompt; for one chat they go as one message (`SLOT_PURPOSES`). Reporters are taken
    `chunk` at a time, each chunk with everything its chats get (so nothing of one chat is
    sent before the rest is written), committed as it goes when the scheduler runs it."""
    day = now.astimezone(zone).date()

    async def step(reporters: list[int]) -> int:
        queued = await sampling_notices(session, now, zone, times=times, reporters=reporters)
        return queued + await _open_for(session, reporters, now, zone, times=times, grace=grace)

    return await _in_chunks(session, now, day, chunk, step)


async def remind_checkins(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, after: timedelta, chunk: int = CHUNK
) -> int:
    """One reminder for a check-in still unanswered a while into its slot: `chunk` reporters
    at a time, each chunk's check-ins marked and reminders queued together (and committed as
    it goes when the scheduler runs it)."""
    due = (
        CheckIn.answered_at.is_(None),
        CheckIn.reminded_at.is_(None),
        CheckIn.slot_start <= now - after,
        CheckIn.slot_end > now,
    )
    reporters = list(
        await session.scalars(
            select(CheckIn.reporter_user_id)
            .distinct()
            .where(*due)
            .order_by(CheckIn.reporter_user_id)
        )
    )
    queued = 0
    for first in range(0, len(reporters), chunk):
        marked = await session.execute(
            update(CheckIn)
            .where(*due, CheckIn.reporter_user_id.in_(reporters[first : first + chunk]))
            .values(reminded_at=now)
            .returning(CheckIn.reporter_user_id, CheckIn.slot_start)
            .execution_options(synchronize_session=False)
        )
        slots: dict[int, datetime] = {}
        for reporter, start in marked:
            slots[reporter] = start
        queued += await _ask_reporters(
            session, {reporter: slots[reporter] for reporter in sorted(slots)}, now, reminder=True
        )
        await commit_chunk(session)
    return queued


PROMPT = N_("🌡 Time for your health check-in. It takes a minute.")
REMINDER = N_("⏰ Reminder: your health check-in is still open. Please answer before it closes.")

# The prompt's buttons: one tap when all is well, or each question in turn.
ALL_WELL = N_("✅ All well (normal temperature, no symptoms, stayed home)")
SOMETHING_TO_REPORT = N_("Something to report: answer each question")
ALL_WELL_ARG = "ok"


async def _ask_reporters(
    session: AsyncSession, slots: dict[int, datetime], now: datetime, *, reminder: bool
) -> int:
    """The check-in prompt (or its reminder) to each reporter, for the slot starting at the
    time given, once per reporter and slot; how many were queued."""
    if not slots:
        return 0
    purpose = "checkin_reminder" if reminder else "checkin"
    key = purpose.replace("_", "-")
    texts: dict[str | None, tuple[str, Buttons]] = {}
    messages = []
    for user_id, chat_id, language in await session.execute(
        select(ChatUser.id, ChatUser.chat_id, ChatUser.language)
        .where(ChatUser.id.in_(slots))
        .order_by(ChatUser.id)
    ):
        if language not in texts:
            tr = Translator(language)
            texts[language] = (
                tr(REMINDER if reminder else PROMPT),
                (
                    (CHECKIN.button(tr(ALL_WELL), ALL_WELL_ARG),),
                    (CHECKIN.button(tr(SOMETHING_TO_REPORT)),),
                ),
            )
        text, buttons = texts[language]
        messages.append(
            Message(
                chat_id=chat_id,
                text=text,
                buttons=buttons,
                purpose=purpose,
                dedupe_key=f"{key}:{user_id}:{slots[user_id].isoformat()}",
            )
        )
    return await enqueue_many(session, messages, now=now, fold_with=SLOT_PURPOSES)


def is_closed(checkin: CheckIn) -> bool:
    """A check-in of a plan superseded while it was open by one that asks none that day:
    neither due nor missed."""
    return bool((checkin.extra or {}).get("closed"))


async def carry_over(
    session: AsyncSession,
    previous: MonitoringPlan,
    plan: MonitoringPlan,
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """A plan superseded: its check-ins still open go on under the new plan if that one asks
    them that day, else they are closed (not missed)."""
    query = select(CheckIn).where(
        CheckIn.plan_id == previous.id, CheckIn.answered_at.is_(None), CheckIn.slot_end > now
    )
    for checkin in await session.scalars(query):
        if at_home_on(plan, checkin.slot_start.astimezone(zone).date()):
            checkin.plan_id = plan.id
        else:
            checkin.extra = {**(checkin.extra or {}), "closed": now.isoformat()}


async def record_misses(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
    """A slot that ended unanswered is a missed check-in, and the grid worker is told."""
    query = (
        select(CheckIn, Resident)
        .join(Resident, Resident.id == CheckIn.resident_id)
        .where(CheckIn.answered_at.is_(None), CheckIn.missed_at.is_(None), CheckIn.slot_end <= now)
    )
    missed = 0
    for checkin, resident in (await session.execute(query)).all():
        if is_closed(checkin):
            continue
        checkin.missed_at = now
        missed += 1
        await raise_alert(
            session,
            grid_id=resident.grid_id,
            resident_id=resident.id,
            kind="missed_checkin",
            now=now,
            details={
                "slot": checkin.slot_start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "slot_at": checkin.slot_start.isoformat(),
                "checkin": checkin.id,
            },
            dedupe_key=f"missed_checkin:{checkin.id}",
            checkin_slot_end=checkin.slot_end,
        )
    return missed


async def due_for(session: AsyncSession, user_id: int, now: datetime) -> list[CheckIn]:
    """Open or missed-today check-ins of everyone the user answers for (late answers count)."""
    query = (
        select(CheckIn)
        .where(
            CheckIn.reporter_user_id == user_id,
            CheckIn.answered_at.is_(None),
            CheckIn.slot_start <= now,
            CheckIn.slot_end > now - timedelta(hours=24),
        )
        .order_by(CheckIn.resident_id, CheckIn.slot_start.desc())
    )
    newest: dict[int, CheckIn] = {}
    for checkin in await session.scalars(query):
        if not is_closed(checkin):
            newest.setdefault(checkin.resident_id, checkin)
    return list(newest.values())


_CHECKINS = Base.metadata.tables[CheckIn.__tablename__]
_RESIDENTS = Base.metadata.tables[Resident.__tablename__]
# Built once (each check-in answer runs it): the columns an answer needs, no ORM objects.
_CHECKIN_PERSON = (
    select(
        _CHECKINS.c.id,
        _CHECKINS.c.reporter_user_id,
        _CHECKINS.c.resident_id,
        _CHECKINS.c.slot_start,
        _CHECKINS.c.slot_end,
        _CHECKINS.c.answered_at,
        _CHECKINS.c.extra,
        _RESIDENTS.c.name,
        _RESIDENTS.c.grid_id,
    )
    .join(_RESIDENTS, _RESIDENTS.c.id == _CHECKINS.c.resident_id)
    .where(_CHECKINS.c.id == bindparam("checkin_id"))
)


async def _checkin_and_person(
    session: AsyncSession, checkin_id: int, kept: dict[object, object]
) -> Row[Any] | None:
    """The check-in with its person (`_CHECKIN_PERSON`), read once per unit of work."""
    key = (CheckIn, checkin_id)
    if key not in kept:
        kept[key] = (await session.execute(_CHECKIN_PERSON, {"checkin_id": checkin_id})).first()
    found = kept[key]
    return found if isinstance(found, Row) else None


async def checkin_person(session: AsyncSession, checkin_id: int, kept: dict[object, object]) -> str:
    """The name of the person a check-in is about. The check-in and the person are read with
    one statement and kept (in `kept`, the caller's for its unit of work), so answering it
    (`record_answer`) reads neither again."""
    found = await _checkin_and_person(session, checkin_id, kept)
    return (found.name or "") if found is not None else ""


@dataclass(frozen=True)
class Recorded:
    """A check-in answer as saved: whether it was late and whether the worker was alerted."""

    late: bool
    abnormal: bool


async def needs_reading(session: AsyncSession, checkin_id: int, policy: Policy) -> bool:
    """Whether the check-in's plan asks for a temperature at every check-in (policy
    `temperature_reading`): then one tap "all well" still asks the temperature."""
    checkin = await session.get(CheckIn, checkin_id)
    plan = await session.get(MonitoringPlan, checkin.plan_id) if checkin else None
    rules = policy.plans.get(plan.plan_key) if plan else None
    return rules is not None and rules.temperature_reading


async def onset_on_file(session: AsyncSession, checkin_id: int) -> bool:
    """Whether the person of the check-in has said when their symptoms began (asked once,
    when a symptom first appears)."""
    checkin = await session.get(CheckIn, checkin_id)
    if checkin is None:
        return False
    extras = await session.scalars(
        select(CheckIn.extra).where(
            CheckIn.resident_id == checkin.resident_id, CheckIn.answered_at.is_not(None)
        )
    )
    return any(isinstance(extra, dict) and extra.get("onset") for extra in extras)


async def record_answer(
    session: AsyncSession,
    checkin_id: int | None,
    *,
    user_id: int,
    now: datetime,
    temperature: float | None,
    symptoms: Sequence[str],
    went_out: bool,
    where: str | None,
    symptom_label: Callable[[str], str],
    antipyretic: bool | None = None,
    onset: date | None = None,
    medicine_label: str = "",
    kept: dict[object, object] | None = None,
) -> Recorded | None:
    """Save the answer to a check-in the user answers for; None if it is not theirs to answer
    (any more). A fever, a symptom or fever-reducing medicine (`antipyretic`: the reading
    cannot be trusted) raises an alert for the grid's workers. `onset`: the day the symptoms
    began, when asked."""
    found = (
        await _checkin_and_person(session, checkin_id, {} if kept is None else kept)
        if checkin_id is not None
        else None
    )
    if found is None or found.reporter_user_id != user_id or found.answered_at:
        return None
    symptoms = real_symptoms(symptoms)
    late = now >= found.slot_end
    if late:
        # Its missed check-in's alert is no longer open (the report counts it by this).
        await session.execute(
            update(Alert)
            .where(Alert.dedupe_key == f"missed_checkin:{found.id}")
            .values(checkin_settled_at=now)
        )
    extra = dict(found.extra or {})
    if antipyretic is not None:
        extra["antipyretic"] = antipyretic
    if onset is not None:
        extra["onset"] = onset.isoformat()
    # One UPDATE built once, not an ORM object changed and flushed; on PostgreSQL it goes with
    # the unit of work's next statement (the conversation's, for a check-in's last answer).
    answer = {
        "b_id": found.id,
        "b_temperature": temperature,
        "b_symptoms": symptoms,
        "b_went_out": went_out,
        "b_where": where if went_out else None,
        "b_now": now,
        "b_by": user_id,
        "b_late": late,
        "b_extra": extra,
    }
    if not defer_write(session, _ANSWER, answer):
        await session.execute(_ANSWER, answer)
    worrying = abnormal(temperature, symptoms, antipyretic=bool(antipyretic))
    if worrying:
        said = [f"{temperature} °C" if temperature is not None else ""]
        said += [medicine_label] if antipyretic else []
        said += [", ".join(symptom_label(s) for s in symptoms)]
        await raise_alert(
            session,
            grid_id=found.grid_id,
            resident_id=found.resident_id,
            kind=alert_kind(temperature, antipyretic=bool(antipyretic)),
            now=now,
            details={
                "text": "; ".join(part for part in said if part),
                "temperature": temperature,
                "symptoms": list(symptoms),
                "antipyretic": bool(antipyretic),
                "slot_at": found.slot_start.isoformat(),
                "checkin": found.id,
            },
            dedupe_key=f"checkin-abnormal:{found.id}",
        )
    return Recorded(late=late, abnormal=worrying)


def _typed(name: str, column: str) -> Any:
    return bindparam(name, type_=_CHECKINS.c[column].type)


_ANSWER = (
    update(_CHECKINS)
    .where(_CHECKINS.c.id == bindparam("b_id"))
    .values(
        temperature=_typed("b_temperature", "temperature"),
        symptoms=_typed("b_symptoms", "symptoms"),
        went_out=_typed("b_went_out", "went_out"),
        where=_typed("b_where", "where"),
        answered_at=_typed("b_now", "answered_at"),
        answered_by=_typed("b_by", "answered_by"),
        late=_typed("b_late", "late"),
        extra=_typed("b_extra", "extra"),
    )
)
