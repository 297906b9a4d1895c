"""The emulator's web chat routes: the page, its poll, and the demo's clock buttons (the page
itself is driven in a real browser by tests/e2e/test_webchat.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from emulator import EmulatorClient, create_app
from emulator.webchat import ChatUser, DemoClock, WebChatConfig, clock_target

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "step", "target"),
    [
        ("2026-07-01 10:00", "hour", "2026-07-01 11:00"),
        ("2026-07-01 10:00", "checkin", "2026-07-01 20:00"),
        ("2026-07-01 07:59", "checkin", "2026-07-01 08:00"),
        ("2026-07-01 08:00", "checkin", "2026-07-01 20:00"),
        ("2026-07-01 21:30", "checkin", "2026-07-02 08:00"),
        ("2026-07-01 21:30", "day", "2026-07-02 00:00"),
        ("2026-07-31 00:00", "day", "2026-08-01 00:00"),
    ],
)
def test_where_each_clock_button_moves_the_time(now: str, step: str, target: str) -> None:
    clock = DemoClock("Asia/Shanghai", (time(8), time(20)))
    assert clock_target(at(now).astimezone(UTC), step, clock) == at(target)


async def test_the_page_its_poll_and_the_clock_only_in_the_demo() -> None:
    demo = WebChatConfig(
        users=(ChatUser(1, "李娜"), ChatUser(900, "赵敏", "grid worker")), clock=DemoClock()
    )
    async with aiohttp.ClientSession() as http:
        for config, has_clock in ((demo, True), (None, False)):
            server = TestServer(create_app(webchat=config), host="127.0.0.1", port=0)
            await server.start_server()
            base = str(server.make_url("")).rstrip("/")
            try:
                async with http.get(base + "/") as page:
                    assert page.status == 200 and "/web/app.js" in await page.text()
                    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
                for asset, kind in (("app.js", "javascript"), ("style.css", "css")):
                    async with http.get(f"{base}/web/{asset}") as response:
                        assert response.status == 200 and kind in response.content_type
                async with http.get(f"{base}/web/..%2Fwebchat.py") as response:
                    assert response.status == 404
                async with http.get(base + "/web/api/config") as response:
                    shown = await response.json()
                assert (shown["clock"] is not None) is has_clock
                if has_clock:
                    assert [u["name"] for u in shown["users"]] == ["李娜", "赵敏"]
                    assert shown["clock"]["checkin_times"] == ["08:00", "20:00"]

                async with EmulatorClient(base) as control:
                    await control.send(1, "/start")
                async with http.get(base + "/web/api/poll?chat=1&since=0") as response:
                    polled = await response.json()
                assert [m["text"] for m in polled["messages"]] == ["/start"]
                # Nothing changes: the poll waits, then answers with the same seq.
                query = f"chat=1&since={polled['seq']}&timeout=0"
                async with http.get(f"{base}/web/api/poll?{query}") as response:
                    assert (await response.json())["seq"] == polled["seq"]

                async with http.post(base + "/web/api/clock", json={"step": "checkin"}) as moved:
                    if not has_clock:
                        assert moved.status == 404
                        continue
                    now = datetime.fromtimestamp((await moved.json())["now"], SHANGHAI)
                assert now.strftime("%H:%M") in ("08:00", "20:00")
                async with http.post(base + "/web/api/clock", json={"step": "week"}) as refused:
                    assert refused.status == 400 and "hour, checkin or day" in await refused.text()
            finally:
                await server.close()
