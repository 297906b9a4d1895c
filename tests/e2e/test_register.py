"""A grid worker finds a resident and exports the register through the running bot: the
command's answer, the button to the record, and the .xlsx arriving as a document."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from emulator import EmulatorClient
from tests.e2e.conftest import BotProcess, TelegramUser, new_user
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import consent_and_identity, text

GRID_1 = "620201001001001"
GRID_2 = "620201001001002"


@pytest.mark.frameworks("aiogram")
async def test_a_worker_finds_a_resident_and_gets_the_register_as_a_document(
    bot: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    worker = new_user(emulator)
    await worker.say(f"/join {await invite_code(bot, GRID_1)}")
    assert "Welcome, grid worker of" in text(worker.last)

    await consent_and_identity(user)
    await user.press("I have just arrived")
    await user.say("南京")
    await user.press("Train")
    await user.say("G7002")
    await user.press("No more places")
    await user.press("No one more")
    await user.press("Something to report")
    await user.press("36.5")
    await user.press("None of these")
    await user.press("Green")
    await user.press("No test")
    await user.press("Submit")

    await worker.say("/find 13812345678")
    assert "Found 1" in text(worker.last) and worker.labels() == ["Li Na · 新华南路社区第一网格"]
    (found,) = (worker.last.get("reply_markup") or {})["inline_keyboard"]
    person_id = found[0]["callback_data"].removeprefix("/person ")
    await worker.press("Li Na")
    record = text(worker.last)
    assert "Li Na" in record and "G7002" in record and "**************002X" in record

    (document,) = await worker.say("/export")
    assert document["document"] is not None
    assert document["document"]["file_name"].endswith(".xlsx")
    assert "Register" in str(document["caption"]) and "people listed: 1" in str(document["caption"])
    book = load_workbook(io.BytesIO(await emulator.download(document["document"]["file_id"])))
    assert book.sheetnames == ["Summary", "新华南路社区第一网格"]
    header, row = list(book["新华南路社区第一网格"].iter_rows(values_only=True))
    person = dict(zip(header, row, strict=True))
    assert list(header) == [
        "No.", "Name", "Sex", "Age", "ID card number", "Contact phone", "Current address",
        "Coming from", "Arrival time", "Transport and train or flight number",
        "Travel history, last 14 days", "Measures", "From and to", "Nucleic-acid results",
        "Health", "Notes",
    ]  # fmt: skip
    assert person["Name"] == "Li Na" and person["Contact phone"] == "+8613812345678"
    # A grid worker's register masks the ID number; sex and age come from it.
    assert person["ID card number"] == "**************002X"
    assert (person["Sex"], person["Age"]) == ("female", 76)
    assert person["Transport and train or flight number"] == "Train G7002"
    assert person["Measures"] and "Self-monitoring" in str(person["Measures"])
    assert "At arrival: 36.5 °C, Green" in str(person["Health"])

    # Every other command answers through the real process.
    for command, expected in (
        ("/today", "Reports received: 1"),
        ("/arrivals", "next 3 days"),
        ("/monitoring", "Under monitoring: 1"),
        ("/missed", "No missed check-ins"),
        ("/stats", "People registered: 1"),
        ("/alerts", "No open alerts"),
        ("/help", "For grid workers"),
    ):
        await worker.say(command)
        assert expected in text(worker.last), (command, text(worker.last))
    await worker.say("/notify Free nucleic-acid testing tomorrow at the community centre")
    assert "It goes to 1 chats (1 people)" in text(worker.last)
    await worker.press("Send")
    assert "Notice sent" in text(worker.last)
    assert "Free nucleic-acid testing" in text(await user.receive("Free nucleic-acid testing"))

    # A worker of another grid gets nothing about her, however they ask.
    stranger = new_user(emulator)
    await stranger.say(f"/join {await invite_code(bot, GRID_2)}")
    await stranger.say("/find 13812345678")
    assert "No one matching" in text(stranger.last)
    await stranger.say("/find Li Na")
    assert "No one matching" in text(stranger.last)
    await stranger.say(f"/person {person_id}")
    assert "No such person in your area" in text(stranger.last)
    await stranger.say("/export")
    seen = " ".join(text(m) + str(m.get("caption") or "") for m in await stranger.received(""))
    # Less the bot repeating what the stranger typed.
    seen = seen.replace("“Li Na”", "").replace("“13812345678”", "")
    assert "Li Na" not in seen and "13812345678" not in seen and "G7002" not in seen
