"""/forget erases: after it, no byte of the person is left in any SQLite file.

The updates travel the way production's do (webhook -> inbox -> processed), so their stored
payloads are covered too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import make_url
from telegram.ext import Application

from bot.i18n import plain
from devtools.local_api import LocalBotApi, LocalChat, sent_texts
from handlers.updates import UpdateRunner
from handlers.webhook import SECRET_HEADER
from tests.conftest import WEBHOOK_PATH as PATH
from tests.conftest import WEBHOOK_SECRET as SECRET

NAME = "Zyxwvu Qutsrp"
FIRST_NAME = "Ignatiaqq"
EMAIL = "zyxwvu.qutsrp@example.org"


async def deliver(
    webhook_client: TestClient, runner: UpdateRunner, payload: dict[str, Any]
) -> None:
    """POST the update and wait until the bot has processed it."""
    response = await webhook_client.post(PATH, json=payload, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    for _ in range(400):
        if not runner.busy and not await runner.inbox.pending():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the update was never processed")


def database_files(database_url: str) -> list[Path]:
    path = Path(make_url(database_url).database or "")
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def traces(files: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for needle in (NAME, FIRST_NAME, EMAIL):
        hits = [f.name for f in files if needle.encode() in f.read_bytes()]
        if hits:
            found[needle] = hits
    return found


async def test_no_file_keeps_a_trace_after_forget(
    app: Application,
    api: LocalBotApi,
    webhook_client: TestClient,
    runner: UpdateRunner,
    database_url: str,
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a byte search of the database files is for SQLite")
    chat = LocalChat(app, api, user_id=4242, first_name=FIRST_NAME)

    def message(text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"update_id": api.next_update_id(), "message": chat._message(**fields)}

    for text in ("/start", "/propose", NAME, "Ajuntament de Vic"):
        await deliver(webhook_client, runner, message(text))
    await chat.press("Local or regional government")
    await deliver(webhook_client, runner, message(EMAIL))
    files = database_files(str(app.bot_data.settings.database_url))
    assert traces(files), "the test must see the person's data before /forget"

    await deliver(webhook_client, runner, message("/forget"))
    press = {
        "id": "1",
        "from": chat.user,
        "chat_instance": "4242",
        "data": "forget:yes",
        "message": chat.last_bot_message(with_buttons=True),
    }
    before = len(api.calls)
    await deliver(
        webhook_client, runner, {"update_id": api.next_update_id(), "callback_query": press}
    )
    assert plain("forget.done", "en")[:30] in " ".join(sent_texts(api.calls[before:]))
    assert traces(database_files(str(app.bot_data.settings.database_url))) == {}
