"""The grid worker's commands over the register: what a worker would check in each answer,
the workbook opened back and compared with the database, and nothing from another grid."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from itertools import count

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.contract import Incoming, Kind, Send
from handlers.app import Core
from models.areas import area_by_code
from models.outbox import Outgoing
from models.people import Household, Resident
from models.plans import MonitoringPlan
from models.staff import AuditEntry
from services.counts import rollup_figures
from services.export import COLUMNS, Sheet, sheet_titles, workbook
from services.figures import daily_figures
from services.options import Options
from tests.handlers.test_report import consent
from tests.handlers.test_staff import invite, worker_of
from tests.services.test_checkins import at, run
from tests.services.test_plans import list_risk
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
ZONE = Options().zone
GRID_1 = "620201001001001"
GRID_2 = "620201001001002"
COMMUNITY = "620201001001"
STREET = "620201001"
_messages = count(50_000)


async def file_report(
    person: Person,
    name: str,
    phone: str,
    id_number: str,
    grid: str,
    place: str,
    button: str,
    *,
    arrived: bool = True,
    number: str = "G1234",
) -> None:
    await consent(person)
    await person.send(name)
    await person.share_contact(phone)
    await person.send(id_number)
    for label in ("雄关区", "新华街道", "新华南路社区"):
        await person.press(label)
    # The grid follows from the building: 1-10 are the first grid's, 11-20 the second's.
    await person.send("13栋2单元501" if grid == "第二网格" else "3栋2单元501")
    if arrived:
        await person.press("I have just arrived")
    else:
        await person.press("I will arrive in the next 3 days")
        await person.press("Tomorrow")
        await person.press("14:00")
    await person.type_place(place, button)
    await person.press("Train")
    await person.send(number)
    await person.press("No more places")
    await person.press("No one more")
    await person.press("Something to report")
    await person.press("36.5")
    await person.press("None of these")
    await person.press("Green")
    await person.press("No test")
    await person.press("Submit")
    assert "Your report is filed" in "\n".join(person.texts())


class Town:
    """Li Na (grid 2, home isolation, a fever at check-in, one missed check-in), Zhao Lei
    (grid 2, expected tomorrow) and Wang Fang (grid 1), with a worker for each grid."""

    def __init__(self, li: Person, zhao: Person, wang: Person, two: Person, one: Person) -> None:
        self.li, self.zhao, self.wang, self.two, self.one = li, zhao, wang, two, one


@pytest.fixture
async def town(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Town:
    core = resident.core
    two = await worker_of(resident, sessions, clock, GRID_2, 5002)
    one = await worker_of(resident, sessions, clock, GRID_1, 5001)
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    li = resident
    await file_report(
        li, "Li Na", "8613812345678", "11010519491231002X", "第二网格", "广州", "Guangzhou"
    )
    wang = Person(core, user_id=1002)
    await file_report(
        wang, "Wang Fang", "8613900001111", "E12345678", "第一网格", "南京", "Nanjing"
    )
    at(clock, 20, 5)
    await run(sessions, clock, "open")  # Li Na's evening check-in: left unanswered
    at(clock, 8, 5, days=1)
    await run(sessions, clock, "open")
    await run(sessions, clock, "miss")
    await li.send("/checkin")
    await li.send("38.1")
    await li.press("No medicine")
    await li.press("Cough")
    await li.press("Done")
    await li.press("Today")
    await li.press("Stayed home")
    at(clock, 8, 30, days=1)
    zhao = Person(core, user_id=1003)
    await file_report(
        zhao,
        "Zhao Lei",
        "8613700002222",
        "G87654321",
        "第二网格",
        "南京",
        "Nanjing",
        arrived=False,
        number="G7001",
    )
    return Town(li, zhao, wang, two, one)


async def person_id(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Resident.id).where(Resident.name == name))
    assert found is not None
    return found


async def audit_log(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def export_reply(core: Core, user_id: int, args: str = "", language: str = "en") -> Send:
    replies = await core.handle(
        Incoming(
            user_id=user_id,
            chat_id=user_id,
            kind=Kind.COMMAND,
            command="export",
            args=args,
            language=language,
            message_id=next(_messages),
        )
    )
    (sent,) = [r for r in replies if isinstance(r, Send) and r.file is not None]
    return sent


async def export_of(core: Core, user_id: int) -> tuple[Send, Workbook]:
    sent = await export_reply(core, user_id)
    assert sent.file is not None and sent.file.filename.endswith(".xlsx")
    return sent, load_workbook(io.BytesIO(sent.file.content))


def sheet_rows(book: Workbook, title: str) -> list[dict[str, object]]:
    rows = list(book[title].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


WORKER_COMMANDS = (
    "/today", "/arrivals", "/monitoring", "/missed", "/find Li", "/person 1", "/stats",
    "/notify Stay home", "/export",
)  # fmt: skip


async def test_the_commands_are_for_grid_workers_only(resident: Person) -> None:
    resident.language = "en"
    for command in WORKER_COMMANDS:
        await resident.send(command)
        assert resident.last.text == "This command is for grid workers. Join with /join CODE."


async def test_today_counts_reports_arrivals_checkins_abnormal_and_missed(town: Town) -> None:
    await town.two.send("/today")
    text = town.two.last.text
    assert "Today, 2 Jul" in text and "新华南路社区第二网格" in text
    assert "Reports received: 1" in text  # Zhao Lei's report this morning
    assert "Check-ins answered: 1 of 1 due" in text
    assert "Abnormal: 1" in text and "Li Na" in text and "38.1 °C, Cough" in text
    assert "Missed check-ins: 0" in text
    assert "Wang Fang" not in text
    await town.one.send("/today")
    assert "Abnormal: 0" in town.one.last.text and "Li Na" not in town.one.last.text


async def test_arrivals_lists_who_when_and_how(town: Town) -> None:
    await town.two.send("/arrivals")
    text = town.two.last.text
    assert "Expected arrivals, next 3 days: 1" in text
    assert "3 Jul" in text and "Zhao Lei · +8613700002222: 14:00" in text
    assert "from Nanjing" in text or "from 南京" in text
    assert "Train G7001" in text
    await town.one.send("/arrivals")
    assert "No one is expected" in town.one.last.text


async def test_monitoring_groups_people_by_kind_with_day_n_of_n(town: Town) -> None:
    await town.two.send("/monitoring")
    text = town.two.last.text
    assert "Home isolation (1)" in text
    assert "Li Na" in text and "day 2 of 14, to 14 Jul" in text
    assert "Zhao Lei" not in text  # not arrived: not under monitoring yet
    await town.one.send("/monitoring")
    assert "Self-monitoring (1)" in town.one.last.text and "Wang Fang" in town.one.last.text


async def test_missed_lists_recent_missed_check_ins(town: Town) -> None:
    await town.two.send("/missed")
    text = town.two.last.text
    assert "Missed check-ins, last 3 days: 1" in text
    assert "1 Jul" in text and "Li Na · +8613812345678: 1 Jul evening check-in" in text
    await town.one.send("/missed")
    assert "No missed check-ins" in town.one.last.text


async def test_find_by_name_or_phone_then_open_the_record(
    town: Town, sessions: async_sessionmaker[AsyncSession]
) -> None:
    worker = town.two
    await worker.send("/find li na")
    assert "Found 1" in worker.last.text and worker.last.labels == ["Li Na · 新华南路社区第二网格"]
    await worker.send("/find 0000 2222")
    assert "Zhao Lei" in worker.last.text
    await worker.press("Zhao Lei")
    assert "Expected to arrive: 3 Jul 14:00" in worker.last.text
    await worker.send("/find 13812345678")
    await worker.press("Li Na")
    record = worker.last.text
    assert "Li Na" in record and "+8613812345678" in record
    assert "002X" in record and "11010519491231002X" not in record  # the ID masked
    assert "新华南路社区第二网格" in record and "3栋2单元501" in record
    assert "G1234" in record and "home isolation" in record
    assert "Check-ins: 1 of 2 answered, 1 missed, 1 abnormal" in record
    assert "38.1 °C, Cough" in record and "missed" in record
    li = await person_id(sessions, "Li Na")
    views = [e for e in await audit_log(sessions) if e.action == "view_person"]
    assert [(e.actor_user_id, e.subject) for e in views] == [
        (worker.user_id, f"resident:{await person_id(sessions, 'Zhao Lei')}"),
        (worker.user_id, f"resident:{li}"),
    ]


async def test_person_and_find_refuse_bad_input(town: Town) -> None:
    worker = town.two
    for command, answer in (
        ("/person", "Send /person and the record number"),
        ("/person abc", "Send /person and the record number"),
        ("/person 99999", "No such person in your area."),
        ("/person 99999999999999999999", "Send /person and the record number"),
        ("/find", "Send /find and part of a name"),
        ("/find x", "Send /find and part of a name"),
        ("/find %", "Send /find and part of a name"),
        ("/find %%", "No one matching"),
        ("/find Nobody", "No one matching “Nobody”"),
    ):
        await worker.send(command)
        assert answer in worker.last.text, command


async def test_stats_gives_the_cumulative_figures(town: Town) -> None:
    await town.two.send("/stats")
    text = town.two.last.text
    assert "People registered: 2" in text
    assert "Arrivals registered: 1 (and 1 still expected)" in text
    assert "Home isolation: 1 now, 1 in all" in text
    assert "Released: 0" in text
    assert "Check-ins answered (person-screenings): 1" in text
    assert "Missed check-ins: 1" in text
    assert "Abnormal reports: 1; positive tests: 0" in text


async def test_notify_shows_the_count_and_sends_on_confirm_once(
    town: Town, sessions: async_sessionmaker[AsyncSession]
) -> None:
    worker = town.two
    await worker.send("/notify No banquets <b>this</b> week, please.")
    preview = worker.last
    assert "It goes to 2 chats (2 people)" in preview.text
    assert "&lt;b&gt;this&lt;/b&gt;" in preview.text
    assert await queued_notices(sessions) == []
    confirm = preview.buttons[0][0].data
    await worker.press("Send", on=preview)
    assert "Notice sent" in preview.text and preview.edits == 1
    notices = await queued_notices(sessions)
    assert sorted(n.chat_id for n in notices) == [town.li.user_id, town.zhao.user_id]
    assert all("No banquets &lt;b&gt;this&lt;/b&gt; week" in n.text for n in notices)
    # Pressed again (or a second instance): nothing more is sent.
    await worker.press_data(confirm, preview.message_id)
    assert "sent, cancelled or has expired" in worker.last.text
    assert len(await queued_notices(sessions)) == 2
    actions = [e.action for e in await audit_log(sessions)]
    assert "notice_draft" in actions and "notice_sent" in actions


async def test_notify_can_be_cancelled_and_refuses_bad_input(
    town: Town, sessions: async_sessionmaker[AsyncSession]
) -> None:
    worker = town.two
    await worker.send("/notify Wear a mask")
    preview = worker.last
    confirm = preview.buttons[0][0].data
    await worker.press("Cancel")
    assert "Cancelled" in preview.text and preview.labels == []
    await worker.press_data(confirm, preview.message_id)
    assert "sent, cancelled or has expired" in worker.last.text
    await worker.send("/notify")
    assert "Write the notice after the command" in worker.last.text
    await worker.send("/notify " + "x" * 2000)
    assert "too long" in worker.last.text
    await worker.send("/notify_send abc")
    assert "sent, cancelled or has expired" in worker.last.text
    assert await queued_notices(sessions) == []


async def queued_notices(sessions: async_sessionmaker[AsyncSession]) -> list[Outgoing]:
    async with sessions() as session:
        query = select(Outgoing).where(Outgoing.purpose == "notice").order_by(Outgoing.id)
        return list(await session.scalars(query))


async def test_export_rows_match_the_database(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    sent, book = await export_of(town.two.core, town.two.user_id)
    assert "people listed: 2" in sent.text
    assert book.sheetnames == ["Summary", "新华南路社区第二网格"]
    rows = sheet_rows(book, "新华南路社区第二网格")
    assert list(rows[0]) == [title for _, title in COLUMNS]
    async with sessions() as session:
        people = list(
            await session.scalars(
                select(Resident)
                .where(Resident.name.in_(["Li Na", "Zhao Lei"]))
                .order_by(Resident.id)
            )
        )
        plans = {
            p.resident_id: p
            for p in await session.scalars(select(MonitoringPlan).order_by(MonitoringPlan.id))
        }
        households = {h.id: h for h in await session.scalars(select(Household))}
    assert [r["No."] for r in rows] == [1, 2]
    for row, person in zip(rows, people, strict=True):
        assert row["Name"] == person.name and row["Contact phone"] == person.phone
        # A grid worker's register masks the ID number (EXPORT_FULL_ID_ROLES: district).
        assert row["ID card number"] == person.masked_id != person.id_number
        assert row["Current address"] == households[person.household_id].address
        assert f"record no. {person.id}" in str(row["Notes"])
        assert "新华南路社区第二网格" in str(row["Notes"])
        plan = plans[person.id]
        assert row["From and to"] == f"{plan.starts_on.day} Jul–{plan.ends_on.day} Jul"
    li, zhao = rows
    # 11010519491231002X: born 31 December 1949, a woman.
    assert (li["Sex"], li["Age"]) == ("female", 76)
    assert (zhao["Sex"], zhao["Age"]) == (None, None)  # a passport says neither
    assert li["Transport and train or flight number"] == "Train G1234"
    assert li["Coming from"] == "Guangzhou, Guangdong"
    assert li["Measures"] == "Home isolation 14 days"
    assert str(li["Arrival time"]).startswith("2026-07-01 10:00")
    assert "At arrival: 36.5 °C, Green" in str(li["Health"])
    assert "Last check-in: 2 Jul morning check-in, 38.1 °C, Cough" in str(li["Health"])
    assert "1 missed, 1 abnormal" in str(li["Health"])
    assert str(zhao["Arrival time"]) == "2026-07-03 14:00:00"
    assert "not arrived yet" in str(zhao["Notes"])
    # No emoji in any cell.
    for row in rows:
        for value in row.values():
            assert not any(ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) < 0x27C0 for ch in str(value))
    # The summary is the latest daily report's (1 July: it is 2 July, 08:30).
    async with sessions() as session:
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        figures = await daily_figures(session, grid, date(2026, 7, 1), ZONE)
    summary = sheet_rows(book, "Summary")
    assert summary == [
        {
            "Area": "新华南路社区第二网格",
            "Reports received": figures.reports,
            "Arrived": figures.arrived,
            "Expected in the next days": len(figures.expected),
            "Expected but not arrived": len(figures.no_shows),
            "Under monitoring": len(figures.monitoring),
            "Check-ins due": figures.checkins_due,
            "Check-ins on time": figures.checkins_answered,
            "Check-ins late": figures.checkins_late,
            "Check-ins missed": figures.checkins_missed,
            "Abnormal reports": len(figures.abnormal),
            "Abnormal reports with action": 0,
            "Missed check-ins with action": 0,
            "Released": 0,
            "Alerts still open from earlier": len(figures.still_open),
        },
        {
            "Area": "In all",
            "Reports received": figures.reports,
            "Arrived": figures.arrived,
            "Expected in the next days": len(figures.expected),
            "Expected but not arrived": len(figures.no_shows),
            "Under monitoring": len(figures.monitoring),
            "Check-ins due": figures.checkins_due,
            "Check-ins on time": figures.checkins_answered,
            "Check-ins late": figures.checkins_late,
            "Check-ins missed": figures.checkins_missed,
            "Abnormal reports": len(figures.abnormal),
            "Abnormal reports with action": 0,
            "Missed check-ins with action": 0,
            "Released": 0,
            "Alerts still open from earlier": len(figures.still_open),
        },
    ]
    assert (figures.reports, figures.arrived, figures.checkins_due) == (1, 1, 0)
    (entry,) = [e for e in await audit_log(sessions) if e.action == "export"]
    assert entry.actor_user_id == town.two.user_id and entry.at == clock.now()
    assert entry.details == {"areas": [GRID_2], "people": 2, "full_id": False, "format": "xlsx"}


async def test_the_register_as_csv_and_in_chinese(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = Person(town.li.core, user_id=5030, language="zh-hans", first_name="王网格")
    await invite(sessions, clock, "CODE5030", GRID_2)
    await worker.send("/join code5030")
    sent = await export_reply(worker.core, worker.user_id, "csv", "zh-hans")
    assert sent.file is not None and sent.file.filename.endswith(".csv")
    content = sent.file.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content[1:])))
    assert rows[0][:8] == ["区域", "序号", "姓名", "性别", "年龄", "身份证号", "联系电话", "现住址"]
    assert rows[0][8:] == [
        "来自", "到达时间", "交通方式及车次/航班", "14天旅居史", "管控措施", "起止日期",
        "核酸结果", "健康状况", "备注",
    ]  # fmt: skip
    li = rows[1]
    assert li[0] == "新华南路社区第二网格" and li[2] == "Li Na"
    assert (li[3], li[4], li[5]) == ("女", "76", "**************002X")
    assert li[7 + 3] == "火车 G1234" and li[7 + 5] == "居家隔离14天"


async def test_the_full_id_number_for_the_roles_allowed_it(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    district = Person(town.li.core, user_id=5020, language="en")
    await invite(sessions, clock, "CODE5020", "620201", "district")
    await district.send("/join code5020")
    _, book = await export_of(district.core, district.user_id)
    ids = {
        r["Name"]: r["ID card number"]
        for sheet in book.sheetnames[1:]
        for r in sheet_rows(book, sheet)
    }
    assert ids["Li Na"] == "11010519491231002X"


async def test_a_higher_level_gets_one_sheet_per_area_below(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    street = await worker_of(town.li, sessions, clock, STREET, 5010)
    _, book = await export_of(street.core, street.user_id)
    assert book.sheetnames == ["Summary", "新华南路社区", "建设路社区"]
    names = {r["Name"]: r["Notes"] for r in sheet_rows(book, "新华南路社区")}
    assert set(names) == {"Li Na", "Zhao Lei", "Wang Fang"}
    assert "新华南路社区第一网格" in str(names["Wang Fang"])
    assert sheet_rows(book, "建设路社区") == []
    summary = sheet_rows(book, "Summary")
    assert [r["Area"] for r in summary] == ["新华南路社区", "建设路社区", "In all"]
    async with sessions() as session:
        area = await area_by_code(session, STREET)
        assert area is not None
        rollup = await rollup_figures(session, area, date(2026, 7, 1), ZONE)
    assert [r["Reports received"] for r in summary] == [
        *(c.counts.reports for c in rollup.children),
        rollup.total.counts.reports,
    ]
    assert summary[-1]["Under monitoring"] == rollup.total.counts.monitoring
    assert summary[-1]["Check-ins missed"] == rollup.total.counts.checkins_missed
    await street.send("/stats")
    assert "People registered: 3" in street.last.text


async def test_resident_text_is_never_a_formula_in_the_workbook(
    town: Town, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        for household in await session.scalars(select(Household)):
            household.address = '=HYPERLINK("http://x.example","click")'
    _, book = await export_of(town.two.core, town.two.user_id)
    cell = book["新华南路社区第二网格"]["G2"]
    assert cell.value == '=HYPERLINK("http://x.example","click")' and cell.data_type == "s"


def test_sheet_titles_follow_excels_rules() -> None:
    titles = sheet_titles(["a/b", "A/B", "x" * 40, "Summary", "summary", ""])
    assert titles == ["a b", "A B (2)", "x" * 31, "Summary", "summary (2)", "Sheet"]
    content = workbook([Sheet("t", ["h"], [["\x01bad"], [None]])])
    assert load_workbook(io.BytesIO(content))["t"]["A2"].value == "bad"


async def test_a_long_list_pages_in_place(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    for n in range(20):
        person = Person(town.li.core, user_id=2000 + n)
        await file_report(
            person,
            f"Person {chr(65 + n)}x",
            f"86139{n:08d}",
            f"P{n:07d}",
            "第二网格",
            "南京",
            "Nanjing",
            arrived=False,
        )
    worker = town.two
    await worker.send("/arrivals")
    first = worker.last
    assert "Expected arrivals, next 3 days: 21" in first.text and "Page 1 of 2" in first.text
    assert first.labels == ["›"]
    await worker.press("›")
    assert worker.last is first and "Page 2 of 2" in first.text and first.labels == ["‹"]
    assert first.text.count("\n#") == 6


async def test_a_worker_of_another_grid_gets_nothing_of_grid_2(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Every command, typed or from forged button data, for the people of grid 2."""
    intruder = town.one
    li, zhao = await person_id(sessions, "Li Na"), await person_id(sessions, "Zhao Lei")
    await town.two.send("/notify A notice for grid 2")
    draft = town.two.last.buttons[0][0].data
    secrets = ("Li Na", "8613812345678", "Zhao Lei", "8613700002222", "002X", "G7001")
    before = len(intruder.shown)
    for command in (
        "/today", "/arrivals", "/arrivals 2", "/monitoring", "/missed", "/stats",
        "/find Li", "/find Zhao", "/find 13812345678", "/find 5678", "/find 2222",
        f"/person {li}", f"/person #{zhao}", "/notify Hello",
    ):  # fmt: skip
        await intruder.send(command)
    for data in (f"/person {li}", f"/person {zhao}", draft, draft.replace("send", "cancel")):
        await intruder.press_data(data, 1)
    seen = "\n".join(m.text + " " + " ".join(m.labels) for m in intruder.shown[before:])
    for secret in secrets:
        assert secret not in seen
    assert seen.count("No such person in your area.") == 4
    # The forged confirmation sent nothing, and grid 2's worker can still send their own.
    assert await queued_notices(sessions) == []
    notices = [e for e in await audit_log(sessions) if e.action.startswith("notice")]
    assert [(e.actor_user_id, e.action) for e in notices] == [
        (town.two.user_id, "notice_draft"),
        (intruder.user_id, "notice_draft"),
    ]
    await town.two.press("Send")
    assert "Notice sent" in town.two.last.text
    queued = await queued_notices(sessions)
    assert town.wang.user_id not in {n.chat_id for n in queued}
    # The refused views are on file too; the register has only grid 1.
    refused = [e.subject for e in await audit_log(sessions) if e.action == "person_refused"]
    assert refused == [f"resident:{li}", f"resident:{zhao}"] * 2
    _, book = await export_of(intruder.core, intruder.user_id)
    assert book.sheetnames == ["Summary", "新华南路社区第一网格"]
    assert [r["Name"] for r in sheet_rows(book, "新华南路社区第一网格")] == ["Wang Fang"]


async def test_a_revoked_worker_loses_access(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from models.staff import Staff

    async with sessions.begin() as session:
        for staff in await session.scalars(select(Staff).where(Staff.user_id == town.two.user_id)):
            staff.revoked_at = clock.now()
    await town.two.send("/find Li")
    assert "for grid workers" in town.two.last.text


async def test_a_community_worker_sees_both_grids(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await invite(sessions, clock, "COMMUNITY1", COMMUNITY, role="community")
    worker = Person(town.li.core, user_id=5020, language="en")
    await worker.send("/join COMMUNITY1")
    await worker.send("/monitoring")
    assert "Li Na" in worker.last.text and "Wang Fang" in worker.last.text
    clock.advance(timedelta(minutes=1))
    await worker.send(f"/person {await person_id(sessions, 'Wang Fang')}")
    assert "Wang Fang" in worker.last.text
