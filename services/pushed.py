"""Lists pushed from above (协查名单, 推送信息), from the file to the feedback upward.

- `import_list`: a .xlsx or .csv file read by its headers (rules/pushed.py), bad rows kept
  aside by line, good rows stored; the same file twice changes nothing (its hash).
- Each row is matched against the residents: the ID number exactly, else the phone; those
  found are linked, checked again with what the list says of them (the policy decides the
  plan), and their grid's workers told. A row whose name alone is found in its area is a
  "possible" match: its task says so, and the worker checks.
- Every other row becomes a door-to-door task (an alert, delivered, re-sent and escalated
  as alerts are) for the grid its address lies in, or for the district's queue when the
  address names no community we know. A row "released from quarantine" with an expected
  arrival asks the worker to contact them before they travel and record the transfer.
- The worker records what came of a task (`record_outcome`); a personal link
  (`new_link`/`accept_link`) lets the person report themselves, and the report they file
  links to the row and closes the task (`link_filed`).
- `summary` counts per list and area in SQL; `feedback_workbook` is one row per person."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from chat.i18n import N_, Translator
from models.alerts import OPEN, Alert, AlertAction, raise_alert
from models.areas import Area, Level
from models.people import (
    Arrival,
    Resident,
    Stay,
    id_number_hash,
    id_number_hashes,
    phone_tail_hash,
    phone_tail_hashes,
)
from models.pushed import (
    MATCH_ID,
    MATCH_PHONE,
    MATCH_POSSIBLE,
    MATCHED,
    OUTCOMES,
    REPORTED,
    PushedInvite,
    PushedList,
    PushedRow,
)
from models.staff import Staff, audit
from rules import pushed as rules
from rules.addresses import grid_of
from rules.policy import Policy
from services.alerts import DEFAULT_ZONE, acknowledge, settle_copies
from services.drawing import drawn
from services.plans import classify
from services.records import Scope
from services.vocabulary import DONE_TEXTS, PUSHED_REASONS
from services.wording import moment_text

TASK, TRANSFER_TASK, MATCH_ALERT = "pushed_task", "pushed_transfer", "pushed_match"
LINK_VALID_FOR = timedelta(days=3)
# The answer that carries, through a report begun from a personal link, the row it is for.
FROM_LINK = "_pushed_from_link"
# A file larger than this is not a list we take in one go (the bench's 100,000 rows fit).
MAX_BYTES = 50 * 1024 * 1024
BATCH = 500
# The residents found on a list checked again during the import; a larger list leaves the
# rest to the periodic job (`rescreen_matched`), so the import itself stays quick.
RESCREEN_NOW = 200


class ListProblem(Exception):
    """The file as a whole cannot be read (one line, no personal data in it)."""


# --- reading the file ----------------------------------------------------------------------


def read_table(data: bytes, file_name: str) -> list[list[object]]:
    """The file's rows, the header first: the first sheet of a workbook, or CSV (UTF-8, or
    GB18030 as Chinese spreadsheets save it)."""
    if len(data) > MAX_BYTES:
        raise ListProblem(N_("the file is larger than 50 MB"))
    if file_name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        import openpyxl  # imported here: only imports need it

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException…
            raise ListProblem(N_("not a workbook that can be read")) from exc
        sheet = book.worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
        return table
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [list(row) for row in csv.reader(io.StringIO(text))]
    raise ListProblem(N_("neither a workbook nor CSV text (UTF-8 or GB18030)"))


# --- where a row belongs -------------------------------------------------------------------


class AreaFinder:
    """The area an address (or an area column) lies in, among the areas under the list's:
    the community its text names, then the grid by that community's rules; a street or a
    district named alone (or nothing known) is the district's queue."""

    def __init__(self, areas: Sequence[Area], top: Area) -> None:
        self.top = top
        self.by_code = {a.code: a for a in areas}
        self.by_id = {a.id: a for a in areas}
        self.children: dict[int, list[Area]] = defaultdict(list)
        for a in areas:
            if a.parent_id is not None:
                self.children[a.parent_id].append(a)
        # Areas by name, and the names' lengths: an address is looked up by its substrings
        # of those lengths (a few hundred look-ups, however many areas there are).
        self.by_name: dict[str, list[Area]] = defaultdict(list)
        for a in areas:
            if a.name:
                self.by_name[a.name].append(a)
        self.lengths = sorted({len(name) for name in self.by_name}, reverse=True)
        self._named: dict[str, Area | None] = {}
        self.depths = {level.value: i for i, level in enumerate(Level)}

    def depth(self, area: Area) -> int:
        return self.depths.get(area.level, 0)

    def _district(self, area: Area) -> Area:
        codes = area.path.split("/")
        for code in codes:
            found = self.by_code.get(code)
            if found is not None and found.level == Level.DISTRICT:
                return found
        return area

    def named_in(self, text: str) -> Area | None:
        """The deepest area the text names; among several, one whose parent it names too."""
        if text in self._named:
            return self._named[text]
        found: dict[int, Area] = {}
        for start in range(len(text)):
            for length in self.lengths:
                for a in self.by_name.get(text[start : start + length], ()):
                    found[a.id] = a
        named = None
        if found:
            deepest = max(self.depth(a) for a in found.values())
            same = sorted(
                (a for a in found.values() if self.depth(a) == deepest), key=lambda a: a.code
            )
            named = next((a for a in same if a.parent_id in found), same[0])
        if len(self._named) < 100_000:
            self._named[text] = named
        return named

    def find(self, address: str, area_text: str = "") -> Area:
        named = self.by_code.get(area_text.strip()) if area_text else None
        if named is None:
            named = self.named_in(f"{area_text} {address}")
        if named is None:
            return self._district(self.top)
        if named.level == Level.GRID:
            return named
        if named.level == Level.COMMUNITY:
            grids = [g for g in self.children.get(named.id, []) if g.level == Level.GRID]
            chosen = grid_of(address, {g.code: g.buildings for g in grids}) if grids else None
            return next((g for g in grids if g.code == chosen), named)
        return self._district(named)


