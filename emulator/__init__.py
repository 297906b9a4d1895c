"""A local Telegram Bot API emulator for the demo and for end-to-end tests.

The real bot process talks to it over HTTP exactly as it would to api.telegram.org; tests act
as users and read back what the bot did through the ``/control`` API (see EmulatorClient).

Typical use in a test::

    server = TestServer(create_app(limits=False), host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    # aiogram: AiohttpSession(api=TelegramAPIServer.from_base(url))
    # PTB:     Bot(token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    async with EmulatorClient(url) as users:
        sent = await users.send(1001, "/start")
        [answer] = await users.wait(1001, after=sent["message_id"])

Standalone: ``python -m emulator --port 8081`` or ``await serve("127.0.0.1", 8081)``.
"""

from emulator.client import (
    CallbackAnswer,
    ChatMessage,
    EmulatorClient,
    EmulatorError,
    EmulatorTimeout,
    LogEntry,
    PressResult,
    SentMessage,
)
from emulator.limits import FaultConfig, LimitConfig
from emulator.server import STATE_KEY, create_app, serve
from emulator.state import EmulatorState

__all__ = [
    "STATE_KEY",
    "CallbackAnswer",
    "ChatMessage",
    "EmulatorClient",
    "EmulatorError",
    "EmulatorState",
    "EmulatorTimeout",
    "FaultConfig",
    "LimitConfig",
    "LogEntry",
    "PressResult",
    "SentMessage",
    "create_app",
    "serve",
]
