"""`python main.py webhook` over real HTTP: the secret token, /healthz, refusing bad settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
import pytest

from handlers.webhook import SECRET_HEADER
from tests.e2e.bot_process import BotProcess
from tests.e2e.conftest import E2E_TOKEN, WEBHOOK_SECRET, WEBHOOK_URL, Launch, person
from tests.e2e.fake_bot_api import FakeBotApiServer

INTRUDER_ID = 5
PERSON_ID = 6


def user_ids(database_url: str) -> set[int]:
    path = database_url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM users")}


async def test_webhook_refuses_a_wrong_secret_and_serves_the_right_one(
    launch: Launch, fake_api: FakeBotApiServer, webhook_env: dict[str, str]
) -> None:
    bot = await launch("webhook")
    endpoint = f"http://127.0.0.1:{webhook_env['WEBHOOK_PORT']}/telegram/webhook"
    intruder, attendee = person(fake_api, INTRUDER_ID), person(fake_api, PERSON_ID)

    (registration,) = fake_api.api.calls_to("setWebhook")
    assert registration.params["url"] == WEBHOOK_URL
    assert registration.params["secret_token"] == WEBHOOK_SECRET
    async with aiohttp.ClientSession() as http:
        async with http.get(endpoint.replace("/telegram/webhook", "/healthz")) as health:
            assert health.status == 200
        for headers in ({SECRET_HEADER: "wrong-secret"}, {}):
            forged = intruder.update("how many employees does Huawei have")
            async with http.post(endpoint, json=forged, headers=headers) as response:
                assert response.status == 403
        real = attendee.update("how many employees does Huawei have")
        async with http.post(endpoint, json=real, headers={SECRET_HEADER: WEBHOOK_SECRET}) as ok:
            assert ok.status == 200
        # Updates are processed in order: once the real one is answered, a forged one would be.
        await fake_api.wait_for(
            lambda: fake_api.api.calls_to("sendMessage", PERSON_ID), "the answer to the update"
        )

    assert "207,000" in fake_api.api.calls_to("sendMessage", PERSON_ID)[0].text
    assert fake_api.api.calls_to("sendMessage", INTRUDER_ID) == []
    assert await bot.terminate() == 0
    assert user_ids(webhook_env["DATABASE_URL"]) == {PERSON_ID}, (
        "a refused request changes nothing"
    )
    log = bot.output()
    assert WEBHOOK_SECRET not in log and E2E_TOKEN not in log
    assert "wrong secret token" in log


@pytest.mark.parametrize(
    ("missing", "named"), [("WEBHOOK_URL", "WEBHOOK_URL"), ("WEBHOOK_SECRET", "WEBHOOK_SECRET")]
)
async def test_webhook_mode_refuses_to_start_without_its_settings(
    webhook_env: dict[str, str], tmp_path: Path, missing: str, named: str
) -> None:
    del webhook_env[missing]
    bot = BotProcess(webhook_env, tmp_path, "webhook")
    await bot.start()

    assert await bot.run_to_end() == 2
    (line,) = bot.output().strip().splitlines()
    assert line.startswith(named)
