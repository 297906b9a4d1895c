"""Issue 20 through the running bot: a list of 50 pushed from above (20 who had reported,
25 who had not, 3 bad ID numbers, 2 at addresses no community of ours) is imported with
`returnee admin pushed import`; the 20 are linked and re-screened, the 25 become tasks in
their grids, the 3 bad rows are reported by line, the 2 go to the district's queue; a worker
marks outcomes with the buttons, one person reports through their personal link and their
task closes by itself; /pushed and the workbook match the database; a worker of another grid
sees none of it."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from emulator import EmulatorClient
from emulator.client import ChatMessage
from models.alerts import Alert
from models.areas import Area
from models.db import make_engine, make_sessions
from models.pushed import PushedRow
from rules.policy import load_policy
from tests.e2e.conftest import (
    BotProcess,
    TelegramUser,
    new_user,
    outbox_settled,
    returnee,
    wait_caught_up,
)
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import text
from tests.pushed_data import DISTRICT, GRID_1, GRID_3, fifty, file_people

TASK = "find this person"


async def press_on(user: TelegramUser, message: ChatMessage, label: str) -> list[ChatMessage]:
    """Press a button of one particular message (a task among many)."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                before = await user._snapshot()
                pressed = await user.emulator.press(
                    user.user_id, message["message_id"], data=button["callback_data"]
                )
                return await user._answer(before, pressed["update_id"])
    raise AssertionError(f"no button {label!r} on {text(message)}")


