"""Offline fixtures: the real Application over a LocalBotApi and a real database.

Every database test runs on SQLite (a file in tmp_path) and, when TEST_POSTGRES_URL is set
(`.ci/run` starts a server and sets it), on PostgreSQL too.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from telegram.ext import Application

from bot.settings import Settings
from devtools.local_api import LocalBotApi, LocalChat, LocalRequest
from handlers.app import build_application
from handlers.runtime import running
from handlers.updates import UpdateRunner
from handlers.webhook import webhook_app

ROOT = Path(__file__).resolve().parent.parent
# The tests' own small event (invented): organizers editing content/ break no test. Only
# tests/test_shipped_content.py and the answer engine's measure read the shipped content.
CONTENT_DIR = ROOT / "tests" / "data" / "content"
SHIPPED_CONTENT_DIR = ROOT / "content"
ADMIN_ID = 900
ORGANIZER_ID = 800
ORGANIZER_CHAT_ID = -100500
ATTENDEE_ID = 1
TOKEN = "123:test-token"
WEBHOOK_SECRET = "s3cret_token-1234567890"
WEBHOOK_PATH = "/telegram/hook"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


def drop_every_table(connection: Connection) -> None:
    """Every table there is: the models', alembic_version, and any a test made by hand."""
    everything = MetaData()
    everything.reflect(connection)
    everything.drop_all(connection)


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(drop_every_table)
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url = os.environ["TEST_POSTGRES_URL"]
        await reset_postgres(url)
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(CONTENT_DIR),
        "ADMIN_IDS": str(ADMIN_ID),
        "ORGANIZER_IDS": str(ORGANIZER_ID),
        "ORGANIZER_CHAT_ID": ORGANIZER_CHAT_ID,
        "BOT_TOKEN": TOKEN,
        # The shared send budget is tested on its own (test_transport.py); here it must not
        # slow the suite down.
        "SEND_RATE_LIMIT": 1_000_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def api() -> LocalBotApi:
    return LocalBotApi()


@pytest.fixture
async def app(settings: Settings, api: LocalBotApi) -> AsyncIterator[Application]:
    application = build_application(settings, request=LocalRequest(api))
    async with running(application):
        yield application


def chat_for(
    app: Application, api: LocalBotApi, user_id: int = ATTENDEE_ID, **kw: object
) -> LocalChat:
    return LocalChat(app, api, user_id=user_id, **kw)  # type: ignore[arg-type]


@pytest.fixture
def chat(app: Application, api: LocalBotApi) -> LocalChat:
    return chat_for(app, api)


@pytest.fixture
async def runner(app: Application) -> AsyncIterator[UpdateRunner]:
    """This worker's update runner: processes what the webhook stores in the inbox."""
    update_runner = UpdateRunner(app)
    await update_runner.start()
    yield update_runner
    await update_runner.stop()


@pytest.fixture
async def webhook_client(app: Application, runner: UpdateRunner) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The webhook server (handlers/webhook.py) in-process, over the running application."""
    server = TestServer(webhook_app(app, WEBHOOK_SECRET, WEBHOOK_PATH, runner))
    async with TestClient(server) as test_client:
        yield test_client
