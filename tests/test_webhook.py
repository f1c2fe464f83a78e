"""Webhook mode in-process: the secret token, bad bodies, health, and refusing bad settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from telegram.ext import Application

from bot.local_api import LocalBotApi, LocalChat
from bot.webhook import SECRET_HEADER, webhook_app, webhook_path, webhook_problem
from tests.conftest import make_settings

SECRET = "s3cret_token-1234567890"
PATH = "/telegram/hook"


@pytest.fixture
async def client(app: Application) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(webhook_app(app, SECRET, PATH))) as test_client:
        yield test_client


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
    client: TestClient, chat: LocalChat, api: LocalBotApi
) -> None:
    payload = update_from(chat, "how many employees does Huawei have")
    response = await client.post(PATH, json=payload, headers={SECRET_HEADER: SECRET})

    assert response.status == 200
    assert any("207,000" in text for text in await answered(api, chat.user_id))


@pytest.mark.parametrize("headers", [{SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}, {}])
async def test_a_wrong_or_missing_secret_gets_403_and_changes_nothing(
    client: TestClient, chat: LocalChat, app: Application, headers: dict[str, str]
) -> None:
    response = await client.post(PATH, json=update_from(chat, "hi"), headers=headers)

    assert response.status == 403
    assert app.update_queue.empty()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"no": "update_id"}'])
async def test_a_body_that_is_not_an_update_gets_400(
    client: TestClient, app: Application, body: bytes
) -> None:
    response = await client.post(
        PATH, data=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    )

    assert response.status == 400
    assert app.update_queue.empty()


async def test_health_answers_while_running_and_503_once_stopped(
    client: TestClient, app: Application
) -> None:
    assert (await client.get("/healthz")).status == 200
    await app.stop()
    try:
        assert (await client.get("/healthz")).status == 503
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
