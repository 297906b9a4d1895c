"""Everything a worker reads is in their language, labels and values alike: every alert kind,
the daily and zero report, /person, /today, /monitoring, /missed, /stats, /arrivals and the
register's headers and values, in 简体中文 and 繁體中文. A word of two or more Latin letters or
an internal code (snake_case, "risk=", "(medium)") fails, except for what people typed (names)
and what is written that way (train and flight numbers, °C)."""

from __future__ import annotations

import html
import io
import os
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.contract import Incoming, Kind, Send
from chat.i18n import Translator
from models.alerts import Alert
from models.areas import area_by_code
from models.outbox import Outgoing
from models.people import Resident
from services.alerts import deliver_alerts, render_alert
from services.digest import report_for
from services.options import Options
from services.vocabulary import ALERT_TITLES
from tests.handlers.test_register import COMMUNITY, GRID_1, GRID_2, Town, person_id, town
from tests.handlers.test_staff import invite
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
__all__ = ["town"]  # the fixture, imported for its use here

ZONE = Options().zone
# What people typed, kept as they wrote it.
NAMES = ("Li Na", "Wang Fang", "Zhao Lei", "Sun Li")
TAG = re.compile(r"<[^>]+>")
# Written with Latin letters in Chinese too: train/flight/plate numbers (letters and digits),
# phone and ID numbers, and units.
ALLOWED = re.compile(r"[A-Za-z]*\d[\w*+]*|°C|[+*\d]+")
WORD = re.compile(r"[A-Za-z]{2,}")
CODE = re.compile(r"[a-z]+_[a-z]+|\w+=\w+|\((?:high|medium|low)\)")


def foreign(text: str) -> list[str]:
    """The Latin words and internal codes in a text meant for a Chinese reader."""
    text = html.unescape(TAG.sub(" ", text))
    for name in NAMES:
        text = text.replace(name, "")
    codes = CODE.findall(text)
    return codes + WORD.findall(ALLOWED.sub(" ", text))


def test_the_check_catches_what_it_should() -> None:
    assert foreign("计划：centralised_14") and foreign("依据：risk=high")
    assert foreign("北京市朝阳区 (medium)") and foreign("text: 37.9 °C")
    assert not foreign("<b>Li Na</b> · 38.1 °C，咳嗽；G1234 次列车，CA1234 航班")
    assert not foreign("+8613812345678 11010519491231002X")


LANGUAGES = {"zh_Hans": "zh-hans", "zh_Hant": "zh-hant"}


async def chinese_worker(
    core_of: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    area: str,
    user_id: int,
    language: str,
    role: str = "grid",
) -> Person:
    worker = Person(core_of.core, user_id=user_id, language=language, first_name="王网格")
    await invite(sessions, clock, f"CODE{user_id}", area, role)
    await worker.send(f"/join code{user_id}")
    return worker


# Alert details as each kind is raised (services/*), for the kinds the town does not raise.
def details_of(kind: str, resident_id: int, checkin_at: datetime) -> dict[str, Any]:
    return {
        "refer_clinic": {
            "plan": "refer_clinic",
            "origin": "湖北省武汉市",
            "reason": "symptoms=true",
        },
        "high_risk_arrival": {"plan": "centralised_14", "origin": "湖北省武汉市"},
        "abroad_arrival": {"plan": "centralised_14", "origin": "新加坡"},
        "pre_arrival": {"plan": "home_monitoring_7", "origin": "南京"},
        "confirm_match": {
            "plan": "home_isolation_14",
            "to_confirm": ["中国/北京市/朝阳区 (medium)"],
            "listings": [{"place": "北京市朝阳区", "level": "medium"}],
        },
        "rescreen": {"place": "广东省广州市", "names": ["Li Na"], "residents": [resident_id]},
        "help_request": {
            "text": "medical: 孩子发烧",
            "help_kind": "medical",
            "note": "孩子发烧",
            "request": 0,
        },
        "missed_checkin": {"slot": "2026-07-01 20:00", "slot_at": checkin_at.isoformat()},
        "positive_test": {"text": "2026-07-07", "day": "2026-07-07"},
        "released": {"plan": "home_isolation_14"},
        "release_held": {"text": "1/3", "negatives": 1, "needed": 3},
        "fever": {
            "text": "37.9 °C; Cough",
            "temperature": 37.9,
            "symptoms": ["cough"],
            "slot_at": checkin_at.isoformat(),
        },
        "symptoms": {"temperature": 36.6, "symptoms": ["sore_throat", "fatigue"]},
        "unreachable": {"names": ["Li Na", "Wang Fang"]},
        "health_code": {"plan": "home_isolation_14", "code": "yellow"},
        "assign_grid": {"household": 1},
    }.get(kind, {})


