"""The emulator's web chat: a page at ``/`` to talk to the bot as several simulated users.

Plain HTML, CSS and a little JavaScript (``bot/emulator/web/``), served by the emulator itself
on the Bot API's port, so the page acts through the control API on the same origin. Two helper
routes keep the page simple:

- ``GET /web/api/poll?chat=ID&since=SEQ``: waits until anything in the emulator changed after
  ``since`` (a new message, an edit, the clock), then answers with the chat's messages, the
  callback answers (toasts) shown in it, every chat's message count and the emulator's time.
- ``POST /web/api/clock`` ``{"step": "hour" | "checkin" | "day"}``: the demo's clock buttons.
  Only the demo has them (``WebChatConfig.clock``); elsewhere the route answers 404.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from emulator.state import EmulatorState

__all__ = ["ChatUser", "DemoClock", "WebChatConfig", "add_webchat_routes", "clock_target"]

WEB = Path(__file__).with_name("web")
ASSETS = {
    "app.js": "application/javascript",
    "style.css": "text/css",
}
CLOCK_STEPS = ("hour", "checkin", "day")


@dataclass(frozen=True)
class ChatUser:
    """One simulated person on the page's list."""

    id: int
    name: str
    role: str = "resident"
    language_code: str = "zh-hans"

    @property
    def phone(self) -> str:
        """The number the "share contact" button sends: a made-up Chinese mobile number."""
        return f"86138{self.id % 10**8:08d}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "language_code": self.language_code,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class DemoClock:
    """The demo's clock buttons: local time in `zone`, check-ins at `checkin_times`."""

    zone: str = "Asia/Shanghai"
    checkin_times: tuple[time, ...] = (time(8), time(20))


DEFAULT_USERS = (
    ChatUser(1, "Resident 1"),
    ChatUser(2, "Resident 2"),
    ChatUser(3, "Resident 3"),
)


@dataclass(frozen=True)
class WebChatConfig:
    users: tuple[ChatUser, ...] = DEFAULT_USERS
    clock: DemoClock | None = None
    title: str = "returnee · web chat"

    def as_dict(self) -> dict[str, Any]:
        clock = None
        if self.clock is not None:
            clock = {
                "zone": self.clock.zone,
                "checkin_times": [t.strftime("%H:%M") for t in self.clock.checkin_times],
            }
        return {
            "title": self.title,
            "users": [user.as_dict() for user in self.users],
            "clock": clock,
        }


def clock_target(now: datetime, step: str, clock: DemoClock) -> datetime:
    """Where a clock button moves the time: an hour on, the next check-in slot's start, or
    the next local midnight."""
    zone = ZoneInfo(clock.zone)
    local = now.astimezone(zone)
    if step == "hour":
        return now + timedelta(hours=1)
    if step == "day":
        return _local(local.date() + timedelta(days=1), time(0), zone)
    if step == "checkin":
        days = (local.date(), local.date() + timedelta(days=1))
        slots = sorted(_local(day, at, zone) for day in days for at in clock.checkin_times)
        return next(slot for slot in slots if slot > local)
    raise ValueError(f"unknown clock step {step!r}: one of {', '.join(CLOCK_STEPS)}")


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _int(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None


class WebChat:
    def __init__(self, state: EmulatorState, config: WebChatConfig) -> None:
        self.state = state
        self.config = config

    async def page(self, request: web.Request) -> web.StreamResponse:
        html = (WEB / "index.html").read_text(encoding="utf-8")
        return web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                # Nothing from elsewhere, no inline script: bot texts can never run as code.
                "Content-Security-Policy": (
                    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                    "base-uri 'none'; frame-ancestors 'none'"
                ),
            },
        )

    async def asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return web.Response(
            body=(WEB / name).read_bytes(),
            content_type=ASSETS[name],
            headers={"Cache-Control": "no-store"},
        )

    async def config_view(self, request: web.Request) -> web.StreamResponse:
        return _json({"ok": True, **self.config.as_dict()})

    def _now(self) -> dict[str, Any]:
        return {"now": self.state.now(), "offset_seconds": self.state.clock_offset}

    async def poll(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        chat_id = _int(request, "chat", 0)
        since = _int(request, "since", 0)
        toast_after = _int(request, "toast_after", 0)
        timeout = min(max(0.0, float(_int(request, "timeout", 25))), 60.0)
        await state.wait_for(lambda: state.change_seq > since, timeout)
        chat = state.messages.get(chat_id, {})
        counts = {
            str(user_id): sum(1 for m in messages.values() if m.from_bot and not m.deleted)
            for user_id, messages in state.messages.items()
        }
        names = {str(user.id): user.first_name for user in state.users.values()}
        toasts = [
            {"seq": a["seq"], "text": a["text"], "show_alert": a["show_alert"]}
            for a in state.callback_answers
            if a["seq"] > toast_after and a["chat_id"] == chat_id and a["text"]
        ]
        return _json(
            {
                "ok": True,
                "seq": state.change_seq,
                "messages": [state.control_message(m) for _, m in sorted(chat.items())],
                "toasts": toasts,
                "toast_seq": state.callback_answers[-1]["seq"] if state.callback_answers else 0,
                "counts": counts,
                "names": names,
                **self._now(),
            }
        )

    async def move_clock(self, request: web.Request) -> web.StreamResponse:
        clock = self.config.clock
        if clock is None:
            return _json({"ok": False, "error": "the clock buttons are the demo's only"}, 404)
        try:
            body = await request.json()
            step = str(body["step"])
            now = datetime.fromtimestamp(self.state.now(), UTC)
            target = clock_target(now, step, clock)
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"ok": False, "error": f"give step: hour, checkin or day ({exc})"}, 400)
        self.state.clock_offset += max(0.0, target.timestamp() - self.state.now())
        self.state.notify()
        return _json({"ok": True, **self._now()})


def add_webchat_routes(
    app: web.Application, state: EmulatorState, config: WebChatConfig | None = None
) -> None:
    """The page at ``/`` and its helpers under ``/web``; add before any catch-all route."""
    chat = WebChat(state, config or WebChatConfig())
    app.router.add_get("/", chat.page)
    app.router.add_get("/web/api/config", chat.config_view)
    app.router.add_get("/web/api/poll", chat.poll)
    app.router.add_post("/web/api/clock", chat.move_clock)
    app.router.add_get("/web/{name}", chat.asset)