# --- matching ------------------------------------------------------------------------------


@dataclass
class Match:
    resident: Resident
    how: str


async def _chunks_of(values: Sequence[str], size: int = BATCH) -> Iterable[Sequence[str]]:
    return (values[i : i + size] for i in range(0, len(values), size))


async def match_rows(
    session: AsyncSession, rows: Sequence[rules.Row], areas: Sequence[Area]
) -> list[Match | None]:
    """For each row, the resident it names (ID exactly, else phone), a name found in the
    row's area ("possible"), or None. Batched look-ups by the keyed hashes."""
    by_id_hash: dict[str, Resident] = {}
    wanted = sorted({h for r in rows if r.id_number for h in id_number_hashes(r.id_number)})
    for chunk in await _chunks_of(wanted):
        for resident in await session.scalars(
            select(Resident).where(Resident.id_number_hash.in_(chunk), Resident.purged_at.is_(None))
        ):
            if resident.id_number_hash:
                by_id_hash[resident.id_number_hash] = resident
    by_phone: dict[str, list[Resident]] = defaultdict(list)
    tails = sorted({h for r in rows if r.phone for h in phone_tail_hashes(r.phone)})
    for chunk in await _chunks_of(tails):
        for resident in await session.scalars(
            select(Resident).where(
                Resident.phone_tail_hash.in_(chunk), Resident.purged_at.is_(None)
            )
        ):
            if resident.phone:
                by_phone[resident.phone].append(resident)
    names = sorted({r.name for r in rows})
    by_name: dict[str, list[Resident]] = defaultdict(list)
    for chunk in await _chunks_of(names):
        for resident in await session.scalars(
            select(Resident).where(Resident.name.in_(chunk), Resident.purged_at.is_(None))
        ):
            by_name[resident.name or ""].append(resident)
    found: list[Match | None] = []
    for row, area in zip(rows, areas, strict=True):
        person: Resident | None = None
        if row.id_number:
            person = next(
                (by_id_hash[h] for h in id_number_hashes(row.id_number) if h in by_id_hash), None
            )
        if person is not None:
            found.append(Match(person, MATCH_ID))
            continue
        if row.phone and by_phone.get(row.phone):
            found.append(Match(by_phone[row.phone][0], MATCH_PHONE))
            continue
        same = [r for r in by_name.get(row.name, []) if r.grid_id == area.id]
        found.append(Match(same[0], MATCH_POSSIBLE) if same else None)
    return found


# --- the import ----------------------------------------------------------------------------


@dataclass
class Imported:
    pushed: PushedList
    new: bool
    bad: list[rules.BadRow] = field(default_factory=list)
    unknown_columns: tuple[str, ...] = ()
    matched: int = 0
    possible: int = 0
    tasks: int = 0
    to_district: int = 0
    transfers: int = 0


