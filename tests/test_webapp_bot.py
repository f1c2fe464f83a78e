"""The Mini App from the chat: the menu button, the "Open the programme" button, the settings,
and the server polling mode starts on WEB_APP_PORT."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import ValidationError
from telegram.ext import Application

from bot.settings import Settings
from devtools.local_api import LocalBotApi, LocalRequest, buttons_of
from handlers.app import build_application
from handlers.runtime import Site, running, started
from handlers.webapp_http import web_app
from tests.conftest import chat_for, make_settings
from tests.e2e.bot_process import free_port

WEB_APP_URL = "https://bot.example.org/app/"


@pytest.fixture
async def web_app_bot(database_url: str, api: LocalBotApi) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    settings = make_settings(database_url, WEB_APP_URL=WEB_APP_URL)
    application = build_application(settings, request=LocalRequest(api))
    async with running(application):
        yield application


async def test_the_menu_button_opens_the_programme(
    web_app_bot: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    calls = api.calls_to("setChatMenuButton")
    assert len(calls) == 1
    button = calls[0].params["menu_button"]
    assert button["type"] == "web_app"
    assert button["web_app"]["url"] == WEB_APP_URL


async def test_the_main_menu_has_the_open_the_programme_button_in_private(
    web_app_bot: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    for lang, label in [("en", "🗓 Open the programme"), ("es", "🗓 Abrir el programa")]:
        chat = chat_for(web_app_bot, api, user_id=61 if lang == "en" else 62, language_code=lang)
        await chat.send("/start")
        message = chat.last_bot_message(with_buttons=True)
        assert message is not None
        first = buttons_of(message)[0]
        assert first["text"] == label
        assert first["web_app"] == {"url": WEB_APP_URL}


async def test_no_web_app_button_in_groups(
    web_app_bot: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    group = chat_for(web_app_bot, api, user_id=63, chat_id=-100777)
    await group.send("/menu@" + (web_app_bot.bot.username or ""))
    message = group.last_bot_message(with_buttons=True)
    assert message is not None
    assert not any("web_app" in button for button in buttons_of(message))


async def test_without_web_app_url_nothing_changes(app: Application, api: LocalBotApi) -> None:  # type: ignore[type-arg]
    assert api.calls_to("setChatMenuButton") == []
    chat = chat_for(app, api, user_id=64)
    await chat.send("/start")
    message = chat.last_bot_message(with_buttons=True)
    assert message is not None
    assert not any("web_app" in button for button in buttons_of(message))


@pytest.mark.parametrize("url", ["http://bot.example.org/app/", "bot.example.org"])
def test_web_app_url_must_be_https(url: str) -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(_env_file=None, WEB_APP_URL=url)  # type: ignore[call-arg]


def test_empty_web_app_settings_are_unset() -> None:
    settings = Settings(_env_file=None, WEB_APP_URL="", WEB_APP_PORT="")  # type: ignore[call-arg]
    assert settings.web_app_url is None and settings.web_app_port is None


async def test_polling_mode_serves_the_page_on_web_app_port(
    database_url: str, api: LocalBotApi
) -> None:
    port = free_port()
    settings = make_settings(database_url, WEB_APP_PORT=port)
    application = build_application(settings, request=LocalRequest(api))
    site = Site(lambda runtime: web_app(runtime.application), "127.0.0.1", port)
    async with started(application, site=site), aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/app/api/programme?lang=ca"
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            assert response.status == 200
            assert (await response.json())["lang"] == "ca"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/app/", timeout=aiohttp.ClientTimeout(total=5))
