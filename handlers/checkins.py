"""Daily check-ins while someone is under home isolation or home health monitoring.

Jobs (run by the scheduler, any number of times): open the check-ins of a slot and ask,
remind once after a while, and record the unanswered as missed when the slot ends, alerting
the grid worker. The conversation (/checkin, or the button in the prompt) asks temperature,
symptoms and whether they went out — for each person the user answers for, in turn.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import Reply, Send
from chat.i18n import N_, Translator
from handlers.chat import Chat
from handlers.forms import (
    Choice,
    Flow,
    Option,
    Outcome,
    Prompt,
    Step,
    Text,
    Turn,
    Widget,
    plain_text,
)
from handlers.report import SYMPTOMS, parse_temperature, symptoms_widget
from models.alerts import raise_alert
from models.chat import ChatUser
from models.checkins import CheckIn
from models.outbox import enqueue
from models.people import Resident
from models.plans import ACTIVE, MonitoringPlan

HOME_KINDS = frozenset({"home_isolation", "home_monitoring"})
FEVER = 37.3


def slots_of(day: date, times: Sequence[time], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The day's check-in slots: each runs until the next begins; the last until midnight."""
    starts = [datetime.combine(day, t, tzinfo=zone) for t in sorted(times)]
    ends = [*starts[1:], datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)]
    return list(zip(starts, ends, strict=True))


def at_home_on(plan: MonitoringPlan, day: date) -> bool:
    return any(
        p["kind"] in HOME_KINDS
        and date.fromisoformat(p["first"]) <= day <= date.fromisoformat(p["last"])
        for p in plan.phases
    )