async def import_list(
    session: AsyncSession,
    data: bytes,
    file_name: str,
    *,
    source: str,
    deadline: timedelta,
    area: Area,
    imported_by: int | None,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
    rescreen_now: int = RESCREEN_NOW,
) -> Imported:
    """Take a pushed list in (all in the caller's transaction); ListProblem when the file as
    a whole cannot be read. The same file again returns the list as it was (new=False)."""
    digest = hashlib.sha256(data).hexdigest()
    existing = await session.scalar(select(PushedList).where(PushedList.file_hash == digest))
    if existing is not None:
        kept = [rules.BadRow(b["line"], b["problem"]) for b in existing.bad_rows]
        return Imported(existing, new=False, bad=kept)
    # Read in the drawing process: openpyxl never enters the bot's memory (services/drawing.py).
    table = await drawn(read_table, data, file_name)
    if not table:
        raise ListProblem(N_("the file is empty"))
    columns = rules.map_headers([rules._text(h) for h in table[0]])
    if "name" not in columns.fields:
        raise ListProblem(N_("no column of names (姓名 / name) in the first row"))
    if "id_number" not in columns.fields and "phone" not in columns.fields:
        raise ListProblem(
            N_("no column of ID numbers (身份证号) or phones (手机号) in the first row")
        )
    today = now.astimezone(zone).date()
    good: list[rules.Row] = []
    bad: list[rules.BadRow] = []
    for line, values in enumerate(table[1:], start=2):
        read = rules.read_row(columns, values, line, today, zone)
        if isinstance(read, rules.BadRow):
            bad.append(read)
        elif read is not None:
            good.append(read)
    if not good and not bad:
        raise ListProblem(N_("the file has no rows under its header"))
    pushed = PushedList(
        source=source[:200],
        file_name=file_name[:200],
        file_hash=digest,
        area_id=area.id,
        deadline_at=now + deadline,
        imported_by=imported_by,
        imported_at=now,
        rows_good=len(good),
        bad_rows=[{"line": b.line, "problem": b.problem} for b in bad],
    )
    session.add(pushed)
    await session.flush()
    result = Imported(pushed, new=True, bad=bad, unknown_columns=columns.unknown)
    below = list(
        await session.scalars(
            select(Area).where(
                (Area.path == area.path) | Area.path.startswith(area.path + "/", autoescape=True)
            )
        )
    )
    # The district a row's queue is when nothing under the list's area is named: the list's
    # own area's district (or the list's area itself above district level).
    finder = AreaFinder(below, area)
    # Each grid's workers get one message listing their residents found on the list.
    told: dict[int, list[Resident]] = defaultdict(list)
    for start in range(0, len(good), BATCH):
        chunk = good[start : start + BATCH]
        places = [finder.find(row.address, row.area) for row in chunk]
        matches = await match_rows(session, chunk, places)
        # Inserted in bulk (executemany with RETURNING), not object by object: a list of
        # 100,000 is 200 statements of each kind, not 200,000 objects to track.
        inserts: list[dict[str, Any]] = []
        for row, place, found in zip(chunk, places, matches, strict=True):
            certain = found is not None and found.how != MATCH_POSSIBLE
            inserts.append(
                {
                    "list_id": pushed.id,
                    "line": row.line,
                    "raw": row.raw,
                    "name": row.name,
                    "id_number": row.id_number,
                    "phone": row.phone,
                    "id_number_hash": id_number_hash(row.id_number),
                    "phone_tail_hash": phone_tail_hash(row.phone),
                    "reason": row.reason,
                    "reason_text": row.reason_text,
                    "place_text": row.place_text,
                    "place_code": row.place_code,
                    "place_date": row.place_date,
                    "address": row.address,
                    "area_id": found.resident.grid_id if certain and found else place.id,
                    "resident_id": found.resident.id if certain and found else None,
                    "match": found.how if found else None,
                    "outcome": MATCHED if certain else None,
                    "outcome_by_name": "",
                    "expected_arrival": row.expected,
                    "created_at": now,
                }
            )
        ids = list(
            await session.scalars(
                insert(PushedRow).returning(PushedRow.id, sort_by_parameter_order=True), inserts
            )
        )
        tasks: list[int] = []
        alerts: list[dict[str, Any]] = []
        for row_id, row, place, found, value in zip(
            ids, chunk, places, matches, inserts, strict=True
        ):
            if value["resident_id"] is not None and found is not None:
                result.matched += 1
                if result.matched <= rescreen_now:
                    record = await session.get(PushedRow, row_id)
                    assert record is not None
                    await _rescreen(session, record, found.resident, now, zone, policy)
                    record.rescreened_at = now
                told[found.resident.grid_id].append(found.resident)
                continue
            transfer = row.reason == rules.RELEASED and row.expected is not None
            details: dict[str, Any] = {"row": row_id, "list": pushed.id}
            if found is not None:
                result.possible += 1
                details["possible"] = found.resident.id
            alerts.append(
                {
                    "grid_id": place.id,
                    "kind": TRANSFER_TASK if transfer else TASK,
                    "details": details,
                    "created_at": now,
                    "status": OPEN,
                    "level": "grid",
                    "dedupe_key": f"pushed-task:{row_id}",
                }
            )
            tasks.append(row_id)
            result.tasks += 1
            result.transfers += int(transfer)
            result.to_district += int(place.level != Level.GRID)
        if alerts:
            alert_ids = await session.scalars(
                insert(Alert).returning(Alert.id, sort_by_parameter_order=True), alerts
            )
            await session.execute(
                update(PushedRow),
                [
                    {"id": row_id, "task_alert_id": alert_id}
                    for row_id, alert_id in zip(tasks, alert_ids, strict=True)
                ],
            )
    for grid_id, residents in told.items():
        await raise_alert(
            session,
            grid_id=grid_id,
            kind=MATCH_ALERT,
            now=now,
            details={
                "list": pushed.id,
                "residents": [r.id for r in residents],
                "names": [r.name or "" for r in residents],
            },
            dedupe_key=f"pushed-match:{pushed.id}:{grid_id}",
        )
    await audit(
        session,
        imported_by or 0,
        "import",
        "pushed_list",
        now,
        list=pushed.id,
        source=pushed.source,
        rows=len(good),
        bad=len(bad),
        matched=result.matched,
        tasks=result.tasks,
    )
    return result


