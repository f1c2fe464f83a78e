"""The inbox in a real process: updates already fetched survive a SIGKILL, and an update
delivered twice is processed once (long polling; the webhook side is tests/test_webhook.py)."""

from __future__ import annotations

import signal
from collections import Counter

from tests.e2e.conftest import Launch, person
from tests.e2e.fake_bot_api import FakeBotApiServer

QUESTION = "how many employees does Huawei have"


async def test_a_sigkill_during_a_burst_loses_no_update(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    people = [person(fake_api, user_id) for user_id in range(300, 312)]
    # The bot is caught answering: its replies hang, while getUpdates has handed it the burst.
    fake_api.hold("sendMessage")
    updates = [chat.update(QUESTION) for chat in people for _ in range(10)]
    for update in updates:
        fake_api.push(update)
    last = updates[-1]["update_id"]
    # The next getUpdates confirms the whole burst to "Telegram": it is the bot's alone now.
    await fake_api.wait_for(lambda: fake_api.confirmed >= last, "the burst to be confirmed")
    assert bot.process is not None
    bot.process.send_signal(signal.SIGKILL)
    await bot.process.wait()
    fake_api.release()

    restarted = await launch()
    await fake_api.wait_for(
        lambda: all(restarted.has_handled(u["update_id"]) for u in updates),
        "every update of the burst to be handled after the restart",
        limit=60,
    )
    answers = Counter(
        c.chat_id for c in fake_api.api.calls_to("sendMessage") if "207,000" in c.text
    )
    assert all(answers[chat.user_id] >= 10 for chat in people), answers


async def test_an_update_delivered_again_is_not_processed_again(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    chat = person(fake_api, 320)
    await chat.send("/propose")
    first = chat.update("Dupe Name")
    fake_api.push(first)
    await fake_api.wait_for(lambda: bot.has_handled(first["update_id"]), "the answer")
    # Telegram sends it once more (as after a late webhook answer); then the next update.
    fake_api.confirmed = first["update_id"] - 1
    second = chat.update("Ajuntament de Vic")
    fake_api.push(second)
    await fake_api.wait_for(lambda: bot.has_handled(second["update_id"]), "the next answer")
    log = bot.output()
    assert log.count(f"bot.updates: update {first['update_id']} ") == 1
    assert await bot.terminate() == 0


async def test_an_update_the_library_cannot_read_is_skipped_and_polling_goes_on(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    chat = person(fake_api, 330)
    # A poll without the fields this library requires (an older self-hosted Bot API server).
    broken = {"update_id": fake_api.api.next_update_id(), "poll": {"id": "1"}}
    fake_api.push(broken)
    answer = await chat.send(QUESTION)
    assert any("207,000" in call.text for call in answer)
    log = bot.output()
    assert log.count(f"Skipped update {broken['update_id']}: unreadable") == 1
    assert "Traceback" not in log
    assert await bot.terminate() == 0
