"""Lists pushed from above, in the workers' chat: a door-to-door task's buttons (reached by
phone, visited, not living here with where to, unreachable, a note), the personal link for
the person, the closed-loop transfer before an arrival, and /pushed: the feedback summary
(反馈汇总) of the worker's areas, with each list's workbook for the level above.

Every button checks that the row lies in the presser's areas (services/pushed.row_in_scope);
views and exports go in the audit log."""

from __future__ import annotations

import html
import re
from typing import Any

from chat.contract import File, Reply, Send
from chat.forms import RESUME, Invalid, Text
from chat.i18n import N_
from handlers.answers import parse_free_text
from handlers.context import Chat, Flow, Step, Turn
from handlers.invites import invite_link, show_time
from handlers.staff import staff_only
from models.pushed import OUTCOMES, PushedList
from models.staff import Staff, active_staff, audit
from rules.pushed import parse_moment
from services.buttons import PUSHED, PUSHED_LINK
from services.pushed import (
    FROM_LINK,
    LINK_VALID_FOR,
    LinkRefused,
    ListProblem,
    accept_link,
    confirm_possible,
    counts_text,
    feedback_workbook,
    import_list,
    lists_in_scope,
    new_link,
    parse_deadline,
    record_outcome,
    record_transfer,
    row_in_scope,
    summary,
)
from services.records import Scope
from services.vocabulary import DONE_TEXTS

NOT_YOURS = N_("No such person of a pushed list in your area.")
# The row (and what is being recorded) while the worker types a note or the transfer.
ROW, KIND = "_pushed_row", "_pushed_kind"


async def _post(turn: Turn, row_area_id: int) -> Staff | None:
    from models.areas import Area
    from models.staff import covers

    area = await turn.session.get(Area, row_area_id)
    for post, mine in await active_staff(turn.session, turn.user.id):
        if area is not None and covers(mine, area):
            return post
    return None


def _resume(chat: Chat) -> None:
    if chat.asking and chat.step not in ("ask_pushed_note", "ask_transfer"):
        chat.turn.answers[RESUME] = chat.step


@staff_only
async def outcome(chat: Chat, scope: Scope) -> list[Reply]:
    """/outcome ROW KIND: what came of the task; "not_here" and "note" ask for the words."""
    turn, tr = chat.turn, chat.turn.tr
    row_id, _, kind = chat.args.strip().partition(" ")
    row = await row_in_scope(turn.session, row_id, scope)
    if row is None:
        return [Send(tr(NOT_YOURS))]
    if kind not in (*OUTCOMES, "note", "same"):
        return [Send(tr("Please choose with the buttons."))]
    post = await _post(turn, row.area_id)
    assert post is not None  # row_in_scope found it in the scope
    replies: list[Reply] = []
    if kind == "same":
        if row.resident_id is not None:
            return [Send(tr("{name} is linked to a resident already.", name=html.escape(row.name)))]
        resident = await confirm_possible(turn.session, row, post, turn.now, turn.zone, turn.policy)
        if resident is None:
            return [Send(tr("Please choose with the buttons."))]
        await audit(turn.session, turn.user.id, "pushed_outcome", f"pushed_row:{row.id}", turn.now)
        return [
            Send(
                tr(
                    "Linked: {name} is resident no. {number}, and was checked again with what "
                    "the list says.",
                    name=html.escape(row.name),
                    number=resident.id,
                )
            )
        ]
    if kind in OUTCOMES:
        await record_outcome(turn.session, row, kind, post, turn.now, turn.zone)
        await audit(turn.session, turn.user.id, "pushed_outcome", f"pushed_row:{row.id}", turn.now)
        replies.append(
            Send(
                tr(
                    "Recorded for {name}: {outcome}.",
                    name=html.escape(row.name),
                    outcome=tr(DONE_TEXTS[kind]),
                )
            )
        )
    if kind == "reached":
        replies.append(
            Send(
                tr(
                    "They can report themselves with a personal link (send it by SMS or read "
                    "the code out), or you report for them with /reportfor."
                ),
                buttons=((PUSHED_LINK.button(tr("🔗 Personal link for them"), row.id),),),
            )
        )
    if kind in ("not_here", "note"):
        _resume(chat)
        turn.answers[ROW], turn.answers[KIND] = row.id, kind
        replies += await chat.begin("ask_pushed_note")
    return replies


