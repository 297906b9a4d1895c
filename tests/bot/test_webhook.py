"""Webhook mode: only requests carrying the secret token are handled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import webhook
from bot.aiogram_runner import AiogramTransport, make_bot, make_dispatcher, webhook_app
from bot.service import Service
from bot.settings import load_settings
from emulator import EmulatorClient
from handlers.app import Core
from models.chat import ChatUser

SECRET = "s3cret-Token_1-of-the-webhook-32chars"


def update(user_id: int) -> dict[str, object]:
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "A"},
            "from": {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@pytest.fixture(params=["aiogram", "ptb"])
async def client(
    core: Core, emulator: EmulatorClient, request: pytest.FixtureRequest
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = load_settings(
        bot_token="4242424242:e2e-test-token-not-a-secret-0000",
        bot_api_url=emulator.base_url,
        bot_framework=request.param,
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=SECRET,
    )
    service = Service(core)
    if request.param == "ptb":
        from bot import ptb_runner

        application = ptb_runner.make_application(settings, service, polling=False)
        service.attach(ptb_runner.PtbTransport(application.bot))
        await application.initialize()
        async with TestClient(TestServer(ptb_runner.webhook_app(settings, application))) as ptb:
            yield ptb
        await application.shutdown()
        return
    bot = make_bot(settings)
    service.attach(AiogramTransport(bot))
    app = webhook_app(settings, bot, make_dispatcher(service))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await bot.session.close()


async def users(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ChatUser)) or 0)


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_without_the_secret_a_request_gets_401_and_changes_nothing(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
    emulator: EmulatorClient,
    headers: dict[str, str],
) -> None:
    response = await client.post("/telegram/hook", json=update(5), headers=headers)
    assert response.status == 401
    assert await users(sessions) == 0
    assert await emulator.messages(5) == []


async def test_with_the_secret_the_update_is_handled(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
    emulator: EmulatorClient,
) -> None:
    await emulator.send(5, "hi")  # the chat exists for the emulator
    response = await client.post(
        "/telegram/hook", json=update(5), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 200
    assert await users(sessions) == 1
    sent = [m for m in await emulator.messages(5) if m["from_bot"]]
    assert sent and "简体中文" in str(sent[-1]["reply_markup"])


@pytest.fixture
async def listening(core: Core, emulator: EmulatorClient) -> AsyncIterator[int]:
    """The webhook server as the bot runs it, with its time-outs made short for the test."""
    settings = load_settings(
        bot_token="4242424242:e2e-test-token-not-a-secret-0000",
        bot_api_url=emulator.base_url,
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=SECRET,
    )
    bot = make_bot(settings)
    service = Service(core)
    service.attach(AiogramTransport(bot))
    app = webhook_app(settings, bot, make_dispatcher(service))
    app[webhook._BODY_TIMEOUT] = 0.5
    runner = await webhook.serve(app, "127.0.0.1", 0, header_timeout=0.5)
    yield runner.addresses[0][1]
    await runner.cleanup()
    await bot.session.close()


async def test_a_connection_that_never_finishes_its_headers_is_closed(listening: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listening)
    writer.write(b"POST /telegram/hook HTTP/1.1\r\nHost: bot.example.org\r\n")
    await writer.drain()
    # The server hangs up (end of stream) rather than waiting for the rest for ever.
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""
    writer.close()


async def test_a_body_that_never_arrives_gets_408(
    listening: int, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = json.dumps(update(5)).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", listening)
    writer.write(
        b"POST /telegram/hook HTTP/1.1\r\nHost: bot.example.org\r\n"
        b"Content-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: "
        + SECRET.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body[:10]
    )
    await writer.drain()
    # The answer, then the server hangs up.
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    assert answer.startswith(b"HTTP/1.1 408")
    writer.close()
    assert await users(sessions) == 0


async def test_a_body_over_a_megabyte_is_refused(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    response = await client.post(
        "/telegram/hook",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 413
    assert await users(sessions) == 0


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"update_id": "x", "message": 3}', b"{}"]
)
async def test_a_malformed_update_gets_400_and_changes_nothing(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
    body: bytes,
) -> None:
    response = await client.post(
        "/telegram/hook",
        data=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert await users(sessions) == 0


async def test_an_update_posted_three_times_is_handled_once(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
    emulator: EmulatorClient,
) -> None:
    """Telegram posts an update again when the webhook answered late or with a 5xx."""
    await emulator.send(5, "hi")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    first = await client.post("/telegram/hook", json=update(5), headers=headers)
    assert first.status == 200
    answered = [m for m in await emulator.messages(5) if m["from_bot"]]
    assert answered
    for _ in range(2):
        again = await client.post("/telegram/hook", json=update(5), headers=headers)
        assert again.status == 200  # handled before: Telegram may stop posting it
    assert [m for m in await emulator.messages(5) if m["from_bot"]] == answered
    assert await users(sessions) == 1