async def command(worker: Person, text: str) -> str:
    await worker.send(text)
    return worker.last.text


async def test_every_worker_text_is_in_chinese(
    town: Town, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    workers = {
        language: await chinese_worker(town.li, sessions, clock, GRID_2, 6000 + i, code)
        for i, (language, code) in enumerate(LANGUAGES.items())
    }
    found: dict[str, list[str]] = {}

    def check(where: str, text: str) -> None:
        assert text.strip(), where
        if os.environ.get("SHOW_TEXTS"):
            print(f"----- {where}\n{text}")
        if bad := foreign(text):
            found[where] = bad

    li = await person_id(sessions, "Li Na")
    # The alerts the town raised, as delivered to the Chinese-speaking workers.
    async with sessions.begin() as session:
        await deliver_alerts(session, clock.now(), ZONE)
    async with sessions() as session:
        sent = list(await session.scalars(select(Outgoing).where(Outgoing.purpose == "alert")))
    chats = {w.user_id: language for language, w in workers.items()}
    delivered = [o for o in sent if o.chat_id in chats]
    assert len(delivered) >= 4  # Li Na's fever and her missed check-in, for each of them
    for outgoing in delivered:
        check(f"alert {outgoing.dedupe_key}", outgoing.text)
        for row in outgoing.buttons or []:
            for button in row:
                check(f"button of {outgoing.dedupe_key}", str(button[0]))
    # Every kind of alert, rendered.
    async with sessions.begin() as session:
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        for kind in ALERT_TITLES:
            session.add(
                Alert(
                    grid_id=grid.id,
                    resident_id=li,
                    kind=kind,
                    details=details_of(kind, li, clock.now() - timedelta(hours=3)),
                    created_at=clock.now(),
                    status="open",
                )
            )
    async with sessions() as session:
        for alert in await session.scalars(select(Alert)):
            for language in LANGUAGES:
                text, buttons = await render_alert(
                    session, alert, Translator(language), ZONE, clock.now()
                )
                check(f"{alert.kind} alert in {language}", text)
                for row in buttons:
                    for button in row:
                        check(f"{alert.kind} button in {language}", button.text)
    # The daily report of the grid, and the community's roll-up and zero report.
    day = clock.now().astimezone(ZONE).date()
    async with sessions() as session:
        for code in (GRID_2, COMMUNITY, GRID_1):
            area = await area_by_code(session, code)
            assert area is not None
            for language in LANGUAGES:
                text = await report_for(session, area, day, ZONE, Translator(language))
                check(f"daily report of {code} in {language}", text)
        zero = await area_by_code(session, "620201001002001")
        if zero is not None:
            text = await report_for(session, zero, day, ZONE, Translator("zh_Hans"))
            assert "零报告" in text
            check("zero report", text)
    # The commands.
    zhao = await person_id(sessions, "Zhao Lei")
    for language, worker in workers.items():
        for text in (
            "/today",
            "/arrivals",
            "/monitoring",
            "/missed",
            "/stats",
            "/alerts",
            f"/person {li}",
            f"/person {zhao}",
        ):
            check(f"{text} in {language}", await command(worker, text))
    # The register: headers and values.
    for language, worker in workers.items():
        replies = await town.li.core.handle(
            Incoming(
                user_id=worker.user_id,
                chat_id=worker.user_id,
                kind=Kind.COMMAND,
                command="export",
                language=LANGUAGES[language],
                message_id=90_000 + worker.user_id,
            )
        )
        (reply,) = [r for r in replies if isinstance(r, Send) and r.file is not None]
        assert reply.file is not None
        check(f"export caption in {language}", reply.text)
        book = load_workbook(io.BytesIO(reply.file.content))
        for sheet in book.worksheets:
            check(f"sheet title {sheet.title}", sheet.title)
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, str) and value:
                        check(f"export cell in {language} ({sheet.title})", value)
                    assert not isinstance(value, date | datetime) or value.year == 2026
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
    async with sessions() as session:
        assert await session.scalar(select(Resident.name).where(Resident.id == li)) == "Li Na"