async def open_checkins(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, times: Sequence[time]
) -> int:
    """Create the current slot's check-ins (once) and ask each household's reporter."""
    day = now.astimezone(zone).date()
    current = [(start, end) for start, end in slots_of(day, times, zone) if start <= now < end]
    if not current:
        return 0
    start, end = current[0]
    query = (
        select(MonitoringPlan, Resident)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .where(
            MonitoringPlan.status == ACTIVE,
            MonitoringPlan.starts_on <= day,
            MonitoringPlan.ends_on >= day,
            Resident.purged_at.is_(None),
        )
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    reporters: set[int] = set()
    for plan, resident in (await session.execute(query)).all():
        if not at_home_on(plan, day):
            continue
        statement = (
            insert(CheckIn)
            .values(
                plan_id=plan.id,
                resident_id=resident.id,
                reporter_user_id=resident.reporter_user_id,
                slot_start=start,
                slot_end=end,
                late=False,
                symptoms=[],
                extra={},
            )
            .on_conflict_do_nothing(index_elements=["plan_id", "slot_start"])
        )
        if (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
            reporters.add(resident.reporter_user_id)
    queued = 0
    for reporter in sorted(reporters):
        user = await session.get(ChatUser, reporter)
        if user is None:
            continue
        tr = Translator(user.language)
        queued += await enqueue(
            session,
            chat_id=user.chat_id,
            text=tr("🌡 Time for your health check-in. It takes a minute."),
            buttons=[[[tr("Answer now"), "/checkin"]]],
            purpose="checkin",
            dedupe_key=f"checkin:{reporter}:{start.isoformat()}",
            now=now,
        )
    return queued


async def remind_checkins(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, after: timedelta
) -> int:
    """One reminder for a check-in still unanswered a while into its slot."""
    query = select(CheckIn).where(
        CheckIn.answered_at.is_(None),
        CheckIn.reminded_at.is_(None),
        CheckIn.slot_start <= now - after,
        CheckIn.slot_end > now,
    )
    reporters: dict[int, datetime] = {}
    for checkin in await session.scalars(query):
        checkin.reminded_at = now
        reporters[checkin.reporter_user_id] = checkin.slot_start
    queued = 0
    for reporter, start in reporters.items():
        user = await session.get(ChatUser, reporter)
        if user is None:
            continue
        tr = Translator(user.language)
        queued += await enqueue(
            session,
            chat_id=user.chat_id,
            text=tr(
                "⏰ Reminder: your health check-in is still open. Please answer before it closes."
            ),
            buttons=[[[tr("Answer now"), "/checkin"]]],
            purpose="checkin_reminder",
            dedupe_key=f"checkin-reminder:{reporter}:{start.isoformat()}",
            now=now,
        )
    return queued


async def record_misses(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
    """A slot that ended unanswered is a missed check-in, and the grid worker is told."""
    query = (
        select(CheckIn, Resident)
        .join(Resident, Resident.id == CheckIn.resident_id)
        .where(CheckIn.answered_at.is_(None), CheckIn.missed_at.is_(None), CheckIn.slot_end <= now)
    )
    missed = 0
    for checkin, resident in (await session.execute(query)).all():
        checkin.missed_at = now
        missed += 1
        await raise_alert(
            session,
            grid_id=resident.grid_id,
            resident_id=resident.id,
            kind="missed_checkin",
            now=now,
            details={"slot": checkin.slot_start.astimezone(zone).strftime("%Y-%m-%d %H:%M")},
            dedupe_key=f"missed_checkin:{checkin.id}",
        )
    return missed


# ----- the conversation -----

CURRENT = "_checkins"  # the ids still to answer, the one being answered first


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
        newest.setdefault(checkin.resident_id, checkin)
    return list(newest.values())


@dataclass(frozen=True)
class ForPerson(Widget):
    """A check-in question, naming the person it is about (a household answers for several)."""

    inner: Widget
    key: str = ""

    async def load(self, turn: Turn, step: str) -> None:
        ids: list[int] = turn.answers.get(CURRENT) or []
        checkin = await turn.session.get(CheckIn, ids[0]) if ids else None
        resident = await turn.session.get(Resident, checkin.resident_id) if checkin else None
        turn.facts["person"] = html.escape(resident.name or "") if resident else ""
        await self.inner.load(turn, step)

    def prompt(self, turn: Turn, step: str) -> Prompt:
        return self.inner.prompt(turn, step)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        return self.inner.take(turn, pressed)


def _for(widget: Widget) -> ForPerson:
    return ForPerson(widget, widget.key)


WENT_OUT = (Option("no", N_("Stayed home")), Option("yes", N_("Went out")))


def parse_where(text: str, turn: Turn) -> str:
    return plain_text(text, turn)


def after_out(answers: dict[str, object]) -> str | None:
    return "ask_checkin_where" if answers.get("checkin_out") == "yes" else "__end__"


async def record_checkin(turn: Turn) -> list[Reply]:
    a, session, tr = turn.answers, turn.session, turn.tr
    ids: list[int] = a.get(CURRENT) or []
    checkin = await session.get(CheckIn, ids[0]) if ids else None
    temperature = a.pop("checkin_temperature", None)
    symptoms = [s for s in a.pop("checkin_symptoms", []) if s != "none"]
    went_out = a.pop("checkin_out", "no") == "yes"
    where = a.pop("checkin_where", None) if went_out else None
    if checkin is None or checkin.reporter_user_id != turn.user.id or checkin.answered_at:
        a.pop(CURRENT, None)
        return [Send(tr("That check-in is closed already."))]
    checkin.temperature, checkin.symptoms = temperature, symptoms
    checkin.went_out, checkin.where = went_out, where
    checkin.answered_at, checkin.answered_by = turn.now, turn.user.id
    checkin.late = turn.now >= checkin.slot_end
    resident = await session.get(Resident, checkin.resident_id)
    replies: list[Reply] = []
    abnormal = (temperature or 0) >= FEVER or bool(symptoms)
    if resident is not None and abnormal:
        labels = {o.value: tr(o.label) for o in SYMPTOMS}
        await raise_alert(
            session,
            grid_id=resident.grid_id,
            resident_id=resident.id,
            kind="fever" if (temperature or 0) >= FEVER else "symptoms",
            now=turn.now,
            details={
                "text": f"{temperature} °C; " + ", ".join(labels.get(s, s) for s in symptoms),
            },
            dedupe_key=f"checkin-abnormal:{checkin.id}",
        )
        replies.append(
            Send(
                tr(
                    "Recorded. Your grid worker has been told and will contact you; please stay at home and wear a mask."
                )
            )
        )
    else:
        replies.append(
            Send(tr("Recorded, thank you.") + (" " + tr("(late)") if checkin.late else ""))
        )
    a[CURRENT] = ids[1:]
    if a[CURRENT]:
        turn.goto = "ask_checkin_temperature"
    else:
        a.pop(CURRENT)
    return replies


CHECKIN = Flow(
    "checkin",
    (
        Step(
            "ask_checkin_temperature",
            _for(
                Text(
                    "checkin_temperature",
                    N_("{person}: temperature now (°C)? Press one or type it."),
                    N_("e.g. 36.8"),
                    parse_temperature,
                    12,
                    quick=("36.2", "36.5", "36.8", "37.0", "37.3", "37.5"),
                )
            ),
        ),
        Step(
            "ask_checkin_symptoms",
            _for(
                symptoms_widget(
                    "checkin_symptoms",
                    N_("{person}: any of these today? Choose all that apply, then Done."),
                )
            ),
        ),
        Step(
            "ask_checkin_out",
            _for(Choice("checkin_out", N_("{person}: did you go out today?"), WENT_OUT)),
            next=after_out,
        ),
        Step(
            "ask_checkin_where",
            _for(
                Text(
                    "checkin_where",
                    N_("Where did you go?"),
                    N_("e.g. the pharmacy on 新华路"),
                    parse_where,
                    200,
                )
            ),
            next="__end__",
        ),
    ),
    finish=record_checkin,
)


async def checkin(chat: Chat) -> list[Reply]:
    turn = chat.turn
    due = await due_for(turn.session, turn.user.id, turn.now)
    if not due:
        return [
            Send(turn.tr("There is no check-in to answer now. We will ask you at the next one."))
        ]
    turn.answers[CURRENT] = [c.id for c in due]
    return await chat.begin("ask_checkin_temperature")