async def rescreen_matched(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, policy: Policy, limit: int = 200
) -> int:
    """The periodic job: residents found on a list and not yet checked again (a large list
    leaves them to it), `limit` at a time. Returns how many were checked."""
    rows = list(
        await session.scalars(
            select(PushedRow)
            .where(
                PushedRow.match.in_((MATCH_ID, MATCH_PHONE)),
                PushedRow.rescreened_at.is_(None),
                PushedRow.resident_id.is_not(None),
            )
            .order_by(PushedRow.id)
            .limit(limit)
        )
    )
    for record in rows:
        resident = await session.get(Resident, record.resident_id)
        if resident is not None and resident.purged_at is None:
            await _rescreen(session, record, resident, now, zone, policy)
        record.rescreened_at = now
    return len(rows)


async def _rescreen(
    session: AsyncSession,
    row: PushedRow,
    resident: Resident,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
) -> int | None:
    """A resident on the list is checked again with what the list says: the place and day
    join their history, the reason (a close contact…) their facts; the policy decides."""
    arrival = await session.scalar(
        select(Arrival).where(Arrival.resident_id == resident.id).order_by(Arrival.id.desc())
    )
    if arrival is not None:
        await session.refresh(arrival, ["stays"])
        if row.place_text and row.place_date is not None:
            arrival.stays.append(
                Stay(
                    place_code=row.place_code,
                    place_text=row.place_text,
                    from_date=row.place_date,
                    to_date=row.place_date,
                )
            )
            await session.flush()
        start = None
        if row.place_date is not None and row.reason in (
            rules.CLOSE_CONTACT,
            rules.CONTACT_OF_CONTACT,
        ):
            start = row.place_date  # the days of a contact count from the contact
        plan = await classify(
            session,
            resident,
            arrival,
            policy,
            now,
            zone,
            start=start,
            known=rules.REASON_FACTS.get(row.reason or ""),
        )
        plan_id: int | None = plan.id
    else:
        plan_id = None
    return plan_id


async def reencrypt_rows(session: AsyncSession, after: int, limit: int = 500) -> int | None:
    """The next `limit` pushed rows (by id, after `after`) encrypted and hashed again with the
    current key (`returnee admin rotate-key`): their ID numbers, phones and the row as it came;
    the last id done, or None when none are left."""
    rows = list(
        await session.scalars(
            select(PushedRow)
            .where(PushedRow.id > after)
            .order_by(PushedRow.id)
            .limit(limit)
            .with_for_update()
        )
    )
    if not rows:
        return None
    for row in rows:
        # Set again: the hashes follow (models/pushed.py), and the values are written anew.
        row.phone, row.id_number, row.raw = row.phone, row.id_number, dict(row.raw)
        for column in ("phone", "id_number", "raw"):
            flag_modified(row, column)
    return rows[-1].id


def parse_deadline(text: str) -> timedelta:
    """24h, 3d, 90m: how long the list gives (ValueError with the reason)."""
    typed = text.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(typed) < 2 or typed[-1] not in units or not typed[:-1].isdigit():
        raise ValueError("give the time the list allows as 24h, 3d or 90m")
    seconds = int(typed[:-1]) * units[typed[-1]]
    if not 0 < seconds <= 30 * 86400:
        raise ValueError("between 1 minute and 30 days")
    return timedelta(seconds=seconds)


# --- what came of a task -------------------------------------------------------------------


