"""`python main.py` (long polling) over real HTTP: answers, graceful SIGTERM, restarts."""

from __future__ import annotations

import asyncio
import re

from devtools.local_api import sent_texts
from tests.e2e.conftest import E2E_TOKEN, Launch, person
from tests.e2e.fake_bot_api import FakeBotApiServer

HUAWEI_QUESTION = "how many employees does Huawei have"


async def test_start_and_a_question_over_http(launch: Launch, fake_api: FakeBotApiServer) -> None:
    bot = await launch()
    chat = person(fake_api)

    greeting = sent_texts(await chat.send("/start"))
    answer = sent_texts(await chat.send(HUAWEI_QUESTION))

    assert any("Welcome" in text for text in greeting)
    assert any("207,000" in text for text in answer)
    assert fake_api.api.calls_to("setMyCommands"), "the command menu is registered at start-up"
    assert await bot.terminate() == 0
    log = bot.output()
    assert re.search(r"bot\.updates: update \d+ message /start in \d+ ms", log), "its log line"
    assert E2E_TOKEN not in log and E2E_TOKEN.partition(":")[2] not in log


async def test_sigterm_lets_the_update_in_progress_finish(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    chat = person(fake_api)
    await chat.send("/start")
    fake_api.hold("sendMessage")

    chat_task = asyncio.create_task(chat.send(HUAWEI_QUESTION))
    await fake_api.wait_for(lambda: fake_api.held, "the bot to start answering")
    exit_code = asyncio.create_task(bot.terminate())
    await fake_api.wait_for(
        lambda: "Stop signal received" in bot.output(), "the bot to receive SIGTERM"
    )
    fake_api.release()

    assert any("207,000" in text for text in sent_texts(await chat_task))
    assert await exit_code == 0


async def test_restart_continues_where_the_person_left_off(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    chat = person(fake_api)
    await chat.send("/start")
    await chat.press("Language")
    await chat.press("Català")
    assert await bot.terminate() == 0

    await launch()
    answer = sent_texts(await chat.send("quants empleats té Huawei"))

    assert any("207.000" in text for text in answer), "the language chosen before survives"
    greetings = [c for c in fake_api.api.calls_to("sendMessage") if "Welcome" in c.text]
    assert len(greetings) == 1, "updates handled before the restart are not handled again"


async def test_a_second_poller_on_the_same_token_says_so_in_one_line_and_exits(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    fake_api.conflict = True  # Telegram's 409: another process is polling with this token
    bot = await launch(wait=False)
    exit_code = await bot.run_to_end()
    log = bot.output()
    assert exit_code == 3, log
    assert log.count("Another instance of this bot is already polling") == 1, log
    assert "Traceback" not in log
