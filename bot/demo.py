"""`returnee demo`: the emulator, the bot against it and demo data, in one process.

No token, no network: everything runs on this machine. Ctrl-C stops it all cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.logs import configure
from bot.settings import Settings, load_settings
from models.crypto import use_keys

if TYPE_CHECKING:
    from emulator.webchat import WebChatConfig

DEMO_TOKEN = "1000000001:returnee-demo-token-not-a-secret"
log = logging.getLogger(__name__)


DEMO_DATA = Path(__file__).with_name("demo_data")


DEMO_WORKER = 900  # the simulated grid worker's Telegram user id
DEMO_WORKER_NAME = "赵敏"
DEMO_GRID = "620201001001001"
DEMO_CITY = "620200"
DEMO_INVITE = "DEMOWORKER"
# The residents on the web chat's list (user id, name); anyone else can be talked to with
# `returnee chat --user N`.
DEMO_RESIDENTS = ((1, "李娜"), (2, "王芳"), (3, "张伟"))


def demo_webchat(settings: Settings) -> WebChatConfig:
    """The web chat's users (three residents and the grid worker) and the demo's clock."""
    from emulator.webchat import ChatUser, DemoClock, WebChatConfig

    residents = [ChatUser(user_id, name) for user_id, name in DEMO_RESIDENTS]
    worker = ChatUser(DEMO_WORKER, DEMO_WORKER_NAME, role="grid worker · 新华南路社区第一网格")
    return WebChatConfig(
        users=(*residents, worker),
        clock=DemoClock(zone=settings.timezone, checkin_times=settings.checkin_slots),
        title="returnee demo · web chat",
    )


async def worker_joins(base: str) -> None:
    """Once the bot is up, the demo's grid worker sends their code (if they have not yet)."""
    from emulator import EmulatorClient

    async with EmulatorClient(base) as emulator:
        for _ in range(300):
            if await emulator.log(method="deleteWebhook"):
                break
            await asyncio.sleep(0.2)
        await emulator.send(
            DEMO_WORKER,
            f"/join {DEMO_INVITE}",
            first_name=DEMO_WORKER_NAME,
            language_code="zh-hans",
        )


CLOCK_MARK = "demo_clock"


async def keep_clock(base: str, database_url: str) -> None:
    """While the demo runs, the time its clock buttons reached is kept in the database (one
    audit row), so the next run on the same database goes on from there."""
    from sqlalchemy import select

    from emulator import EmulatorClient
    from models.db import make_engine, make_sessions
    from models.staff import AuditEntry

    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    try:
        async with EmulatorClient(base) as emulator:
            kept: datetime | None = None
            while True:
                await asyncio.sleep(2)
                with contextlib.suppress(Exception):
                    now = await emulator.now()
                    if kept is None or now - kept > timedelta(minutes=1):
                        async with sessions.begin() as session:
                            mark = await session.scalar(
                                select(AuditEntry).where(AuditEntry.action == CLOCK_MARK)
                            )
                            if mark is None:
                                session.add(
                                    AuditEntry(
                                        actor_user_id=0, action=CLOCK_MARK, subject="clock", at=now
                                    )
                                )
                            else:
                                mark.at = max(mark.at, now)
                        kept = now
    finally:
        await engine.dispose()


async def clock_resumes(base: str, at: datetime) -> None:
    """The emulator's clock (which the bot follows) goes on from the last moment the demo's
    database saw, so a second run does not go back in time."""
    from emulator import EmulatorClient

    async with EmulatorClient(base) as emulator:
        if await emulator.now() < at:
            await emulator.move_to(at)


async def load_demo_data(database_url: str) -> tuple[bool, datetime | None]:
    """The schema, a small city's areas, a risk list and one grid worker (idempotent).

    Returns whether the grid worker has yet to join (a second run on the same database finds
    them joined) and the latest moment the database has seen, for the demo's clock to go on
    from where it was rather than back to today."""

    from sqlalchemy import delete, func, select

    from chat.clock import SystemClock
    from models.areas import area_by_code, import_areas
    from models.chat import ChatUser
    from models.db import make_engine, make_sessions, upgrade
    from models.risk import RiskArea, import_risk_areas
    from models.staff import AuditEntry, Invite, Staff

    now = SystemClock().now()
    engine = make_engine(database_url)
    to_join, latest = True, None
    try:
        await upgrade(engine)
        async with make_sessions(engine).begin() as session:
            await import_areas(session, (DEMO_DATA / "areas.csv").read_text(encoding="utf-8"))
            if not await session.scalar(select(func.count()).select_from(RiskArea)):
                risk = (DEMO_DATA / "risk_areas.csv").read_text(encoding="utf-8")
                await import_risk_areas(session, risk, source="demo", now=now)
            grid = await area_by_code(session, DEMO_GRID)
            joined = await session.scalar(select(Staff).where(Staff.user_id == DEMO_WORKER))
            to_join = joined is None
            seen = await session.scalar(select(func.max(ChatUser.last_seen_at)))
            kept = await session.scalar(
                select(AuditEntry.at).where(AuditEntry.action == CLOCK_MARK)
            )
            latest = max((t for t in (seen, kept) if t is not None), default=None)
            if grid is not None and joined is None:
                # The worker joins the way a real one does, by sending the code (see _demo).
                await session.execute(delete(Invite).where(Invite.code == DEMO_INVITE))
                session.add(
                    Invite(
                        code=DEMO_INVITE,
                        area_id=grid.id,
                        role="grid",
                        created_at=now,
                        expires_at=now + timedelta(hours=72),
                    )
                )
    finally:
        await engine.dispose()
    return to_join, latest


