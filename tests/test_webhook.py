"""Webhook mode in-process: the secret token, bad bodies, health, and refusing bad settings."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from telegram.ext import Application

from bot.models import InboxUpdate, Lease
from devtools.local_api import LocalBotApi, LocalChat
from handlers.context import services_of
from handlers.updates import UpdateRunner
from handlers.webhook import SECRET_HEADER, webhook_path, webhook_problem
from tests.conftest import WEBHOOK_PATH as PATH
from tests.conftest import WEBHOOK_SECRET as SECRET
from tests.conftest import make_settings


async def stored(app: Application) -> int:
    async with services_of(app).sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)


async def answered(api: LocalBotApi, chat_id: int) -> list[str]:
    """The texts sent to `chat_id`, once there is one (bounded wait)."""
    for _ in range(200):
        if calls := api.calls_to("sendMessage", chat_id):
            return [call.text for call in calls]
        await asyncio.sleep(0.025)
    raise AssertionError("the bot never answered")


def update_from(chat: LocalChat, text: str) -> dict[str, object]:
    return {"update_id": chat.api.next_update_id(), "message": chat._message(text=text)}


async def test_the_right_secret_gets_the_update_processed(
    webhook_client: TestClient, chat: LocalChat, api: LocalBotApi
) -> None:
    payload = update_from(chat, "how many employees does Lumen Telecom have")
    response = await webhook_client.post(PATH, json=payload, headers={SECRET_HEADER: SECRET})

    assert response.status == 200
    assert any("12,400" in text for text in await answered(api, chat.user_id))


@pytest.mark.parametrize("headers", [{SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}, {}])
async def test_a_wrong_or_missing_secret_gets_403_and_changes_nothing(
    webhook_client: TestClient, chat: LocalChat, app: Application, headers: dict[str, str]
) -> None:
    response = await webhook_client.post(PATH, json=update_from(chat, "hi"), headers=headers)

    assert response.status == 403
    assert await stored(app) == 0


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"no": "update_id"}'])
async def test_a_body_that_is_not_an_update_gets_400(
    webhook_client: TestClient, app: Application, body: bytes
) -> None:
    response = await webhook_client.post(
        PATH, data=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    )

    assert response.status == 400
    assert await stored(app) == 0


async def test_health_answers_while_running_and_503_once_stopped(
    webhook_client: TestClient, app: Application
) -> None:
    assert (await webhook_client.get("/healthz")).status == 200
    await app.stop()
    try:
        assert (await webhook_client.get("/healthz")).status == 503
    finally:
        await app.start()


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({}, "cli.webhook_no_url"),
        ({"WEBHOOK_URL": "http://bot.example.org/hook"}, "cli.webhook_not_https"),
        ({"WEBHOOK_URL": "https://bot.example.org/hook"}, "cli.webhook_no_secret"),
        (
            {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "has spaces " * 3},
            "cli.webhook_bad_secret",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "too_short"},
            "cli.webhook_bad_secret",
        ),
        ({"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": SECRET}, None),
    ],
)
def test_webhook_settings_are_checked_before_starting(
    overrides: dict[str, str], problem: str | None
) -> None:
    assert webhook_problem(make_settings("sqlite+aiosqlite://", **overrides)) == problem


def test_the_local_path_is_the_public_url_path() -> None:
    settings = make_settings("sqlite+aiosqlite://", WEBHOOK_URL="https://x.org/tg/hook")
    assert webhook_path(settings) == "/tg/hook"
    assert webhook_path(make_settings("sqlite+aiosqlite://", WEBHOOK_URL="https://x.org")) == "/"


async def test_the_same_update_delivered_twice_is_processed_once(
    webhook_client: TestClient, chat: LocalChat, api: LocalBotApi
) -> None:
    await chat.send("/propose")
    payload = update_from(chat, "Dupe Name")
    for _ in range(2):  # Telegram redelivers when a webhook answer is late
        response = await webhook_client.post(PATH, json=payload, headers={SECRET_HEADER: SECRET})
        assert response.status == 200
    await answered_after(api, chat.user_id, "organization")
    await asyncio.sleep(0.3)  # time enough for a second processing, if there were one
    draft = await services_of(chat.application).drafts.draft_of(chat.user_id)
    assert draft is not None and draft.name == "Dupe Name" and draft.organization is None


async def answered_after(api: LocalBotApi, chat_id: int, word: str) -> None:
    for _ in range(200):
        if any(word in call.text for call in api.calls_to("sendMessage", chat_id)):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the bot never said {word!r}")


async def test_repeated_wrong_secrets_are_logged_at_a_bounded_rate(
    webhook_client: TestClient, chat: LocalChat, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(200):
        await webhook_client.post(
            PATH, json=update_from(chat, "hi"), headers={SECRET_HEADER: "no"}
        )
    refusals = [r for r in caplog.records if "wrong secret" in r.getMessage()]
    assert len(refusals) == 1


async def test_an_update_the_library_cannot_read_is_skipped_once_and_the_next_goes_on(
    webhook_client: TestClient, chat: LocalChat, api: LocalBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"update_id": chat.api.next_update_id(), "message": {"message_id": "x"}}
    response = await webhook_client.post(PATH, json=broken, headers={SECRET_HEADER: SECRET})
    assert response.status == 200  # stored: Telegram must not send it again and again
    good = update_from(chat, "how many employees does Lumen Telecom have")
    await webhook_client.post(PATH, json=good, headers={SECRET_HEADER: SECRET})
    assert any("12,400" in text for text in await answered(api, chat.user_id))
    skipped = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(skipped) == 1 and str(broken["update_id"]) in skipped[0].getMessage()


async def test_an_update_id_no_database_column_holds_is_refused(
    webhook_client: TestClient, app: Application
) -> None:
    forged = {"update_id": 2**70, "message": {"message_id": 1}}
    response = await webhook_client.post(PATH, json=forged, headers={SECRET_HEADER: SECRET})
    assert response.status == 400
    assert await stored(app) == 0


async def test_old_updates_and_gone_workers_are_pruned(
    app: Application, runner: UpdateRunner
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    async with services_of(app).sessions.begin() as session:
        session.add(
            InboxUpdate(
                update_id=1, status="done", attempts=1, received_at=long_ago, processed_at=long_ago
            )
        )
        session.add(InboxUpdate(update_id=2, status="pending", attempts=0, payload="{}"))
        session.add(Lease(name="alive:gone:1:x", holder="gone:1:x", expires_at=long_ago))
    assert await runner.inbox.prune() == 1
    async with services_of(app).sessions() as session:
        kept = list(await session.scalars(select(InboxUpdate.update_id)))
        leases = list(await session.scalars(select(Lease.name)))
    assert kept == [2] and "alive:gone:1:x" not in leases
    assert f"alive:{runner.worker}" in leases  # this worker's own heartbeat stays