async def save_note(turn: Turn) -> list[Reply]:
    row_id, kind = turn.answers.pop(ROW, None), turn.answers.pop(KIND, None)
    note = turn.answers.pop("pushed_note", None)
    from services.records import scope_of

    scope = await scope_of(turn.session, turn.user.id)
    row = await row_in_scope(turn.session, str(row_id), scope) if scope and row_id else None
    if row is None or not isinstance(kind, str):
        return [Send(turn.tr("That question is closed."))]
    if not note:
        return [Send(turn.tr("All right, no note."))]
    post = await _post(turn, row.area_id)
    assert post is not None
    await record_outcome(turn.session, row, kind, post, turn.now, turn.zone, note=note)
    return [Send(turn.tr("Saved with {name}.", name=html.escape(row.name)))]


PUSHED_NOTE = Flow(
    "pushed_note",
    (
        Step(
            "ask_pushed_note",
            Text(
                "pushed_note",
                N_("Type the note, or where they live now if known (one message)."),
                N_("e.g. moved to Lanzhou in October, per the neighbour"),
                parse_free_text,
                500,
                skip=N_("No note"),
            ),
        ),
    ),
    finish=save_note,
)

_PARTS = re.compile(r"[,，;；]")


def parse_transfer(text: str, turn: Any) -> dict[str, str]:
    """ "12-03 15:00, 王师傅, 甘B12345": when, by whom, the vehicle."""
    parts = [p.strip() for p in _PARTS.split(text) if p.strip()]
    when = (
        parse_moment(parts[0], turn.now.astimezone(turn.zone).date(), turn.zone) if parts else None
    )
    if when is None or len(parts) < 3:
        raise Invalid(
            turn.tr(
                "Please give when, by whom and the vehicle, separated by commas, e.g. "
                "12-03 15:00, Wang Wei, 甘B12345"
            )
        )
    return {"at": when.isoformat(), "by": parts[1], "vehicle": parts[2]}


@staff_only
async def transfer(chat: Chat, scope: Scope) -> list[Reply]:
    """/transfer ROW: record the closed-loop transfer (点对点接送) of someone expected."""
    turn = chat.turn
    row = await row_in_scope(turn.session, chat.args, scope)
    if row is None:
        return [Send(turn.tr(NOT_YOURS))]
    _resume(chat)
    turn.answers[ROW] = row.id
    return await chat.begin("ask_transfer")


async def save_transfer(turn: Turn) -> list[Reply]:
    from datetime import datetime

    from services.records import scope_of

    row_id = turn.answers.pop(ROW, None)
    given = turn.answers.pop("transfer", None)
    scope = await scope_of(turn.session, turn.user.id)
    row = await row_in_scope(turn.session, str(row_id), scope) if scope and row_id else None
    if row is None or not isinstance(given, dict):
        return [Send(turn.tr("That question is closed."))]
    post = await _post(turn, row.area_id)
    assert post is not None
    at = datetime.fromisoformat(given["at"])
    await record_transfer(
        turn.session,
        row,
        post,
        at,
        given["by"],
        given["vehicle"],
        turn.now,
        turn.zone,
        turn.policy,
    )
    return [
        Send(
            turn.tr(
                "Transfer recorded for {name}: {when}. Their home monitoring starts when they "
                "arrive.",
                name=html.escape(row.name),
                when=show_time(at, turn),
            )
        )
    ]


TRANSFER_FLOW = Flow(
    "pushed_transfer",
    (
        Step(
            "ask_transfer",
            Text(
                "transfer",
                N_(
                    "The closed-loop transfer (点对点接送): when, by whom and which vehicle, "
                    "separated by commas."
                ),
                N_("e.g. 12-03 15:00, Wang Wei, 甘B12345"),
                parse_transfer,
                200,
            ),
        ),
    ),
    finish=save_transfer,
)


