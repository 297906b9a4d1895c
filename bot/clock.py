"""The emulator's clock, followed by the bot (CLOCK=emulator): the demo and the end-to-end tests
move the emulator's time forward, and the bot's jobs see the new time at once. aiohttp is loaded
only when the clock is read (the PTB runner does not need it otherwise)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from chat.clock import ShiftedClock

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)


class EmulatorClock(ShiftedClock):
    """The system clock plus the emulator's offset, read from `{api}/control/clock`."""

    def __init__(self, api_url: str, *, interval: float = 0.2) -> None:
        super().__init__()
        self.url = api_url.rstrip("/") + "/control/clock"
        self.interval = interval

    async def sync(self, session: aiohttp.ClientSession | None = None) -> bool:
        """Reads the emulator's offset; True if it moved."""
        import aiohttp

        async with contextlib.AsyncExitStack() as stack:
            if session is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
            async with session.get(self.url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                body = await response.json()
        offset = timedelta(seconds=float(body["offset_seconds"]))
        moved = offset != self.offset
        self.offset = offset
        return moved

    async def follow(self, on_moved: Callable[[], Awaitable[None]]) -> None:
        """Polls the emulator until cancelled; after each move, `on_moved` runs the jobs."""
        import aiohttp

        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    moved = await self.sync(session)
                except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                    log.warning("cannot read the emulator's clock: %s", exc)
                    moved = False
                if moved:
                    now = self.now()
                    log.info("the emulator's clock moved: now %s", now.isoformat())
                    await on_moved()
                    # What tests wait on after a move, instead of guessing how long jobs take.
                    log.info("jobs caught up with the clock at %s", now.isoformat())
                await asyncio.sleep(self.interval)
