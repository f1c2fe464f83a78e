"""End-to-end fixtures: a Bot API stand-in on loopback and `python main.py` processes.

Every process started here is killed in teardown, whatever the test did; every wait is
bounded, so a hung bot fails the test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ADMIN_ID, ORGANIZER_CHAT_ID, ORGANIZER_ID, SHIPPED_CONTENT_DIR
from tests.e2e.bot_process import BotProcess, bot_environment, free_port
from tests.e2e.fake_bot_api import FakeBotApiServer, HttpChat

E2E_TOKEN = "4242:e2e-Secret-Token_value"
WEBHOOK_SECRET = "e2e-webhook-Secret_42"
WEBHOOK_URL = "https://bot.example.org/telegram/webhook"

Launch = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApiServer]:
    server = FakeBotApiServer(E2E_TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def bot_env(fake_api: FakeBotApiServer, tmp_path: Path) -> dict[str, str]:
    """The environment of a production bot, pointed at the stand-in; tests may change it."""
    return bot_environment(
        BOT_TOKEN=E2E_TOKEN,
        BOT_API_URL=fake_api.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        ADMIN_IDS=str(ADMIN_ID),
        ORGANIZER_IDS=str(ORGANIZER_ID),
        ORGANIZER_CHAT_ID=str(ORGANIZER_CHAT_ID),
        CONTENT_DIR=str(SHIPPED_CONTENT_DIR),
        LOG_LEVEL="DEBUG",
    )


@pytest.fixture
async def launch(
    fake_api: FakeBotApiServer, bot_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Launch]:
    """`await launch()` starts `python main.py` and returns once it polls for updates;
    `await launch("webhook")` once its webhook server answers /healthz."""
    started: list[BotProcess] = []

    async def start(*args: str, wait: bool = True) -> BotProcess:
        bot = BotProcess(bot_env, tmp_path, *args)
        started.append(bot)
        polls_before = fake_api.get_updates_calls
        await bot.start()
        fake_api.handled = bot.has_handled
        if wait and "webhook" in args:
            await wait_until_healthy(fake_api, bot, int(bot_env["WEBHOOK_PORT"]))
        elif wait:
            await fake_api.wait_for(
                lambda: fake_api.get_updates_calls > polls_before or bot.exited,
                "the bot to start polling",
            )
            assert not bot.exited, bot.output()
        return bot

    try:
        yield start
    finally:
        for bot in started:
            await bot.kill()


async def wait_until_healthy(fake_api: FakeBotApiServer, bot: BotProcess, port: int) -> None:
    """Until GET /healthz answers 200 (the bot has registered its webhook by then)."""
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        for _ in range(150):
            if bot.exited:
                raise AssertionError(f"the bot exited:\n{bot.output()}")
            if await healthy():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the webhook server never became healthy:\n{bot.output()}")


@pytest.fixture
def webhook_env(bot_env: dict[str, str]) -> dict[str, str]:
    """Webhook mode settings on a free loopback port."""
    bot_env.update(
        WEBHOOK_URL=WEBHOOK_URL,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(free_port()),
    )
    return bot_env


def person(fake_api: FakeBotApiServer, user_id: int = 1, **fields: object) -> HttpChat:
    """Someone talking to the bot through the stand-in."""
    return HttpChat(None, fake_api.api, user_id=user_id, server=fake_api, **fields)  # type: ignore[arg-type]
