"""The register (登记造册) as a workbook a worker can hand upwards: one row per person with
the reported fields, the plan, test results and a check-in summary; a summary sheet first,
then one sheet per grid — or, for higher levels, one per area below theirs (逐级上报).

`row_for` and `workbook` are pure; `export_workbook` reads the worker's scope and builds it.
The ID number is shown in full here only (everywhere else it is masked).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import N_, Translator
from models.areas import Area, Level, children_of
from models.plans import ACTIVE
from rules.identity import age_on, birth_and_sex
from services.drawing import drawn
from services.figures import DEFAULT_AT, DailyFigures, daily_figures
from services.records import (
    Record,
    Scope,
    checkin_summary,
    records_in,
    symptom_names,
)
from services.vocabulary import (
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

# (key, header): the register's columns (登记表), in the order a municipal office expects.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", N_("No.")),
    ("name", N_("Name")),
    ("sex", N_("Sex")),
    ("age", N_("Age")),
    ("id_number", N_("ID card number")),
    ("phone", N_("Contact phone")),
    ("address", N_("Current address")),
    ("origin", N_("Coming from")),
    ("arrived_at", N_("Arrival time")),
    ("transport", N_("Transport and train or flight number")),
    ("history", N_("Travel history, last 14 days")),
    ("measures", N_("Measures")),
    ("dates", N_("From and to")),
    ("tests", N_("Nucleic-acid results")),
    ("health", N_("Health")),
    ("notes", N_("Notes")),
)
KEYS = tuple(key for key, _ in COLUMNS)
SEX_NAMES = {"male": N_("male"), "female": N_("female")}

# The summary sheet: the figures of the latest daily report, per area and in all.
SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("area", N_("Area")),
    ("reports", N_("Reports received")),
    ("arrived", N_("Arrived")),
    ("expected", N_("Expected in the next days")),
    ("no_shows", N_("Expected but not arrived")),
    ("monitoring", N_("Under monitoring")),
    ("due", N_("Check-ins due")),
    ("on_time", N_("Check-ins on time")),
    ("late", N_("Check-ins late")),
    ("missed", N_("Check-ins missed")),
    ("abnormal", N_("Abnormal reports")),
    ("abnormal_handled", N_("Abnormal reports with action")),
    ("missed_handled", N_("Missed check-ins with action")),
    ("released", N_("Released")),
    ("still_open", N_("Alerts still open from earlier")),
)


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel keeps no time zone: the local time, without one."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def row_for(
    record: Record,
    now: datetime,
    zone: ZoneInfo,
    tr: Translator,
    *,
    number: int = 0,
    full_id: bool = False,
) -> dict[str, Cell]:
    """One person's row, by column key: words in the reader's language, no emoji, the ID
    number masked unless `full_id`."""
    person, arrival, plan = record.person, record.arrival, record.plan
    today = now.astimezone(zone).date()
    born, sex = birth_and_sex(person.id_number)
    row: dict[str, Cell] = dict.fromkeys(KEYS)
    notes: list[str] = [tr("record no. {number}", number=person.id), record.grid.name]
    if person.relation != "self":
        reporter = next((p for p in record.household if p.relation == "self"), None)
        notes.append(
            tr(
                "{relation} of {reporter}, who answers for them",
                relation=tr(RELATION_NAMES.get(person.relation, person.relation)),
                reporter=reporter.name if reporter else "?",
            )
        )
    row.update(
        number=number or person.id,
        name=person.name,
        sex=tr(SEX_NAMES[sex]) if sex else "",
        age=age_on(born, today) if born else None,
        id_number=person.id_number if full_id else person.masked_id,
        phone=person.phone,
        address=person.household.address,
    )
    health: list[str] = []
    if person.by_proxy:
        notes.append(tr("reported and checked in for them by a worker (代报, 代打卡)"))
    if arrival is not None:
        if arrival.status == "expected":
            notes.append(tr("not arrived yet"))
        if arrival.entry_port:
            notes.append(tr.label(tr("Port of entry"), arrival.entry_port))
        if arrival.quarantine_ended_on:
            notes.append(
                tr("Quarantine ended on {day}", day=day_text(arrival.quarantine_ended_on, tr))
            )
        if arrival.seat:
            notes.append(tr("seat {seat}", seat=arrival.seat))
        at_arrival = tr.clauses(
            x
            for x in (
                temperature_text(arrival.temperature),
                symptom_names(arrival.symptoms, tr),
                option_name(HEALTH_CODES, arrival.health_code, tr),
            )
            if x
        )
        if at_arrival:
            health.append(tr.label(tr("At arrival"), at_arrival))
        row.update(
            origin=place_name(arrival.origin_code, arrival.origin_text, tr),
            arrived_at=_local(arrival.arrived_at or arrival.expected_at, zone),
            transport=" ".join(
                x
                for x in (
                    option_name(TRANSPORTS, arrival.transport, tr),
                    arrival.transport_number or "",
                )
                if x
            ),
            history=tr.items(
                f"{place_name(s.place_code, s.place_text, tr)} "
                f"{day_text(s.from_date, tr)}–{day_text(s.to_date, tr)}"
                for s in arrival.stays
            ),
        )
    tests: list[str] = []
    if arrival is not None and arrival.test_result and arrival.test_result != "none":
        before = tr(TEST_ANSWERS.get(arrival.test_result, arrival.test_result))
        if arrival.test_date:
            before = f"{day_text(arrival.test_date, tr)} {before}"
        tests.append(tr.label(tr("Before arrival"), before))
    if plan is not None:
        results = {t.day.isoformat(): t.result for t in record.tests if t.plan_id == plan.id}
        tests += [
            f"{day_text(date.fromisoformat(day), tr)} "
            + tr(TEST_ANSWERS.get(results.get(day, ""), "") or N_("no result yet"))
            for day in plan.test_days
        ]
        measures = plan_name(plan.phases, tr, plan.refer_to_clinic)
        if plan.status != ACTIVE:
            measures += tr.paren(tr(PLAN_STATES.get(plan.status, plan.status)))
        row.update(
            measures=measures,
            dates=f"{day_text(plan.starts_on, tr)}–{day_text(plan.ends_on, tr)}",
        )
    row["tests"] = tr.items(tests)
    summary = checkin_summary(record.checkins, now)
    last = summary.last
    if last is not None:
        health.append(
            tr.label(
                tr("Last check-in"),
                tr.clauses(
                    x
                    for x in (
                        slot_text(last.slot_start, zone, tr),
                        temperature_text(last.temperature),
                        symptom_names(last.symptoms, tr),
                    )
                    if x
                ),
            )
        )
    if summary.due:
        health.append(
            tr(
                "Check-ins: {answered} of {due} answered, {missed} missed, {abnormal} abnormal",
                answered=summary.answered,
                due=summary.due,
                missed=summary.missed,
                abnormal=summary.abnormal,
            )
        )
    row["health"] = tr.items(health)
    row["notes"] = tr.items(notes)
    return row


def summary_row(area_name: str, figures: DailyFigures) -> list[Cell]:
    """An area's line of the summary sheet: the figures of its daily report."""
    return [
        area_name,
        figures.reports,
        figures.arrived,
        len(figures.expected),
        len(figures.no_shows),
        len(figures.monitoring),
        figures.checkins_due,
        figures.checkins_answered,
        figures.checkins_late,
        figures.checkins_missed,
        len(figures.abnormal),
        sum(i.handled for i in figures.abnormal),
        sum(i.handled for i in figures.missed),
        len(figures.releases),
        figures.still_open_count,
    ]


