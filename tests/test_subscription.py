"""/stop, /subscribe and the "🔔 Updates" menu entry: who gets the organizers' broadcasts."""

from __future__ import annotations

from telegram.ext import Application

from bot.broadcasts import ALL
from devtools.local_api import LocalBotApi, LocalChat, sent_texts
from handlers.context import services_of
from tests.conftest import chat_for


async def test_everyone_who_starts_is_a_subscriber(app: Application, api: LocalBotApi) -> None:
    await chat_for(app, api, 11, language_code="es").send("/start")
    user = await services_of(app).users.get(11)
    assert user is not None and user.subscribed and user.language == "es"
    assert await services_of(app).broadcasts.count(ALL) == 1


async def test_stop_and_subscribe_commands(app: Application, chat: LocalChat) -> None:
    await chat.send("/start")
    calls = await chat.send("/stop")
    assert "you won't get updates" in sent_texts(calls)[0]
    assert await services_of(app).broadcasts.count(ALL) == 0
    calls = await chat.send("/subscribe")
    assert "you'll get the organizers' updates" in sent_texts(calls)[0]
    assert await services_of(app).broadcasts.count(ALL) == 1


async def test_updates_menu_entry_toggles(app: Application, chat: LocalChat) -> None:
    await chat.send("/start")
    calls = await chat.press("Updates")
    assert "You receive the organizers' updates" in calls[-1].text
    calls = await chat.press("Stop updates")
    assert "don't receive" in calls[-1].text
    assert not await services_of(app).users.is_subscribed(chat.user_id)
    calls = await chat.press("Get updates")
    assert await services_of(app).users.is_subscribed(chat.user_id)


async def test_catalan_texts(app: Application, api: LocalBotApi) -> None:
    catalan = chat_for(app, api, 12, language_code="ca")
    await catalan.send("/start")
    calls = await catalan.send("/stop")
    assert "ja no rebràs avisos" in sent_texts(calls)[0]


async def test_writing_again_after_blocking_makes_them_reachable(
    app: Application, chat: LocalChat
) -> None:
    await chat.send("/start")
    users = services_of(app).users
    await users.mark_blocked(chat.user_id)
    assert await services_of(app).broadcasts.count(ALL) == 0
    await chat.send("/start")
    assert await services_of(app).broadcasts.count(ALL) == 1