@staff_only
async def personal_link(chat: Chat, scope: Scope) -> list[Reply]:
    """/plink ROW: a single-use link for the person, to send by SMS or read out."""
    turn, tr = chat.turn, chat.turn.tr
    row = await row_in_scope(turn.session, chat.args, scope)
    if row is None:
        return [Send(tr(NOT_YOURS))]
    token = await new_link(turn.session, row, turn.user.id, turn.now)
    await audit(turn.session, turn.user.id, "pushed_link", f"pushed_row:{row.id}", turn.now)
    until = show_time(turn.now + LINK_VALID_FOR, turn)
    return [
        Send(
            tr(
                "A personal link for {name}: it works once, until {until}. Send it by SMS, "
                "or read the code out:",
                name=html.escape(row.name),
                until=until,
            )
        ),
        Send(
            html.escape(invite_link(turn, token))
            + "\n"
            + html.escape(tr("Or, in Telegram, open this bot and send: /start {code}", code=token))
        ),
    ]


async def open_link(turn: Turn, token: str) -> list[Reply] | None:
    """Someone opened a pushed list's personal link (after consenting): their report begins,
    and will link to the row. None: the token is no pushed list's."""
    found = await accept_link(turn.session, token, turn.user.id, turn.now)
    if found is None:
        return None
    if found is LinkRefused.EXPIRED:
        return [Send(turn.tr("This link has expired. Ask your community worker for a new one."))]
    if isinstance(found, LinkRefused):
        return [Send(turn.tr("This link is not valid (any more). Ask your community worker."))]
    turn.answers[FROM_LINK] = found.id
    turn.goto = "ask_name"
    return [
        Send(
            turn.tr(
                "Your community asked you to report here. It takes about five minutes; your "
                "community worker will see it at once."
            )
        )
    ]


# The problems rules/pushed.py finds with a row, as the worker reads them (the rules say
# them in English: these marks put them in the catalogs).
ROW_PROBLEMS = (
    N_("no name"),
    N_("the name is longer than 60 characters"),
    N_("the ID number's date of birth is not a date"),
    N_("the ID number's check digit is wrong"),
    N_("the ID number does not have 18 digits"),
    N_("the ID number is not a number"),
    N_("the phone is not a phone number"),
    N_("neither an ID number nor a phone"),
    N_("the date is not a date"),
)
# Who may send a list to the bot: the district's and the community's workers (and the levels
# between and above them); a grid worker gets lists through them.
IMPORTERS = ("district", "street", "community", "city")
_DEADLINE = re.compile(r"(?<![\w])(\d{1,3}[hdm])(?![\w])", re.IGNORECASE)


async def document(chat: Chat) -> list[Reply]:
    """A document sent outside any question: a district or community worker's pushed list
    (.xlsx or .csv; the caption names its source, and may give the time allowed, as 24h);
    anyone else is told what the bot reads."""
    turn, tr = chat.turn, chat.turn.tr
    sent = turn.event.document
    posts = [
        (post, area)
        for post, area in await active_staff(turn.session, turn.user.id)
        if post.role in IMPORTERS
    ]
    if not posts or sent is None:
        return [Send(tr("Please answer with text or the buttons."))]
    if not sent.file_name.lower().endswith((".xlsx", ".csv")):
        return [Send(tr("A pushed list is taken as an .xlsx or .csv file."))]
    if sent.content is None:
        return [
            Send(tr("That file could not be read (too large, or not fetched). Please try again."))
        ]
    caption = (turn.event.text or "").strip()
    found = _DEADLINE.search(caption)
    try:
        allowed = parse_deadline(found[1]) if found else parse_deadline("24h")
    except ValueError:
        allowed = parse_deadline("24h")
    source = (_DEADLINE.sub("", caption).strip() if found else caption) or sent.file_name
    area = posts[0][1]
    try:
        result = await import_list(
            turn.session,
            sent.content,
            sent.file_name,
            source=source,
            deadline=allowed,
            area=area,
            imported_by=turn.user.id,
            now=turn.now,
            zone=turn.zone,
            policy=turn.policy,
        )
    except ListProblem as problem:
        return [
            Send(
                tr(
                    "That list could not be taken in: {problem}. Nothing was imported.",
                    problem=html.escape(tr(str(problem))),
                )
            )
        ]
    pushed = result.pushed
    if not result.new:
        text = tr(
            "Pushed list {number} was taken in already from this file; nothing changed.",
            number=pushed.id,
        )
    else:
        text = tr(
            "<b>Pushed list {number}</b> taken in: {good} people, {bad} rows kept aside. "
            "Found among those who reported: {matched} (checked again). Tasks: {tasks}, of "
            "which {queue} in the district's queue.",
            number=pushed.id,
            good=pushed.rows_good,
            bad=len(result.bad),
            matched=result.matched,
            tasks=result.tasks,
            queue=result.to_district,
        )
    lines = [
        tr("Line {line}: {problem}", line=b.line, problem=tr(b.problem)) for b in result.bad[:30]
    ]
    if len(result.bad) > 30:
        lines.append(tr("…and {n} more", n=len(result.bad) - 30))
    return [Send("\n".join([text, *(html.escape(line) for line in lines)]))]