async def row_in_scope(session: AsyncSession, row_id: str, scope: Scope) -> PushedRow | None:
    """The row named (button data), if it lies in the worker's areas; None otherwise."""
    if not row_id.strip().isdigit() or len(row_id.strip()) > 12:
        return None
    row = await session.get(PushedRow, int(row_id.strip()))
    if row is None:
        return None
    area = await session.get(Area, row.area_id)
    return row if scope.covers(area) else None


async def record_outcome(
    session: AsyncSession,
    row: PushedRow,
    outcome: str,
    post: Staff,
    now: datetime,
    zone: ZoneInfo = DEFAULT_ZONE,
    *,
    note: str | None = None,
) -> None:
    """A worker's outcome (reached, visited, not here, unreachable) or a note: kept with the
    row and its task (which is then handled: no more re-sending), every copy told."""
    if outcome in OUTCOMES:
        row.outcome, row.outcome_at = outcome, now
        row.outcome_by, row.outcome_by_name = post.user_id, post.name
    if note:
        if outcome == "not_here":
            row.moved_to = note[:200]
        else:
            row.note = note[:2000]
    alert = await session.get(Alert, row.task_alert_id) if row.task_alert_id else None
    if alert is None:
        return
    if outcome in OUTCOMES:
        acknowledge(alert, post.user_id, now)
    session.add(
        AlertAction(
            alert_id=alert.id,
            kind=outcome if outcome in OUTCOMES else "note",
            actor_user_id=post.user_id,
            actor_name=post.name,
            note=note,
            at=now,
        )
    )
    await settle_copies(session, alert, now, zone, actor_chat=post.chat_id)


async def start_at_transfer(
    session: AsyncSession, row: PushedRow, now: datetime, zone: ZoneInfo, policy: Policy
) -> bool:
    """Someone brought home in a closed loop (点对点接送): once both the transfer is recorded
    and the person is known (reported, or found), their plan is decided again with its days
    counted from the recorded arrival. Whether it was."""
    if row.transfer_at is None or row.resident_id is None:
        return False
    resident = await session.get(Resident, row.resident_id)
    arrival = await session.scalar(
        select(Arrival).where(Arrival.resident_id == row.resident_id).order_by(Arrival.id.desc())
    )
    if resident is None or arrival is None or resident.purged_at is not None:
        return False
    await session.refresh(arrival, ["stays"])
    await classify(
        session,
        resident,
        arrival,
        policy,
        now,
        zone,
        start=row.transfer_at.astimezone(zone).date(),
        known=rules.REASON_FACTS.get(row.reason or ""),
    )
    return True


async def confirm_possible(
    session: AsyncSession,
    row: PushedRow,
    post: Staff,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
) -> Resident | None:
    """The worker confirms a "possible" match (same name in the area): the row is the
    resident's, who is checked again with what the list says, and the task is done. None when
    the row has no possible match (or it is gone)."""
    alert = await session.get(Alert, row.task_alert_id) if row.task_alert_id else None
    candidate = (alert.details or {}).get("possible") if alert is not None else None
    resident = await session.get(Resident, candidate) if isinstance(candidate, int) else None
    if alert is None or resident is None or resident.purged_at is not None:
        return None
    row.resident_id, row.area_id = resident.id, resident.grid_id
    row.outcome, row.outcome_at = MATCHED, now
    row.outcome_by, row.outcome_by_name = post.user_id, post.name
    await _rescreen(session, row, resident, now, zone, policy)
    row.rescreened_at = now
    acknowledge(alert, post.user_id, now)
    session.add(
        AlertAction(
            alert_id=alert.id,
            kind=MATCHED,
            actor_user_id=post.user_id,
            actor_name=post.name,
            at=now,
        )
    )
    await settle_copies(session, alert, now, zone, actor_chat=post.chat_id)
    return resident


async def record_transfer(
    session: AsyncSession,
    row: PushedRow,
    post: Staff,
    at: datetime,
    by: str,
    vehicle: str,
    now: datetime,
    zone: ZoneInfo = DEFAULT_ZONE,
    policy: Policy | None = None,
) -> None:
    """The closed-loop transfer (点对点接送): when, by whom, which vehicle. The home plan of
    the person (now if they are known, else once they report) starts at the arrival so
    recorded."""
    row.transfer_at, row.transfer_by, row.transfer_vehicle = at, by[:64], vehicle[:32]
    row.expected_arrival = at
    if policy is not None:
        await start_at_transfer(session, row, now, zone, policy)
    alert = await session.get(Alert, row.task_alert_id) if row.task_alert_id else None
    if alert is not None:
        session.add(
            AlertAction(
                alert_id=alert.id,
                kind="transfer",
                actor_user_id=post.user_id,
                actor_name=post.name,
                note=f"{moment_text(at, zone, Translator('zh_Hans'))} {by} {vehicle}".strip(),
                at=now,
            )
        )