async def test_a_pushed_list_found_door_to_door_and_fed_back(
    bot: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    listed = fifty()
    engine = make_engine(bot.database_url)
    sessions = make_sessions(engine)
    try:
        # The 20 reported before the list came.
        async with sessions.begin() as session:
            await file_people(
                session,
                listed.reported,
                now=datetime.now(UTC) - timedelta(days=1),
                zone=bot_zone(),
                policy=load_policy("jiayuguan"),
            )
        worker, other, district = new_user(emulator), new_user(emulator), new_user(emulator)
        await worker.say(f"/join {await invite_code(bot, GRID_1)}")
        await other.say(f"/join {await invite_code(bot, GRID_3)}")
        code, output = await returnee(
            ["admin", "invite", "--area", DISTRICT, "--role", "district"],
            bot.env,
            bot.log_path.parent,
        )
        assert code == 0, output
        await district.say(output.splitlines()[0])
        assert "Welcome, district" in text(district.last)

        path = bot.log_path.parent / "协查名单.csv"
        path.write_bytes(listed.data)
        command = ["admin", "pushed", "import", str(path), "--source", "省指挥部 协查 12-01"]
        code, output = await returnee([*command, "--deadline", "24h"], bot.env, path.parent)
        assert code == 0, output
        assert "47 imported, 3 bad; 20 matched and re-screened, 27 tasks" in output
        assert "2 to a district's queue" in output
        for line in listed.bad_lines:
            assert f"line {line}: the ID number's check digit is wrong" in output
        # The same list again changes nothing.
        code, again = await returnee(command, bot.env, path.parent)
        assert code == 0 and "imported already; nothing changed" in again

        async with sessions() as session:
            codes = {a.id: a.code for a in await session.scalars(select(Area))}
            rows = {r.name: r for r in await session.scalars(select(PushedRow))}
            assert len(rows) == 47
            for person in listed.reported:
                assert rows[person.name].resident_id is not None
            for person in [*listed.unreported, *listed.unknown]:
                assert codes[rows[person.name].area_id] == person.grid
            matched_alerts = await session.scalar(
                select(func.count()).select_from(Alert).where(Alert.kind == "pushed_match")
            )
            assert matched_alerts == len({p.grid for p in listed.reported})

        mine = [p for p in listed.unreported if p.grid == GRID_1]
        # The alerts' job runs every 20 s of the bot's clock: move it on rather than wait.
        await wait_caught_up(emulator.base_url, await emulator.advance(timedelta(seconds=25)))
        first = await worker.receive(TASK)
        await outbox_settled(bot, worker.user_id)
        tasks = await worker.received(TASK)
        assert len(tasks) == len(mine)
        assert {p.name for p in mine} == {
            n for t in tasks for n in (p.name for p in mine) if n in text(t)
        }
        await district.receive(TASK)
        await outbox_settled(bot, district.user_id)
        queue = await district.received(TASK)
        assert {p.name for p in listed.unknown} <= {
            n for t in queue for n in (p.name for p in listed.unknown) if n in text(t)
        }

        def task_of(name: str) -> ChatMessage:
            return next(t for t in tasks if name in text(t))

        visited, moved, reached = mine[0], mine[1], mine[2]
        assert first is not None
        await press_on(worker, task_of(visited.name), "Visited")
        assert "Recorded for" in text(worker.last)
        await press_on(worker, task_of(moved.name), "Not living here")
        await worker.say("Moved to Lanzhou in October")
        assert "Saved with" in text(worker.last)
        await press_on(worker, task_of(reached.name), "Reached by phone")
        await worker.press("Personal link for them")
        found = re.search(r"start[= ](\S+)", text(worker.last))
        assert found is not None

        # The person reports through their link; their task closes by itself.
        await user.say(f"/start {found[1]}")
        await user.press("English")
        await user.press("I agree")
        await user.say(reached.name)
        await user.share_contact("86" + reached.phone)
        await user.say(reached.id_number)
        for label in ("雄关区", "新华街道", "新华南路社区"):
            await user.press(label)
        await user.say(reached.address.split("新华南路社区")[1])
        await user.press("I have just arrived")
        await user.say("南京")
        await user.press("Train")
        await user.say("G7001")
        await user.press("No more places")
        await user.press("No one more")
        await user.press("All well")
        await user.press("No test")
        await user.press("Submit")
        assert "Your report is filed" in text(user.transcript[-2]) or any(
            "Your report is filed" in text(m) for m in user.transcript
        )

        async with sessions() as session:
            row = (
                await session.scalars(select(PushedRow).where(PushedRow.name == reached.name))
            ).one()
            assert row.outcome == "reported" and row.resident_id is not None
            task = await session.get(Alert, row.task_alert_id)
            assert task is not None and task.status == "acknowledged"
            in_grid = list(
                await session.scalars(
                    select(PushedRow).where(
                        PushedRow.area_id
                        == select(Area.id).where(Area.code == GRID_1).scalar_subquery()
                    )
                )
            )
        outcomes = [r.outcome for r in in_grid]

        await worker.say("/pushed")
        summary = text(worker.last)
        for name, value in (
            ("visited", "visited"),
            ("not here", "not_here"),
            ("reported themselves", "reported"),
            ("matched", "matched"),
        ):
            assert f"{name} {outcomes.count(value)}" in summary, summary
        assert f"open {outcomes.count(None)}" in summary
        (document,) = await worker.say("/pushed xlsx 1")
        book = load_workbook(io.BytesIO(await emulator.download(document["document"]["file_id"])))
        sheet = list(book.active.iter_rows(values_only=True))
        assert len(sheet) - 1 == len(in_grid)
        by_name = {r[1]: r for r in sheet[1:]}
        assert by_name[visited.name][6] == "visited"
        assert by_name[moved.name][9] == "Moved to Lanzhou in October"
        assert by_name[reached.name][6] == "reported themselves"

        # A worker of another grid sees none of it.
        assert not any(p.name in text(m) for m in await other.received("") for p in mine)
        await other.say("/pushed")
        assert not any(p.name in text(other.last) for p in mine)
        (their,) = await other.say("/pushed xlsx 1")
        theirs = load_workbook(io.BytesIO(await emulator.download(their["document"]["file_id"])))
        names = {r[1] for r in list(theirs.active.iter_rows(values_only=True))[1:]}
        assert names and not names & {p.name for p in mine}
        await other.say(f"/plink {row.id}")
        assert "No such person" in text(other.last)
    finally:
        await engine.dispose()


def bot_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


async def test_a_district_worker_sends_a_list_to_the_bot(
    bot: BotProcess, emulator: EmulatorClient
) -> None:
    """The runner fetches the document from Telegram (each runner its own way); the list is
    taken in as the command line takes it; a grid worker's document is not."""
    district, grid = new_user(emulator), new_user(emulator)
    code, output = await returnee(
        ["admin", "invite", "--area", "620202", "--role", "district"], bot.env, bot.log_path.parent
    )
    assert code == 0, output
    await district.say(output.splitlines()[0])
    await grid.say(f"/join {await invite_code(bot, '620202001001001')}")
    listed = fifty(reported=0, unreported=3, bad=1, unknown=1, first=101)
    data = listed.data.replace("雄关区".encode(), "镜铁区".encode())

    async def send(user: TelegramUser, caption: str) -> list[ChatMessage]:
        before = await user._snapshot()
        sent = await emulator.other(
            user.user_id, "document", caption=caption, file_name="协查名单.csv", data=data
        )
        return await user._answer(before, sent["update_id"])

    await send(grid, "市指挥部推送 48h")
    assert "taken in" not in text(grid.last)
    await send(district, "市指挥部推送 48h")
    answer = text(district.last)
    assert "taken in: 4 people, 1 rows kept aside" in answer, answer
    assert f"Line {listed.bad_lines[0]}: the ID number's check digit is wrong" in answer
    await send(district, "市指挥部推送 48h")
    assert "nothing changed" in text(district.last)
    await district.say("/pushed")
    assert "市指挥部推送" in text(district.last) and "pushed 4" in text(district.last)