def report_day(now: datetime, zone: ZoneInfo, at: time) -> date:
    """The day of the latest daily report: today once its time has come, else yesterday."""
    local = now.astimezone(zone)
    return local.date() if local.time() >= at else local.date() - timedelta(days=1)


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
    is never turned into a formula. Made in the drawing process (`services.drawing.drawn`):
    openpyxl is imported here, never by the bot."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

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


async def export_sheets(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    zone: ZoneInfo,
    tr: Translator,
    *,
    full_id: bool = False,
    at: time = DEFAULT_AT,
) -> tuple[list[Sheet], int]:
    """The summary sheet (the latest daily report's figures per area, and in all) and one
    sheet per area, and how many people they list."""
    records = await records_in(session, scope)
    header = [tr(title) for _, title in COLUMNS]
    day = report_day(now, zone, at)
    sheets: list[Sheet] = []
    summary: list[list[Cell]] = []
    total: list[int] = [0] * (len(SUMMARY_COLUMNS) - 1)
    for area in await sheet_areas(session, scope):
        mine = sorted((r for r in records if _under(area, r)), key=lambda r: r.person.id)
        figures = await daily_figures(session, area, day, zone, at)
        line = summary_row(area.name, figures)
        summary.append(line)
        total = [t + (v if isinstance(v, int) else 0) for t, v in zip(total, line[1:], strict=True)]
        rows = [
            row_for(r, now, zone, tr, number=n, full_id=full_id)
            for n, r in enumerate(mine, start=1)
        ]
        sheets.append(Sheet(area.name, header, [[row[k] for k in KEYS] for row in rows]))
    summary.append([tr("In all"), *total])
    first = Sheet(tr("Summary"), [tr(title) for _, title in SUMMARY_COLUMNS], summary)
    return [first, *sheets], len(records)


async def export_workbook(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    zone: ZoneInfo,
    tr: Translator,
    *,
    full_id: bool = False,
    at: time = DEFAULT_AT,
) -> tuple[bytes, int]:
    """The worker's register as .xlsx bytes, and how many people it lists."""
    sheets, people = await export_sheets(session, scope, now, zone, tr, full_id=full_id, at=at)
    return await drawn(workbook, sheets), people


def csv_register(sheets: Sequence[Sheet], tr: Translator) -> bytes:
    """The people of every area sheet as one CSV (UTF-8 with a BOM, which Excel reads as
    such), with the area first; the summary is left to the workbook."""
    out = io.StringIO()
    writer = csv.writer(out)
    people = [s for s in sheets[1:]]
    header = [tr("Area"), *(people[0].header if people else [tr(t) for _, t in COLUMNS])]
    writer.writerow(header)
    for sheet in people:
        for values in sheet.rows:
            writer.writerow([sheet.title, *(_csv_cell(v) for v in values)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# What a spreadsheet would take for a formula: "=…", "@…", or a sign not before a number.
FORMULA = re.compile(r"^(?:[=@]|[+-](?![\d\s]))")


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    text = ILLEGAL.sub("", value)
    # A cell a resident typed as a formula stays text in the spreadsheet that opens the file.
    return "'" + text if FORMULA.match(text) else text