# --- the personal link ---------------------------------------------------------------------


async def new_link(session: AsyncSession, row: PushedRow, user_id: int, now: datetime) -> str:
    """A single-use token for the row's person, valid for a few days."""
    token = "p" + secrets.token_urlsafe(12)
    session.add(
        PushedInvite(
            token=token,
            row_id=row.id,
            created_by=user_id,
            created_at=now,
            expires_at=now + LINK_VALID_FOR,
        )
    )
    await session.flush()
    return token


class LinkRefused(Enum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"


async def accept_link(
    session: AsyncSession, token: str, user_id: int, now: datetime
) -> PushedRow | LinkRefused | None:
    """The person opened their link: the row it names (their report will link to it), a
    refusal, or None when the token is no pushed list's (a companion's, perhaps)."""
    made = await session.scalar(
        select(PushedInvite).where(PushedInvite.token == token.strip()).limit(1)
    )
    if made is None:
        return None
    if made.used_at is not None and made.used_by != user_id:
        return LinkRefused.UNKNOWN
    if made.expires_at <= now:
        return LinkRefused.EXPIRED
    made.used_at, made.used_by = made.used_at or now, user_id
    return await session.get(PushedRow, made.row_id)


async def link_filed(
    session: AsyncSession,
    residents: Sequence[Resident],
    now: datetime,
    zone: ZoneInfo = DEFAULT_ZONE,
    *,
    row_id: int | None = None,
    policy: Policy | None = None,
) -> list[PushedRow]:
    """People just filed: the row their personal link named (`row_id`) and any open row with
    their ID number are theirs now; each such task is closed (reported themselves)."""
    linked: list[PushedRow] = []
    if not residents:
        return linked
    candidates: list[PushedRow] = []
    if row_id is not None:
        row = await session.get(PushedRow, row_id)
        if row is not None and row.resident_id is None:
            candidates.append(row)
    by_hash = {r.id_number_hash: r for r in residents if r.id_number_hash}
    if by_hash:
        candidates += list(
            await session.scalars(
                select(PushedRow).where(
                    PushedRow.id_number_hash.in_(list(by_hash)),
                    PushedRow.resident_id.is_(None),
                )
            )
        )
    seen: set[int] = set()
    for row in candidates:
        if row.id in seen:
            continue
        seen.add(row.id)
        resident = by_hash.get(row.id_number_hash or "") or residents[0]
        row.resident_id = resident.id
        row.outcome, row.outcome_at, row.area_id = REPORTED, now, resident.grid_id
        linked.append(row)
        if policy is not None:
            await start_at_transfer(session, row, now, zone, policy)
        alert = await session.get(Alert, row.task_alert_id) if row.task_alert_id else None
        if alert is not None and alert.status == OPEN:
            acknowledge(alert, resident.reporter_user_id, now)
            session.add(
                AlertAction(
                    alert_id=alert.id, kind=REPORTED, actor_user_id=None, actor_name="", at=now
                )
            )
            await settle_copies(session, alert, now, zone)
    return linked


# --- feedback ------------------------------------------------------------------------------

COUNTS = (
    "pushed",
    "matched",
    "reported",
    "reached",
    "visited",
    "not_here",
    "unreachable",
    "open",
    "overdue",
)


@dataclass(frozen=True)
class Figures:
    list_id: int
    source: str
    area: str
    counts: dict[str, int]
    area_code: str = ""
    deadline_at: datetime | None = None


async def lists_in_scope(session: AsyncSession, scope: Scope) -> list[PushedList]:
    """Lists with a row in the worker's areas, newest first."""
    query = (
        select(PushedList)
        .where(
            PushedList.id.in_(
                select(PushedRow.list_id)
                .join(Area, Area.id == PushedRow.area_id)
                .where(scope.condition())
            )
        )
        .order_by(PushedList.id.desc())
    )
    return list(await session.scalars(query))


async def summary(
    session: AsyncSession, scope: Scope, now: datetime, *, by_area: bool = True
) -> list[Figures]:
    """Per list (and per area of the worker's below them, or their own area when they look
    after a grid), counted in SQL: pushed, matched, reported themselves, reached, visited,
    not here, unreachable, open, overdue."""
    outcome = PushedRow.outcome
    overdue = and_(outcome.is_(None), PushedList.deadline_at < now)
    columns = [
        func.count(PushedRow.id).label("pushed"),
        *(
            func.sum(case((outcome == value, 1), else_=0)).label(name)
            for name, value in (
                ("matched", MATCHED),
                ("reported", REPORTED),
                ("reached", "reached"),
                ("visited", "visited"),
                ("not_here", "not_here"),
                ("unreachable", "unreachable"),
            )
        ),
        func.sum(case((outcome.is_(None), 1), else_=0)).label("open"),
        func.sum(case((overdue, 1), else_=0)).label("overdue"),
    ]
    figures: list[Figures] = []
    for mine in scope.areas:
        # (area, its own rows only): by area, each area below, and the area's own queue
        # (rows at no community of ours) when it has one.
        below: list[tuple[Area, bool]] = [(mine, False)]
        if by_area and mine.level != Level.GRID:
            children = await session.scalars(
                select(Area).where(Area.parent_id == mine.id).order_by(Area.code)
            )
            below = [(mine, True), *((child, False) for child in children)]
        for area, own in below:
            where = (
                Area.id == area.id
                if own
                else (Area.path == area.path)
                | Area.path.startswith(area.path + "/", autoescape=True)
            )
            query = (
                select(PushedList.id, PushedList.source, PushedList.deadline_at, *columns)
                .join(PushedList, PushedList.id == PushedRow.list_id)
                .join(Area, Area.id == PushedRow.area_id)
                .where(where)
                .group_by(PushedList.id, PushedList.source, PushedList.deadline_at)
                .order_by(PushedList.id)
            )
            for found in (await session.execute(query)).all():
                counts = {name: int(getattr(found, name) or 0) for name in COUNTS}
                figures.append(
                    Figures(found.id, found.source, area.name, counts, area.code, found.deadline_at)
                )
    return figures


COUNT_NAMES = {
    "pushed": N_("pushed"),
    "matched": N_("matched"),
    "reported": N_("reported themselves"),
    "reached": N_("reached"),
    "visited": N_("visited"),
    "not_here": N_("not here"),
    "unreachable": N_("unreachable"),
    "open": N_("open"),
    "overdue": N_("overdue"),
}


async def progress(
    session: AsyncSession, area: Area, now: datetime, *, below: bool = False
) -> list[Figures]:
    """Each list's progress in the area (and, with `below`, in each area directly below it),
    as of now: for the API's figures and the dashboard. No personal data."""
    scope = Scope(0, (area,))
    found = await summary(session, scope, now, by_area=False)
    if below and area.level != Level.GRID:
        found += [
            f for f in await summary(session, scope, now, by_area=True) if f.area_code != area.code
        ]
    return sorted(found, key=lambda f: (-f.list_id, f.area_code != area.code, f.area_code))


async def progress_over(
    session: AsyncSession,
    area: Area,
    moments: Sequence[datetime],
    *,
    below: bool = False,
) -> list[list[Figures]]:
    """For each of `moments` (each day's report time, or now for a day not over): every
    list's progress in the area (and with `below` in each area directly below), as `progress`
    would have given it then. One grouped query: a row counts from when it was imported, its
    outcome from when it was recorded (a match found at the import, from the import)."""
    if not moments:
        return []
    children: list[Area] = []
    if below and area.level != Level.GRID:
        children = list(
            await session.scalars(select(Area).where(Area.parent_id == area.id).order_by(Area.code))
        )
    done_at = func.coalesce(PushedRow.outcome_at, PushedRow.created_at)
    query = (
        select(
            PushedRow.list_id,
            PushedList.source,
            PushedList.deadline_at,
            Area.path,
            PushedRow.outcome,
            _first_at_or_after(PushedRow.created_at, moments).label("since"),
            _first_at_or_after(done_at, moments).label("done"),
            func.count(),
        )
        .join(PushedList, PushedList.id == PushedRow.list_id)
        .join(Area, Area.id == PushedRow.area_id)
        .where(
            (Area.path == area.path) | Area.path.startswith(area.path + "/", autoescape=True),
            PushedRow.created_at <= moments[-1],
        )
        .group_by(
            PushedRow.list_id,
            PushedList.source,
            PushedList.deadline_at,
            Area.path,
            PushedRow.outcome,
            "since",
            "done",
        )
    )
    keys = [area, *children]
    # (day, list, key area) → counts
    counted: dict[tuple[int, int, int], dict[str, int]] = {}
    lists: dict[int, tuple[str, datetime | None]] = {}
    for list_id, source, deadline, path, outcome, since, done, number in (
        await session.execute(query)
    ).all():
        lists[list_id] = (source, deadline)
        held = [0] + [
            k
            for k, child in enumerate(children, 1)
            if path == child.path or path.startswith(child.path + "/")
        ]
        for day in range(since, len(moments)):
            name = OUTCOME_COUNTS.get(outcome) if outcome and done <= day else None
            for k in held:
                counts = counted.setdefault((day, list_id, k), dict.fromkeys(COUNTS, 0))
                counts["pushed"] += number
                if name is not None:
                    counts[name] += number
                else:
                    counts["open"] += number
                    if deadline is not None and deadline < moments[day]:
                        counts["overdue"] += number
    found: list[list[Figures]] = [[] for _ in moments]
    for (day, list_id, k), counts in sorted(
        counted.items(), key=lambda i: (i[0][0], -i[0][1], i[0][2])
    ):
        source, deadline = lists[list_id]
        key = keys[k]
        found[day].append(Figures(list_id, source, key.name, counts, key.code, deadline))
    return found


# The count each recorded outcome goes to (anything else: still open).
OUTCOME_COUNTS = {
    MATCHED: "matched",
    REPORTED: "reported",
    "reached": "reached",
    "visited": "visited",
    "not_here": "not_here",
    "unreachable": "unreachable",
}


def _first_at_or_after(value: Any, moments: Sequence[datetime]) -> Any:
    """The index of the first moment at or after `value` (len(moments) when none is)."""
    return case(*((value <= m, i) for i, m in enumerate(moments)), else_=len(moments))


STILL_OPEN = N_("📋 Pushed lists still open")


def counts_text(figures: Figures, tr: Translator) -> str:
    """ "pushed 12, matched 5, …, open 3": the counts that are not zero (pushed and open
    always), in the reader's words."""
    return tr.join(
        f"{tr(COUNT_NAMES[name])} {figures.counts[name]}"
        for name in COUNTS
        if figures.counts[name] or name in ("pushed", "open")
    )


async def daily_lines(
    session: AsyncSession, user_id: int, areas: Sequence[Area], now: datetime, tr: Translator
) -> str:
    """The daily report's lines on pushed lists: each list with a row still open in the
    worker's areas, its figures there ("" when there is none)."""
    figures = await summary(session, Scope(user_id, tuple(areas)), now, by_area=False)
    shown = [f for f in figures if f.counts["open"]]
    if not shown:
        return ""
    lines = [f"<b>{html.escape(tr(STILL_OPEN))}</b>"]
    lines += [
        f"• {html.escape(f.source)} ({html.escape(f.area)}): {html.escape(counts_text(f, tr))}"
        for f in shown
    ]
    return "\n".join(lines)


async def rows_in_scope(
    session: AsyncSession, scope: Scope, list_id: int
) -> list[tuple[PushedRow, Area]]:
    query = (
        select(PushedRow, Area)
        .join(Area, Area.id == PushedRow.area_id)
        .where(PushedRow.list_id == list_id, scope.condition())
        .order_by(PushedRow.line)
    )
    return [(row, area) for row, area in (await session.execute(query)).all()]


async def feedback_workbook(
    session: AsyncSession,
    scope: Scope,
    pushed: PushedList,
    now: datetime,
    zone: ZoneInfo,
    tr: Translator,
) -> tuple[bytes, int]:
    """The list's feedback (反馈汇总) as a workbook: one row per person of the worker's areas
    and what was done; and how many rows. The ID number shows its last four only. Drawn in
    the drawing process like the register (`services.export.workbook`: text stays text, never
    a formula), so openpyxl never enters the bot's memory."""
    from models.people import mask_id
    from services.export import Sheet, workbook

    header = [
        tr("Line"),
        tr("Name"),
        tr("ID number"),
        tr("Reason"),
        tr("Area"),
        tr("Matched"),
        tr("Outcome"),
        tr("When"),
        tr("By"),
        tr("Moved to"),
        tr("Note"),
    ]
    lines: list[list[Any]] = []
    rows = await rows_in_scope(session, scope, pushed.id)
    for row, area in rows:
        outcome = tr(DONE_TEXTS[row.outcome]) if row.outcome in DONE_TEXTS else ""
        if row.outcome is None:
            outcome = tr("open") + (tr.paren(tr("overdue")) if pushed.deadline_at < now else "")
        when = row.outcome_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if row.outcome_at else ""
        lines.append(
            [
                row.line,
                row.name,
                mask_id(row.id_number),
                tr(PUSHED_REASONS.get(row.reason or "other", PUSHED_REASONS["other"])),
                area.name,
                {
                    MATCH_ID: tr("ID number"),
                    MATCH_PHONE: tr("phone"),
                    MATCH_POSSIBLE: tr("possible"),
                }.get(row.match or "", ""),
                outcome,
                when,
                row.outcome_by_name,
                row.moved_to or "",
                row.note or "",
            ]
        )
    return await drawn(workbook, [Sheet(tr("Feedback"), header, lines)]), len(rows)


def day_of(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
