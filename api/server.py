"""`returnee api`: the API and the dashboard under uvicorn, on the bot's database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import ApiConfig, create_app
from chat.clock import Clock, SystemClock
from models.db import make_engine, make_sessions, schema_state

log = logging.getLogger("returnee.api")


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside a process that handles its own signals (the demo): stopped by
    cancelling its task, never by taking over Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class SchemaNotReady(Exception):
    """The database cannot be read, or its schema is not the code's."""


async def ready_engine(database_url: str) -> AsyncEngine:
    engine = make_engine(database_url)
    try:
        state = await schema_state(engine)
    except Exception as exc:
        await engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise SchemaNotReady(f"DATABASE_URL: cannot open the database ({reason})") from None
    if not state.up_to_date:
        await engine.dispose()
        raise SchemaNotReady(
            f"DATABASE_URL: schema at {state.current or 'nothing'}, needs {state.head}; "
            "run `returnee db upgrade` first"
        )
    return engine


async def serve(
    database_url: str,
    host: str,
    port: int,
    *,
    zone: ZoneInfo,
    overdue_after: timedelta,
    report_at: time,
    rate_per_minute: int,
    public_url: str,
    clock: Clock | None = None,
    embedded: bool = False,
) -> None:
    """Serve until stopped: by Ctrl-C (uvicorn's own handling), or, `embedded`, by
    cancelling the task, which shuts the server down before the database is let go."""
    engine = await ready_engine(database_url)
    try:
        config = ApiConfig(
            zone=zone,
            overdue_after=overdue_after,
            report_at=report_at,
            rate_per_minute=rate_per_minute,
            clock=clock or SystemClock(),
            public_url=public_url,
        )
        app = create_app(make_sessions(engine), config)
        settings = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        server = (EmbeddedServer if embedded else uvicorn.Server)(settings)
        log.info("returnee api on http://%s:%d", host, port)
        # Bound here, so a port in use is said in one line (uvicorn would exit on its own).
        with socket.create_server((host, port)) as listening:
            running = asyncio.ensure_future(server.serve(sockets=[listening]))
            try:
                await asyncio.shield(running)
            except asyncio.CancelledError:
                server.should_exit = True
                await running
                raise
    finally:
        await engine.dispose()
