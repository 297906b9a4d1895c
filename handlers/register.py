"""The grid worker's commands over the register of their areas: today at a glance, expected
arrivals, who is under which monitoring, missed check-ins, finding and opening a person's
record, and cumulative figures.

Every command is `staff_only` and every read goes through the worker's `Scope`
(services/records.py); a record named by an id outside it is answered exactly as one that
does not exist. Every record view is written to the audit log.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from chat.buttons import CommandData
from chat.contract import Buttons, Edit, Kind, Reply, Send
from chat.i18n import N_, Translator
from handlers.context import Chat, Turn
from handlers.staff import staff_only
from models.areas import lineage
from models.chat import ChatUser
from models.checkins import CheckIn, TestResult
from models.contact import TO_RESIDENT, messages_of
from models.people import (
    Arrival,
    Resident,
)
from models.plans import ACTIVE, HELD, RELEASED, SUPERSEDED, MonitoringPlan
from models.staff import audit
from services.buttons import WRITE
from services.checkins import own_times
from services.papers import paper_by_code
from services.records import (
    Record,
    Scope,
    abnormal_arrival,
    abnormal_checkin,
    checkin_summary,
    day_of,
    find_people,
    missed,
    parse_id,
    people_query,
    phase_on,
    proxy_of,
    record_of,
    scoped,
    symptom_names,
)
from services.vocabulary import (
    HEALTH_CODES,
    PHASE_NAMES,
    PLAN_STATES,
    RELATION_NAMES,
    TEST_ANSWERS,
    TRANSPORTS,
)
from services.wording import (
    day_text,
    moment_text,
    option_name,
    phase_text,
    place_name,
    reason_text,
    slot_text,
    temperature_text,
)

PERSON = CommandData("person")

PAGE_SIZE = 15
LIST_CAP = 10
FIND_CAP = 10
# Days /missed looks back, today included.
MISSED_DAYS = 3


def who(person: Resident) -> str:
    """#12 Li Na · +86…: the number opens the record with /person."""
    parts = [person.name or "?", person.phone or ""]
    return f"#{person.id} " + html.escape(" · ".join(p for p in parts if p))


def labelled(tr: Translator, label: str, value: str) -> str:
    return html.escape(tr.label(label, value))


def clock_time(moment: datetime | None, turn: Turn) -> str:
    return moment.astimezone(turn.zone).strftime("%H:%M") if moment else ""


def stamp(moment: datetime | None, turn: Turn) -> str:
    return moment_text(moment, turn.zone, turn.tr) if moment else ""


def today_of(turn: Turn) -> date:
    return turn.now.astimezone(turn.zone).date()


def start_of(day: date, turn: Turn) -> datetime:
    return datetime.combine(day, time(0), tzinfo=turn.zone)


def where(scope: Scope, limit: int = 300) -> str:
    names = "、".join(a.name for a in scope.areas)
    return html.escape(names if len(names) <= limit else names[: limit - 1] + "…")


# ----- lists that page -----


@dataclass(frozen=True)
class Entry:
    """One line of a list, under a heading (shown again on every page it continues on)."""

    heading: str
    line: str


def paged(
    chat: Chat, title: str, entries: Sequence[Entry], command: str, empty: str
) -> list[Reply]:
    """A page of the list; ‹ › buttons turn the page in place (`/command N`)."""
    tr, event = chat.turn.tr, chat.turn.event
    if not entries:
        return [Send(f"<b>{title}</b>\n{empty}")]
    pages = math.ceil(len(entries) / PAGE_SIZE)
    asked = chat.args.strip()
    page = min(max(int(asked), 1), pages) if asked.isdigit() and len(asked) < 6 else 1
    lines = [f"<b>{title}</b>"]
    heading: str | None = None
    for entry in entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        if entry.heading != heading:
            heading = entry.heading
            lines.append("")
            if heading:
                lines.append(f"<b>{heading}</b>")
        lines.append(entry.line)
    buttons: Buttons = ()
    if pages > 1:
        lines += ["", tr("Page {page} of {pages}", page=page, pages=pages)]
        row = []
        if page > 1:
            row.append(CommandData(command).button("‹", page - 1))
        if page < pages:
            row.append(CommandData(command).button("›", page + 1))
        buttons = (tuple(row),)
    text = "\n".join(lines)
    if event.kind is Kind.BUTTON and event.message_id is not None and asked.isdigit():
        return [Edit(event.message_id, text, buttons)]
    return [Send(text, buttons=buttons)]


