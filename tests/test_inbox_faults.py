"""One odd update never stops the others: a lone surrogate in a text, an update the database
refuses, `update_id: true`. By polling and by webhook, on every backend."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from telegram.ext import Application

from bot.i18n import t
from bot.inbox import Inbox
from bot.models import InboxUpdate
from devtools.local_api import JSON, ApiError, LocalBotApi, LocalChat, LocalRequest
from handlers.context import services_of
from handlers.updates import UpdateRunner, poll_updates
from handlers.webhook import SECRET_HEADER, webhook_app

SECRET = "s3cret_token-1234567890"
PATH = "/telegram/hook"
QUESTION = "how many employees does Lumen Telecom have"
# What a UTF-16 client can produce: half of a surrogate pair, alone (JSON allows the escape).
LONE_SURROGATE = "\\ud800"


def person(app: Application, api: LocalBotApi, user_id: int) -> LocalChat:
    return LocalChat(app, api, user_id=user_id)


def raw_update(chat: LocalChat, text: str) -> str:
    """The JSON Telegram would send, with `text` spliced in as it is (escapes kept)."""
    update = {"update_id": chat.api.next_update_id(), "message": chat._message(text="TEXT")}
    return json.dumps(update).replace('"TEXT"', f'"{text}"')


async def answered(api: LocalBotApi, *chat_ids: int) -> dict[int, list[str]]:
    """The texts sent to each chat, once every one has had an answer (bounded wait)."""
    for _ in range(400):
        texts = {chat: [c.text for c in api.calls_to("sendMessage", chat)] for chat in chat_ids}
        if all(texts.values()):
            return texts
        await asyncio.sleep(0.025)
    raise AssertionError(f"not every chat was answered: {texts}")


async def test_a_lone_surrogate_in_a_polled_batch_holds_back_nobody(
    app: Application, api: LocalBotApi, runner: UpdateRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, odd, last = (person(app, api, user_id) for user_id in (11, 12, 13))
    batch = [
        raw_update(first, QUESTION),
        raw_update(odd, f"{QUESTION} {LONE_SURROGATE}"),
        raw_update(last, QUESTION),
    ]
    offsets: list[Any] = []

    def get_updates(params: JSON) -> list[JSON]:
        offsets.append(params.get("offset"))
        if len(offsets) == 1:
            return [json.loads(item) for item in batch]
        # One look is enough: the poller stops as when another process takes over.
        raise ApiError(409, "Conflict: terminated by other getUpdates request")

    api._getUpdates = get_updates  # type: ignore[method-assign]
    # getUpdates has a request object of its own in python-telegram-bot: answered locally too.
    monkeypatch.setattr(app.bot, "_request", (LocalRequest(api), app.bot._request[1]))
    polling = asyncio.create_task(poll_updates(app, runner))
    try:
        texts = await answered(api, 11, 12, 13)
    finally:
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)

    for chat in (11, 13):
        assert any("12,400" in text for text in texts[chat])
    # Kept with U+FFFD where the half character was, and answered like any question.
    assert any("12,400" in text for text in texts[12])
    assert offsets[1] == json.loads(batch[-1])["update_id"] + 1  # the batch was confirmed


async def test_a_lone_surrogate_by_webhook_gets_200_and_an_answer(
    app: Application, api: LocalBotApi, runner: UpdateRunner
) -> None:
    odd, next_one = person(app, api, 21), person(app, api, 22)
    async with TestClient(TestServer(webhook_app(app, SECRET, PATH, runner))) as client:
        statuses = []
        for body in (raw_update(odd, f"{LONE_SURROGATE} {QUESTION}"), raw_update(next_one, "hi")):
            response = await client.post(
                PATH,
                data=body.encode(),
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            )
            statuses.append(response.status)
        texts = await answered(api, 21, 22)
    assert statuses == [200, 200]  # never 503: Telegram would hold everything behind it
    assert any("12,400" in text for text in texts[21])


async def test_an_update_the_database_refuses_is_skipped_and_its_chat_told(
    app: Application, api: LocalBotApi, runner: UpdateRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the reason a database refuses one update, the batch goes on without it."""
    refused, fine = person(app, api, 31), person(app, api, 32)
    refused.language_code = "es"
    bad = json.loads(raw_update(refused, "anything"))
    good = json.loads(raw_update(fine, QUESTION))
    original = Inbox._insert

    async def refusing(self: Inbox, rows: list[dict[str, Any]]) -> list[int]:
        if any(
            row["update_id"] == bad["update_id"] and "anything" in row["payload"] for row in rows
        ):
            raise ValueError("value out of range for this column")
        return await original(self, rows)

    monkeypatch.setattr(Inbox, "_insert", refusing)
    new = await runner.inbox.store([bad, good])
    runner.wake()
    texts = await answered(api, 31, 32)

    assert sorted(new) == sorted([bad["update_id"], good["update_id"]])
    assert texts[31] == [t("error.unreadable", "es")]  # in the language of the update
    assert any("12,400" in text for text in texts[32])
    async with services_of(app).sessions() as session:
        kept = await session.scalar(
            select(InboxUpdate.status).where(InboxUpdate.update_id == bad["update_id"])
        )
    assert kept == "skipped"


@pytest.mark.parametrize("update_id", [True, False])
async def test_a_boolean_update_id_is_not_an_update(
    app: Application, runner: UpdateRunner, update_id: bool
) -> None:
    async with TestClient(TestServer(webhook_app(app, SECRET, PATH, runner))) as client:
        response = await client.post(
            PATH,
            json={"update_id": update_id, "message": {"message_id": 1}},
            headers={SECRET_HEADER: SECRET},
        )
    assert response.status == 400
    async with services_of(app).sessions() as session:
        assert list(await session.scalars(select(InboxUpdate.update_id))) == []


async def test_an_update_whose_claim_was_lost_in_a_blip_is_taken_back(
    app: Application, api: LocalBotApi, runner: UpdateRunner
) -> None:
    """The claim committed, but its answer never reached this (live) worker: the row says
    "processing" under its name while it processes nothing. It must not hold the chat."""
    chat = person(app, api, 41)
    first = json.loads(raw_update(chat, QUESTION))
    second = json.loads(raw_update(chat, "/help"))
    await runner.inbox.store([first, second])
    async with services_of(app).sessions.begin() as session:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == first["update_id"])
            .values(status="processing", claimed_by=runner.worker, attempts=1)
        )
    runner.wake()
    for _ in range(200):
        if len(api.calls_to("sendMessage", 41)) >= 2:
            break
        await asyncio.sleep(0.025)
    texts = [c.text for c in api.calls_to("sendMessage", 41)]
    assert len(texts) >= 2 and "12,400" in texts[0]  # in order, the lost one first