@staff_only
async def feedback(chat: Chat, scope: Scope) -> list[Reply]:
    """/pushed: each list's figures in the worker's areas (per area below theirs);
    /pushed xlsx LIST: the list's workbook, one row per person."""
    turn, tr = chat.turn, chat.turn.tr
    args = chat.args.split()
    if len(args) == 2 and args[0] == "xlsx" and args[1].isdigit() and len(args[1]) < 12:
        return await _workbook(chat, scope, int(args[1]))
    figures = await summary(turn.session, scope, turn.now)
    await audit(
        turn.session,
        turn.user.id,
        "view",
        "pushed_summary",
        turn.now,
        areas=[a.code for a in scope.areas],
    )
    if not figures:
        return [Send(tr("No pushed lists in your area."))]
    lists: dict[int, list[str]] = {}
    sources: dict[int, str] = {}
    for f in figures:
        sources[f.list_id] = f.source
        counts = counts_text(f, tr)
        lists.setdefault(f.list_id, []).append(f"• {html.escape(f.area)}: {html.escape(counts)}")
    replies: list[Reply] = []
    for list_id, lines in lists.items():
        pushed = await turn.session.get(PushedList, list_id)
        due = show_time(pushed.deadline_at, turn) if pushed else ""
        heading = tr(
            "<b>Pushed list {number}</b>: {source}, due {due}",
            number=list_id,
            source=html.escape(sources[list_id]),
            due=due,
        )
        replies.append(
            Send(
                heading + "\n" + "\n".join(lines),
                buttons=((PUSHED.button(tr("📊 Workbook"), "xlsx", list_id),),),
            )
        )
    return replies


async def _workbook(chat: Chat, scope: Scope, list_id: int) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    mine = {p.id for p in await lists_in_scope(turn.session, scope)}
    pushed = await turn.session.get(PushedList, list_id) if list_id in mine else None
    if pushed is None:
        return [Send(tr("No such pushed list in your area."))]
    data, people = await feedback_workbook(turn.session, scope, pushed, turn.now, turn.zone, tr)
    await audit(
        turn.session,
        turn.user.id,
        "export",
        "pushed_list",
        turn.now,
        list=pushed.id,
        areas=[a.code for a in scope.areas],
        people=people,
    )
    stem = f"pushed-{pushed.id}-{turn.now.astimezone(turn.zone):%Y%m%d-%H%M}"
    caption = tr(
        "<b>Pushed list {number}</b>: {source}; people: {people}.",
        number=pushed.id,
        source=html.escape(pushed.source),
        people=people,
    )
    return [Send(caption, file=File(f"{stem}.xlsx", data))]


__all__ = [
    "FROM_LINK",
    "PUSHED_NOTE",
    "TRANSFER_FLOW",
    "feedback",
    "open_link",
    "outcome",
    "personal_link",
    "transfer",
]