def capped(lines: list[str], tr: Translator, more: str) -> list[str]:
    if len(lines) <= LIST_CAP:
        return lines
    rest = len(lines) - LIST_CAP
    return [*lines[:LIST_CAP], tr("…and {n} more ({command})", n=rest, command=more)]


# ----- /today -----


@staff_only
async def today(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr, session = chat.turn, chat.turn.tr, chat.turn.session
    day = today_of(turn)
    start, end = start_of(day, turn), start_of(day + timedelta(days=1), turn)
    reported = await scoped(
        session, scope, Arrival, Arrival.reported_at >= start, Arrival.reported_at < end
    )
    arrived = await scoped(
        session,
        scope,
        Arrival,
        Arrival.status == "arrived",
        Arrival.arrived_at >= start,
        Arrival.arrived_at < end,
    )
    expected = await scoped(
        session,
        scope,
        Arrival,
        Arrival.status == "expected",
        Arrival.expected_at >= turn.now,
        Arrival.expected_at < end,
    )
    slots = await scoped(
        session, scope, CheckIn, CheckIn.slot_start >= start, CheckIn.slot_start <= turn.now
    )
    answered = [c for c, _ in slots if c.answered_at is not None]
    abnormal = [
        f"• {who(person)}: "
        + html.escape(
            _checkin_health(checkin, tr) + tr.paren(slot_text(checkin.slot_start, turn.zone, tr))
        )
        for checkin, person in slots
        if abnormal_checkin(checkin)
    ]
    abnormal += [
        f"• {who(person)}: " + html.escape(tr("at arrival") + " " + _arrival_health(arrival, tr))
        for arrival, person in reported
        if abnormal_arrival(arrival)
    ]
    abnormal += [
        f"• {who(person)}: " + html.escape(tr("positive test") + tr.paren(day_text(test.day, tr)))
        for test, person in await scoped(
            session,
            scope,
            TestResult,
            TestResult.result == "positive",
            TestResult.reported_at >= start,
            TestResult.reported_at < end,
        )
    ]
    misses = [
        f"• {who(person)}: {html.escape(slot_text(checkin.slot_start, turn.zone, tr))}"
        for checkin, person in slots
        if missed(checkin, turn.now) and checkin.answered_at is None
    ]
    released = await scoped(
        session,
        scope,
        MonitoringPlan,
        MonitoringPlan.status == RELEASED,
        MonitoringPlan.ended_at >= start,
        MonitoringPlan.ended_at < end,
    )
    lines = [
        tr("<b>Today, {day}</b>: {areas}", day=day_text(day, tr), areas=where(scope)),
        tr("Reports received: {n}", n=len(reported)),
        tr("Arrived: {n}; still expected today: {m}", n=len(arrived), m=len(expected)),
        tr("Check-ins answered: {n} of {due} due", n=len(answered), due=len(slots)),
        tr("Abnormal: {n}", n=len(abnormal)),
        *capped(abnormal, tr, "/person"),
        tr("Missed check-ins: {n}", n=len(misses)),
        *capped(misses, tr, "/missed"),
        tr("Released: {n}", n=len(released)),
    ]
    return [Send("\n".join(lines))]


def _checkin_health(checkin: CheckIn, tr: Translator) -> str:
    parts = [temperature_text(checkin.temperature)]
    extra = checkin.extra or {}
    if extra.get("antipyretic"):
        parts.append(tr("fever-reducing medicine taken: the reading is unreliable"))
    parts.append(symptom_names(checkin.symptoms, tr))
    if extra.get("onset"):
        onset = date.fromisoformat(str(extra["onset"]))
        parts.append(tr("symptoms since {day}", day=day_text(onset, tr)))
    return tr.clauses(p for p in parts if p)


def _arrival_health(arrival: Arrival, tr: Translator) -> str:
    parts = [temperature_text(arrival.temperature)]
    parts.append(symptom_names(arrival.symptoms, tr))
    return tr.clauses(p for p in parts if p)


# ----- /arrivals -----


def _journey(arrival: Arrival, tr: Translator) -> str:
    how = " ".join(
        x
        for x in (option_name(TRANSPORTS, arrival.transport, tr), arrival.transport_number or "")
        if x
    )
    origin = place_name(arrival.origin_code, arrival.origin_text, tr)
    return html.escape(tr("from {origin} · {how}", origin=origin, how=how))


@staff_only
async def arrivals(chat: Chat, scope: Scope) -> list[Reply]:
    """Expected in the next 3 days (and those expected earlier who have not arrived)."""
    turn, tr = chat.turn, chat.turn.tr
    day = today_of(turn)
    expected = await scoped(
        turn.session,
        scope,
        Arrival,
        Arrival.status == "expected",
        Arrival.expected_at >= start_of(day - timedelta(days=7), turn),
        Arrival.expected_at < start_of(day + timedelta(days=4), turn),
    )
    expected.sort(key=lambda row: (row[0].expected_at or turn.now, row[0].id))
    entries = []
    for arrival, person in expected:
        moment = arrival.expected_at or turn.now
        local = moment.astimezone(turn.zone)
        heading = (
            tr("Expected earlier, not arrived yet")
            if local.date() < day
            else html.escape(day_text(local.date(), tr))
        )
        line = f"{who(person)}: {local.strftime('%H:%M')} {_journey(arrival, tr)}"
        entries.append(Entry(heading, line))
    return paged(
        chat,
        tr("Expected arrivals, next 3 days: {n}", n=len(expected)),
        entries,
        "arrivals",
        tr("No one is expected in your areas in the next 3 days."),
    )


# ----- /monitoring -----


@staff_only
async def monitoring(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    day = today_of(turn)
    plans = await scoped(
        turn.session,
        scope,
        MonitoringPlan,
        MonitoringPlan.status.in_((ACTIVE, HELD)),
        MonitoringPlan.starts_on <= day,
    )
    # One line per person: their newest plan (a held one may be followed by a new plan).
    newest = {person.id: (plan, person) for plan, person in sorted(plans, key=lambda r: r[0].id)}
    groups: dict[str, list[str]] = {kind: [] for kind in [*PHASE_NAMES, "ended", HELD]}
    for plan, person in sorted(newest.values(), key=lambda r: (r[0].starts_on, r[1].id)):
        phase = phase_on(plan, day) if plan.status == ACTIVE else None
        if plan.status == HELD:
            groups[HELD].append(
                f"{who(person)}: " + html.escape(tr("since {day}", day=day_text(plan.ends_on, tr)))
            )
        elif phase is None:
            groups["ended"].append(
                f"{who(person)}: " + html.escape(tr("ended {day}", day=day_text(plan.ends_on, tr)))
            )
        else:
            n, total = day_of(phase, day)
            last = date.fromisoformat(phase["last"])
            text = tr("day {n} of {total}, to {last}", n=n, total=total, last=day_text(last, tr))
            groups.setdefault(phase["kind"], []).append(f"{who(person)}: {html.escape(text)}")
    headings = {
        **{kind: tr(name) for kind, name in PHASE_NAMES.items()},
        "ended": tr("Plan over, release being checked"),
        HELD: tr("Held open: negative tests missing"),
    }
    entries = [
        Entry(html.escape(headings.get(kind, kind) + tr.paren(str(len(lines)))), line)
        for kind, lines in groups.items()
        for line in lines
    ]
    return paged(
        chat,
        tr("Under monitoring: {n}", n=len(entries)),
        entries,
        "monitoring",
        tr("No one in your areas is under monitoring now."),
    )


# ----- /missed -----


@staff_only
async def missed_checkins(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    day = today_of(turn)
    first = day - timedelta(days=MISSED_DAYS - 1)
    rows = await scoped(
        turn.session,
        scope,
        CheckIn,
        CheckIn.slot_start >= start_of(first, turn),
        CheckIn.slot_end <= turn.now,
        or_(CheckIn.missed_at.is_not(None), CheckIn.answered_at.is_(None)),
    )
    rows.sort(key=lambda row: (-row[0].slot_start.timestamp(), row[1].id))
    entries = []
    for checkin, person in rows:
        local = checkin.slot_start.astimezone(turn.zone)
        heading = tr("Today") if local.date() == day else html.escape(day_text(local.date(), tr))
        line = f"{who(person)}: {html.escape(slot_text(checkin.slot_start, turn.zone, tr))}"
        if checkin.answered_at is not None:
            line += " " + html.escape(
                tr("(answered late, {time})", time=clock_time(checkin.answered_at, turn))
            )
        entries.append(Entry(heading, line))
    return paged(
        chat,
        tr("Missed check-ins, last {days} days: {n}", days=MISSED_DAYS, n=len(entries)),
        entries,
        "missed",
        tr("No missed check-ins in your areas in the last {days} days.", days=MISSED_DAYS),
    )


# ----- /find -----


@staff_only
async def find(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    wanted = " ".join(chat.args.split())[:60]
    if len(wanted) < 2:
        return [
            Send(
                tr("Send /find and part of a name or phone number, e.g. /find 张伟 or /find 5678.")
            )
        ]
    found, total = await find_people(turn.session, scope, wanted, shown=FIND_CAP)
    if not found:
        return [Send(tr("No one matching “{text}” in your areas.", text=html.escape(wanted)))]
    lines = [tr("<b>Found {n}</b> for “{text}”:", n=total, text=html.escape(wanted))]
    lines += [
        f"#{p.id} "
        + html.escape(" · ".join(part for part in (p.name or "?", p.phone or "") if part))
        + f" · {html.escape(p.grid.name)}"
        for p in found
    ]
    if total > FIND_CAP:
        lines.append(tr("…and {n} more: please search more precisely.", n=total - FIND_CAP))
    buttons = tuple((PERSON.button(f"{p.name or '?'} · {p.grid.name}"[:60], p.id),) for p in found)
    return [Send("\n".join(lines), buttons=buttons)]


# ----- /person -----


@staff_only
async def person(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    wanted = parse_id(chat.args)
    if wanted is None:
        return [Send(tr("Send /person and the record number, e.g. /person 12 (see /find)."))]
    record = await record_of(turn.session, scope, wanted)
    if record is None:
        await audit(turn.session, turn.user.id, "person_refused", f"resident:{wanted}", turn.now)
        return [Send(tr("No such person in your area."))]
    await audit(turn.session, turn.user.id, "view_person", f"resident:{wanted}", turn.now)
    text = await describe_record(turn, record)
    others = [p for p in record.household if p.id != record.person.id]
    buttons = tuple(
        (PERSON.button(f"{p.name or '?'}"[:60], p.id),)
        for p in others
        if p.purged_at is None and p.grid_id == record.person.grid_id
    )
    if record.person.purged_at is None:
        buttons = ((WRITE.button(tr("💬 Write"), record.person.id),), *buttons)
    return [Send(text, buttons=buttons)]


async def describe_record(turn: Turn, record: Record) -> str:
    """A person's record as a worker reads it: the ID number masked, user text escaped."""
    tr, e = turn.tr, html.escape
    person, arrival, plan = record.person, record.arrival, record.plan
    lines = [f"<b>#{person.id} {e(person.name or '?')}</b>"]
    if person.phone:
        lines.append(labelled(tr, tr("Phone"), person.phone))
    if person.id_number:
        lines.append(labelled(tr, tr("ID number"), person.masked_id))
    if person.relation != "self":
        relation = tr(RELATION_NAMES.get(person.relation, person.relation))
        reporter = next((p for p in record.household if p.relation == "self"), None)
        lines.append(
            e(
                tr(
                    "{relation} of {reporter}, who answers for them",
                    relation=relation,
                    reporter=reporter.name if reporter else "?",
                )
            )
        )
    proxy = await proxy_of(turn.session, person)
    if proxy is not None:
        lines.append(
            "📝 "
            + e(
                tr(
                    "Reported for them by {name} (代报); their check-ins are recorded by a worker (代打卡).",
                    name=proxy or tr("a worker"),
                )
            )
        )
    path = " › ".join(a.name for a in await lineage(turn.session, record.grid))
    lines.append(labelled(tr, tr("Where"), path))
    if person.household.address:
        lines.append(labelled(tr, tr("Address"), person.household.address))
    if arrival is not None:
        lines.append("")
        if arrival.status == "expected":
            lines.append(e(tr("Expected to arrive: {when}", when=stamp(arrival.expected_at, turn))))
        else:
            lines.append(e(tr("Arrived: {when}", when=stamp(arrival.arrived_at, turn))))
        lines.append(e(tr("Reported: {when}", when=stamp(arrival.reported_at, turn))))
        journey = _journey(arrival, tr)
        if arrival.seat:
            journey += ", " + e(tr("seat {seat}", seat=arrival.seat))
        lines.append(journey)
        if arrival.entry_port:
            lines.append(labelled(tr, tr("Port of entry"), arrival.entry_port))
        if arrival.quarantine_ended_on:
            lines.append(
                e(
                    tr(
                        "Quarantine ended on {day}",
                        day=day_text(arrival.quarantine_ended_on, tr),
                    )
                )
            )
        if arrival.stays:
            places = tr.items(
                [
                    place_name(s.place_code, s.place_text, tr)
                    + tr.paren(f"{day_text(s.from_date, tr)}–{day_text(s.to_date, tr)}")
                    for s in arrival.stays[:8]
                ]
                + (["…"] if len(arrival.stays) > 8 else [])
            )
            lines.append(labelled(tr, tr("Travel history"), places))
        health = [_arrival_health(arrival, tr) or tr("no symptoms")]
        if arrival.health_code:
            health.append(
                tr("code: {code}", code=option_name(HEALTH_CODES, arrival.health_code, tr))
            )
        if arrival.test_result and arrival.test_result != "none":
            test = tr(TEST_ANSWERS.get(arrival.test_result, arrival.test_result))
            if arrival.test_date:
                test += tr.paren(day_text(arrival.test_date, tr))
            health.append(tr("last test: {test}", test=test))
        lines.append(labelled(tr, tr("At arrival"), tr.items(health)))
    if plan is not None:
        lines += [
            "",
            "<b>"
            + e(tr("Plan"))
            + "</b> "
            + e(tr.paren(tr(PLAN_STATES.get(plan.status, plan.status)))),
        ]
        for phase in plan.phases:
            lines.append("• " + e(phase_text(phase, tr)))
        if plan.refer_to_clinic:
            lines.append("• " + e(tr("referred to a fever clinic at arrival")))
        if plan.needs_confirmation:
            lines.append("• " + e(tr("the risk-area match needs your confirmation")))
        lines.append(labelled(tr, tr("Why"), reason_text(plan.reason, tr)))
        reporter_user = await turn.session.get(ChatUser, person.reporter_user_id)
        chosen = reporter_user.checkin_times if reporter_user else None
        times = ", ".join(t.strftime("%H:%M") for t in own_times(chosen, turn.checkin_times))
        lines.append(
            labelled(
                tr,
                tr("Daily check-ins"),
                times + (" " + tr("(chosen by the resident)") if chosen else ""),
            )
        )
    if plan is not None and plan.test_days:
        results = {t.day.isoformat(): t.result for t in record.tests}
        tests = tr.items(
            f"{day_text(date.fromisoformat(d), tr)} "
            + tr(TEST_ANSWERS.get(results.get(d, ""), "") or N_("no result yet"))
            for d in plan.test_days
        )
        lines.append(
            e(tr("Tests: {tests} ({n} negative needed)", tests=tests, n=plan.negatives_needed))
        )
    lines += ["", *checkin_history(record.checkins, turn, by_worker=proxy is not None)]
    messages = await messages_of(turn.session, person.id)
    if messages:
        lines += ["", "<b>" + e(tr("Messages")) + "</b>"]
        for message in messages:
            if message.direction == TO_RESIDENT:
                who_wrote = message.staff_name or tr("a worker")
                mark = "💬"
            else:
                who_wrote, mark = person.name or "?", "↩️"
            head = f"{moment_text(message.at, turn.zone, tr)} {who_wrote}"
            lines.append(f"{mark} " + e(tr.label(head, message.text)))
    return "\n".join(lines)


def checkin_history(
    checkins: Sequence[CheckIn], turn: Turn, last: int = 10, *, by_worker: bool = False
) -> list[str]:
    tr, e = turn.tr, html.escape
    summary = checkin_summary(checkins, turn.now)
    if not summary.due:
        return [e(tr("No check-ins yet."))]
    lines = [
        "<b>"
        + e(
            tr(
                "Check-ins: {answered} of {due} answered, {missed} missed, {abnormal} abnormal",
                answered=summary.answered,
                due=summary.due,
                missed=summary.missed,
                abnormal=summary.abnormal,
            )
        )
        + "</b>"
    ]
    begun = [c for c in checkins if c.slot_start <= turn.now]
    for checkin in begun[-last:]:
        when = slot_text(checkin.slot_start, turn.zone, tr)
        if checkin.answered_at is None:
            gone = missed(checkin, turn.now)
            state = tr("missed") if gone else tr("open")
            lines.append(("❌" if gone else "⏳") + f" {when}: {e(state)}")
            continue
        text = _checkin_health(checkin, tr) or "?"
        if checkin.went_out:
            text = tr.items([text, tr("went out: {where}", where=checkin.where or "?")])
        if checkin.late:
            text += ("" if tr.chinese else " ") + tr("(late)")
        if by_worker:
            text += tr.paren(tr("recorded by a worker"))
        lines.append(f"{'⚠️' if abnormal_checkin(checkin) else '✅'} {when}: {e(text)}")
    if len(begun) > last:
        lines.append(e(tr("…and {n} earlier", n=len(begun) - last)))
    return lines


# ----- /stats -----


@staff_only
async def stats(chat: Chat, scope: Scope) -> list[Reply]:
    """Cumulative figures, like the seed's: registered, under each monitoring, released."""
    turn, tr, session = chat.turn, chat.turn.tr, chat.turn.session
    day = today_of(turn)
    people = await session.scalar(select(func.count()).select_from(people_query(scope).subquery()))
    journeys = await scoped(session, scope, Arrival)
    plans = await scoped(session, scope, MonitoringPlan, MonitoringPlan.status != SUPERSEDED)
    now_in: dict[str, int] = dict.fromkeys(PHASE_NAMES, 0)
    ever_in: dict[str, set[int]] = {kind: set() for kind in PHASE_NAMES}
    for plan, person in plans:
        for phase in plan.phases:
            ever_in.setdefault(phase["kind"], set()).add(person.id)
        current = phase_on(plan, day) if plan.status == ACTIVE else None
        if current is not None:
            now_in[current["kind"]] = now_in.get(current["kind"], 0) + 1
    checkins = await scoped(session, scope, CheckIn, CheckIn.slot_start <= turn.now)
    summary = checkin_summary([c for c, _ in checkins], turn.now)
    abnormal = summary.abnormal + sum(1 for a, _ in journeys if abnormal_arrival(a))
    positives = await scoped(session, scope, TestResult, TestResult.result == "positive")
    lines = [
        tr("<b>Figures to date</b>: {areas}", areas=where(scope)),
        tr("People registered: {n}", n=people or 0),
        tr(
            "Arrivals registered: {n} (and {m} still expected)",
            n=sum(1 for a, _ in journeys if a.status == "arrived"),
            m=sum(1 for a, _ in journeys if a.status == "expected"),
        ),
        tr(
            "From abroad: {n}; pre-arrival reports: {m}",
            n=sum(1 for a, _ in journeys if a.entry_port),
            m=sum(1 for a, _ in journeys if a.expected_at is not None),
        ),
    ]
    for kind, name in PHASE_NAMES.items():
        lines.append(
            tr(
                "{kind}: {now} now, {ever} in all",
                kind=tr(name),
                now=now_in.get(kind, 0),
                ever=len(ever_in.get(kind, ())),
            )
        )
    lines += [
        tr("Released: {n}", n=sum(1 for p, _ in plans if p.status == RELEASED)),
        tr("Held open: {n}", n=sum(1 for p, _ in plans if p.status == HELD)),
        tr("Check-ins answered (person-screenings): {n}", n=summary.answered),
        tr("Missed check-ins: {n}", n=summary.missed),
        tr("Abnormal reports: {n}; positive tests: {m}", n=abnormal, m=len(positives)),
    ]
    return [Send("\n".join(lines))]


# ----- /verify -----

PAPER_NAMES = {"notice": N_("plan notice"), "release": N_("release certificate")}


@staff_only
async def verify(chat: Chat, scope: Scope) -> list[Reply]:
    """/verify CODE: whether a paper a resident shows is one the bot issued, and for whom."""
    turn, tr, e = chat.turn, chat.turn.tr, html.escape
    code = chat.args.strip().upper()
    if not code:
        return [Send(tr("Send /verify and the code on the paper, e.g. /verify K7M2Q9XA."))]
    paper = await paper_by_code(turn.session, code)
    record = await record_of(turn.session, scope, paper.resident_id) if paper else None
    plan = await turn.session.get(MonitoringPlan, paper.plan_id) if paper else None
    if paper is None or record is None or plan is None:
        await audit(turn.session, turn.user.id, "verify_refused", f"paper:{code[:16]}", turn.now)
        return [Send(tr("No paper with that code was issued in your area."))]
    await audit(turn.session, turn.user.id, "verify", f"paper:{paper.id}", turn.now)
    state = {
        SUPERSEDED: tr("replaced by a newer plan"),
        RELEASED: tr("released"),
        ACTIVE: tr("valid: the plan is running"),
        HELD: tr("held open: the negative tests it needs are missing"),
    }.get(plan.status, plan.status)
    lines = [
        "✅ "
        + e(
            tr(
                "A genuine {paper}, code {code}.",
                paper=tr(PAPER_NAMES[paper.kind]),
                code=paper.code,
            )
        ),
        who(record.person)
        + (f" · {e(record.person.masked_id)}" if record.person.id_number else ""),
        *("• " + e(phase_text(p, tr)) for p in plan.phases),
        e(tr("Issued: {when}", when=stamp(paper.issued_at, turn))),
        e(tr("Plan now: {state}", state=state)),
    ]
    return [Send("\n".join(lines))]


__all__ = [
    "arrivals",
    "find",
    "missed_checkins",
    "monitoring",
    "person",
    "stats",
    "today",
    "verify",
]
