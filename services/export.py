"""The register (登记造册) as a workbook a worker can hand upwards: one row per person with
the reported fields, the plan, test results and a check-in summary; a summary sheet first,
then one sheet per grid — or, for higher levels, one per area below theirs (逐级上报).

`row_for` and `workbook` are pure; `export_workbook` reads the worker's scope and builds it.
The ID number is shown in full here only (everywhere else it is masked).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import N_, Translator
from models.areas import Area, Level, children_of
from models.plans import ACTIVE, HELD, RELEASED
from services.records import (
    Record,
    Scope,
    abnormal_arrival,
    checkin_summary,
    phase_on,
    records_in,
    symptom_names,
)
from services.vocabulary import (
    ARRIVAL_STATES,
    HEALTH_CODES,
    PLAN_STATES,
    RELATION_NAMES,
    TEST_ANSWERS,
    TRANSPORTS,
)
from services.wording import (
    day_text,
    option_name,
    place_name,
    plan_name,
    slot_text,
    temperature_text,
)

Cell = str | int | float | date | datetime | None

# (key, header): the register's columns, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", N_("Record no.")),
    ("name", N_("Name")),
    ("phone", N_("Phone")),
    ("id_number", N_("ID number")),
    ("relation", N_("Relation")),
    ("household", N_("Household no.")),
    ("grid", N_("Grid")),
    ("address", N_("Address")),
    ("status", N_("Status")),
    ("expected_at", N_("Expected at")),
    ("arrived_at", N_("Arrived at")),
    ("reported_at", N_("Reported at")),
    ("origin", N_("Coming from")),
    ("transport", N_("Transport")),
    ("transport_number", N_("Train, flight or plate number")),
    ("seat", N_("Seat")),
    ("entry_port", N_("Port of entry")),
    ("quarantine_ended_on", N_("Quarantine ended on")),
    ("history", N_("Travel history")),
    ("temperature", N_("Temperature at arrival (°C)")),
    ("symptoms", N_("Symptoms at arrival")),
    ("health_code", N_("Health code")),
    ("last_test", N_("Last test before arrival")),
    ("plan", N_("Plan")),
    ("plan_status", N_("Plan status")),
    ("plan_from", N_("Plan from")),
    ("plan_to", N_("Plan to")),
    ("tests", N_("Test results")),
    ("negatives", N_("Negative tests")),
    ("negatives_needed", N_("Negative tests needed")),
    ("checkins_answered", N_("Check-ins answered")),
    ("checkins_due", N_("Check-ins due")),
    ("checkins_missed", N_("Check-ins missed")),
    ("checkins_late", N_("Check-ins answered late")),
    ("checkins_abnormal", N_("Abnormal check-ins")),
    ("last_checkin", N_("Last check-in")),
)
KEYS = tuple(key for key, _ in COLUMNS)

SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("area", N_("Area")),
    ("code", N_("Code")),
    ("people", N_("People registered")),
    ("arrived", N_("Arrived")),
    ("expected", N_("Expected")),
    ("monitoring", N_("Under monitoring now")),
    ("released", N_("Released")),
    ("held", N_("Held open")),
    ("abnormal", N_("Abnormal reports")),
    ("missed", N_("Check-ins missed")),
)


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel keeps no time zone: the local time, without one."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def row_for(record: Record, now: datetime, zone: ZoneInfo, tr: Translator) -> dict[str, Cell]:
    """One person's row, by column key."""
    person, arrival, plan = record.person, record.arrival, record.plan
    row: dict[str, Cell] = dict.fromkeys(KEYS)
    row.update(
        number=person.id,
        name=person.name,
        phone=person.phone,
        id_number=person.id_number,
        relation=tr(RELATION_NAMES.get(person.relation, person.relation)),
        household=person.household_id,
        grid=record.grid.name,
        address=person.household.address,
    )
    if arrival is not None:
        test = ""
        if arrival.test_result and arrival.test_result != "none":
            test = tr(TEST_ANSWERS.get(arrival.test_result, arrival.test_result))
            if arrival.test_date:
                test += " " + day_text(arrival.test_date, tr)
        row.update(
            status=tr(ARRIVAL_STATES.get(arrival.status, arrival.status)),
            expected_at=_local(arrival.expected_at, zone),
            arrived_at=_local(arrival.arrived_at, zone),
            reported_at=_local(arrival.reported_at, zone),
            origin=place_name(arrival.origin_code, arrival.origin_text, tr),
            transport=option_name(TRANSPORTS, arrival.transport, tr),
            transport_number=arrival.transport_number,
            seat=arrival.seat,
            entry_port=arrival.entry_port,
            quarantine_ended_on=arrival.quarantine_ended_on,
            history=tr.items(
                f"{place_name(s.place_code, s.place_text, tr)} "
                f"{day_text(s.from_date, tr)}–{day_text(s.to_date, tr)}"
                for s in arrival.stays
            ),
            temperature=arrival.temperature,
            symptoms=symptom_names(arrival.symptoms, tr),
            health_code=option_name(HEALTH_CODES, arrival.health_code, tr),
            last_test=test,
        )
    if plan is not None:
        results = {t.day.isoformat(): t.result for t in record.tests if t.plan_id == plan.id}
        row.update(
            plan=plan_name(plan.phases, tr, plan.refer_to_clinic),
            plan_status=tr(PLAN_STATES.get(plan.status, plan.status)),
            plan_from=plan.starts_on,
            plan_to=plan.ends_on,
            tests=tr.items(
                f"{day_text(date.fromisoformat(day), tr)} "
                + tr(TEST_ANSWERS.get(results.get(day, ""), "") or N_("no result yet"))
                for day in plan.test_days
            ),
            negatives=sum(1 for r in results.values() if r == "negative"),
            negatives_needed=plan.negatives_needed,
        )
    summary = checkin_summary(record.checkins, now)
    last = summary.last
    row.update(
        checkins_answered=summary.answered,
        checkins_due=summary.due,
        checkins_missed=summary.missed,
        checkins_late=summary.late,
        checkins_abnormal=summary.abnormal,
        last_checkin=(
            tr.clauses(
                x
                for x in (
                    slot_text(last.slot_start, zone, tr),
                    temperature_text(last.temperature),
                    symptom_names(last.symptoms, tr),
                )
                if x
            )
            if last is not None
            else ""
        ),
    )
    return row