def demo_key(database_url: str) -> str | None:
    """The demo's own DATA_KEY unless one is set: kept in a file beside its SQLite database
    (`demo.db.key`, readable by its owner only), made on the first run."""
    from dotenv import dotenv_values
    from sqlalchemy.engine import make_url

    from models.crypto import new_key

    if os.environ.get("DATA_KEY") or dotenv_values(".env").get("DATA_KEY"):
        return None
    url = make_url(database_url)
    name = url.database if url.get_backend_name() == "sqlite" and url.database else "demo"
    path = Path(f"{name}.key")
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(new_key() + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def run_demo(*, port: int, database_url: str, api_port: int = 8090) -> None:
    from bot.problems import explain

    configure("WARNING")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_demo(port, database_url, api_port))
    except Exception as exc:
        # A port in use, a database that cannot be opened: one line, not a traceback.
        reason = explain(exc)
        if reason is None:
            raise
        click.echo(f"returnee: {reason}", err=True)
        raise SystemExit(2) from None
    click.echo("demo stopped.")


async def demo_api(settings: Settings, base: str, port: int) -> None:
    """`returnee api` beside the bot, on the demo's database and the emulator's clock, with a
    token for the city's figures (made anew each run, for a day)."""
    from api.server import SchemaNotReady
    from api.server import serve as serve_api
    from bot.clock import EmulatorClock
    from chat.clock import SystemClock
    from models.db import make_engine, make_sessions
    from services.access import create_token

    clock = EmulatorClock(settings.bot_api_url)
    address = f"http://127.0.0.1:{port}"
    engine = make_engine(settings.database_url)
    try:
        await clock.sync()
        async with make_sessions(engine).begin() as session:
            issued = await create_token(
                session,
                area_code=DEMO_CITY,
                scope="figures",
                expires=timedelta(days=1),
                now=SystemClock().now(),
                label="demo",
            )
    except Exception as exc:
        log.warning("the demo's API does not start: %s", exc)
        return
    finally:
        await engine.dispose()
    click.echo(
        "\n".join(
            [
                f"  API and dashboard: {address}  (OpenAPI: {address}/api/docs; the grid worker "
                "sends /web in the web chat to sign in to the dashboard)",
                f"  a figures token for the city (today only): {issued.secret}",
                f"    curl -H 'Authorization: Bearer {issued.secret}' "
                f"'{address}/api/v1/areas/{DEMO_CITY}/figures?below=true'",
                "",
            ]
        )
    )

    async def nothing() -> None:
        return None

    following = asyncio.create_task(clock.follow(nothing))
    try:
        await serve_api(
            settings.database_url,
            "127.0.0.1",
            port,
            zone=settings.zone,
            overdue_after=timedelta(minutes=settings.alert_escalate_after_minutes),
            report_at=settings.daily_report_time,
            rate_per_minute=settings.api_rate_per_minute,
            public_url=address,
            clock=clock,
            embedded=True,
        )
    except (SchemaNotReady, OSError) as exc:
        log.warning("the demo's API stopped: %s", exc)
    finally:
        following.cancel()


async def _demo(port: int, database_url: str, api_port: int = 8090) -> None:
    from bot.runtime import serve as serve_bot
    from emulator import serve as serve_emulator

    base = f"http://127.0.0.1:{port}"
    # The bot keeps the emulator's time, which the web chat's clock buttons move forward;
    # BOT_FRAMEWORK and the other settings come from the environment and .env as usual.
    key = demo_key(database_url)
    settings = load_settings(
        bot_token=DEMO_TOKEN,
        bot_api_url=base,
        database_url=database_url,
        webhook_url=None,
        clock="emulator",
        **({"data_key": key} if key else {}),
        web_url=f"http://127.0.0.1:{api_port}",
    )
    use_keys(settings.keyring())
    emulator = asyncio.create_task(
        serve_emulator("127.0.0.1", port, limits=True, webchat=demo_webchat(settings))
    )
    await asyncio.sleep(0.3)
    if emulator.done():
        emulator.result()  # the port is taken, say why
    click.echo(
        "\n".join(
            [
                "returnee demo is running (Ctrl-C stops it).",
                f"  web chat:          {base}/  (open it in a browser)",
                f"  Bot API emulator:  {base}  (control API under {base}/control)",
                f"  bot:               {settings.bot_framework}, on the emulator's clock",
                f"  database:          {database_url}",
                "",
                "Talk to the bot as resident 1 in another terminal:",
                f"  .venv/bin/returnee chat --user 1 --emulator {base}",
                f"The grid worker of 新华南路社区第一网格 is user {DEMO_WORKER}; their alerts arrive in:",
                f"  .venv/bin/returnee chat --user {DEMO_WORKER} --emulator {base}",
                "",
            ]
        )
    )
    to_join, latest = await load_demo_data(database_url)
    if latest is not None:
        await clock_resumes(base, latest)
    joining = asyncio.create_task(worker_joins(base) if to_join else asyncio.sleep(0))
    keeping = asyncio.create_task(keep_clock(base, database_url))
    api = asyncio.create_task(demo_api(settings, base, api_port))
    try:
        await serve_bot(settings, upgrade_schema=True)
    finally:
        joining.cancel()
        keeping.cancel()
        api.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await api
        emulator.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await emulator
