"""Starts the bot: storage checked, the core built, then the runner the settings name."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.clock import EmulatorClock
from bot.delivery import Limits
from bot.locks import InstanceLock
from bot.service import Service
from bot.settings import Settings, SettingsError
from chat.clock import Clock, SystemClock
from handlers.app import Core
from models.crypto import use_keys
from models.db import make_engine, make_sessions, schema_state, upgrade
from rules.policy import load_policy
from services.options import Options

log = logging.getLogger(__name__)


class SchemaOutOfDate(SettingsError):
    """The database needs `returnee db upgrade` (or `returnee run --upgrade`)."""


async def bot_username(settings: Settings) -> str | None:
    """The bot's @username (getMe), for the links it gives out (a companion's invitation);
    None, with a warning, when Telegram cannot be asked now (the code is then read out)."""
    url = f"{settings.bot_api_url.rstrip('/')}/bot{settings.token()}/getMe"
    try:
        username = (await _get_json(url, settings.bot_framework))["result"]["username"]
    except (_Unreached, TimeoutError, ValueError, KeyError, TypeError) as exc:
        # The exception's name only: its text may carry the URL, and so the token. INFO: a
        # Bot API out of reach is said (in one line) by what comes next.
        log.info(
            "getMe failed (%s): invitation links are given as codes to send with /start",
            exc.args[0] if isinstance(exc, _Unreached) else type(exc).__name__,
        )
        return None
    return str(username) if username else None


class _Unreached(Exception):
    """The HTTP client's error, by its name only (its text may carry the token)."""


async def _get_json(url: str, framework: str) -> Any:
    """A GET's JSON answer, through the HTTP client the runner carries anyway (PTB: httpx,
    aiogram: aiohttp), so that asking costs the bot's memory no library of its own."""
    if framework == "ptb":
        import httpx

        try:
            async with httpx.AsyncClient(timeout=10) as client:
                return (await client.get(url)).json()
        except httpx.HTTPError as exc:
            raise _Unreached(type(exc).__name__) from None
    import aiohttp

    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(url) as reply,
        ):
            return await reply.json()
    except aiohttp.ClientError as exc:
        raise _Unreached(type(exc).__name__) from None


async def serve(settings: Settings, *, upgrade_schema: bool = False) -> None:
    use_keys(settings.keyring())
    # Every update handled at once, and the outbox worker, its lock, the poll lock and a
    # job or two beside them (`bot.scheduler.JOBS_AT_ONCE`).
    engine = make_engine(settings.database_url, pool_size=settings.concurrency + 6)
    try:
        try:
            state = await schema_state(engine)
        except (OperationalError, DBAPIError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SettingsError(f"DATABASE_URL: cannot open the database ({reason})") from None
        if not state.up_to_date:
            if not upgrade_schema:
                raise SchemaOutOfDate(
                    f"DATABASE_URL: schema at {state.current or 'nothing'}, needs {state.head}; "
                    "run `returnee db upgrade` first, or `returnee run --upgrade`"
                )
            log.info("upgrading the database schema %s → %s", state.current, state.head)
            await upgrade(engine)
        options = Options(
            zone=settings.zone,
            retention_days=settings.retention_days,
            policy=load_policy(settings.policy),
            checkin_times=settings.checkin_slots,
            reminder_after=timedelta(minutes=settings.reminder_after_minutes),
            checkin_grace=timedelta(minutes=settings.checkin_grace_minutes),
            alert_resend_after=timedelta(minutes=settings.alert_resend_after_minutes),
            alert_escalate_after=timedelta(minutes=settings.alert_escalate_after_minutes),
            daily_report_at=settings.daily_report_time,
            web_url=settings.web_url,
            bot_username=await bot_username(settings),
            full_id_roles=settings.full_id_roles,
        )
        clock: Clock = SystemClock()
        follow_clock = None
        if settings.clock == "emulator":
            import aiohttp  # the demo's and the tests' clock only

            follow_clock = EmulatorClock(settings.bot_api_url)
            try:
                await follow_clock.sync()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                raise SettingsError(f"CLOCK: cannot read the emulator's clock ({exc})") from None
            clock = follow_clock
        core = Core(make_sessions(engine), clock, options)
        bot_id = settings.token().split(":", 1)[0]
        service = Service(
            core,
            Limits(per_chat_per_second=settings.chat_rate),
            follow_clock=follow_clock,
            poll_lock=InstanceLock(engine, f"returnee-poll-{bot_id}"),
            outbox_lock=InstanceLock(engine, f"returnee-outbox-{bot_id}"),
        )
        if settings.bot_framework == "ptb":
            from bot import ptb_runner

            await ptb_runner.run(settings, service)
        else:
            from bot import aiogram_runner

            await aiogram_runner.run(settings, service)
    finally:
        await engine.dispose()