def summary_row(area: Area, records: Sequence[Record], now: datetime, zone: ZoneInfo) -> list[Cell]:
    day = now.astimezone(zone).date()
    arrivals = [r.arrival for r in records if r.arrival is not None]
    plans = [r.plan for r in records if r.plan is not None]
    return [
        area.name,
        area.code,
        len(records),
        sum(1 for a in arrivals if a.status == "arrived"),
        sum(1 for a in arrivals if a.status == "expected"),
        sum(1 for p in plans if p.status == ACTIVE and phase_on(p, day) is not None),
        sum(1 for p in plans if p.status == RELEASED),
        sum(1 for p in plans if p.status == HELD),
        sum(1 for a in arrivals if abnormal_arrival(a))
        + sum(checkin_summary(r.checkins, now).abnormal for r in records),
        sum(checkin_summary(r.checkins, now).missed for r in records),
    ]


# ----- the file -----

ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def sheet_titles(titles: Sequence[str]) -> list[str]:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique regardless of case."""
    seen: set[str] = set()
    out: list[str] = []
    for title in titles:
        base = BAD_TITLE.sub(" ", ILLEGAL.sub("", title)).strip().strip("'")[:31] or "Sheet"
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL.sub("", value)
    return value


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """The workbook as .xlsx bytes. Text is always text: a value typed as "=…" by a resident
    is never turned into a formula."""
    book = Workbook()
    book.remove(book.active)
    for sheet, title in zip(sheets, sheet_titles([s.title for s in sheets]), strict=True):
        page = book.create_sheet(title)
        widths = [len(h) for h in sheet.header]
        for column, header in enumerate(sheet.header, start=1):
            page.cell(row=1, column=column, value=header).font = Font(bold=True)
        for r, values in enumerate(sheet.rows, start=2):
            for column, value in enumerate(values, start=1):
                cell = page.cell(row=r, column=column, value=_cell(value))
                if isinstance(value, str):
                    cell.data_type = "s"
                elif isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                if column <= len(widths):
                    widths[column - 1] = max(widths[column - 1], min(len(str(value or "")), 40))
        for column, width in enumerate(widths, start=1):
            page.column_dimensions[get_column_letter(column)].width = max(width + 2, 8)
        page.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _under(area: Area, record: Record) -> bool:
    return record.grid.path == area.path or record.grid.path.startswith(area.path + "/")


async def sheet_areas(session: AsyncSession, scope: Scope) -> list[Area]:
    """A sheet per grid of a grid worker; per area below theirs for higher levels."""
    areas: list[Area] = []
    for area in scope.areas:
        below = await children_of(session, area.id) if area.level != Level.GRID else []
        areas.extend(below or [area])
    return areas


async def export_workbook(
    session: AsyncSession, scope: Scope, now: datetime, zone: ZoneInfo, tr: Translator
) -> tuple[bytes, int]:
    """The worker's register as .xlsx bytes, and how many people it lists."""
    records = await records_in(session, scope)
    header = [tr(title) for _, title in COLUMNS]
    sheets: list[Sheet] = []
    summary: list[list[Cell]] = []
    for area in await sheet_areas(session, scope):
        mine = [r for r in records if _under(area, r)]
        summary.append(summary_row(area, mine, now, zone))
        rows = [row_for(r, now, zone, tr) for r in mine]
        sheets.append(Sheet(area.name, header, [[row[k] for k in KEYS] for row in rows]))
    first = Sheet(tr("Summary"), [tr(title) for _, title in SUMMARY_COLUMNS], summary)
    return workbook([first, *sheets]), len(records)
