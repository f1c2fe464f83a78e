"""Languages: catalogs complete, Telegram's language followed, /language remembered."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.i18n import LANGUAGES, catalog, normalize_language, placeholders, plain, t
from bot.settings import Settings
from devtools.local_api import LocalBotApi, LocalRequest, sent_texts
from handlers.app import build_application
from handlers.organize import organizer_chat_warning
from handlers.runtime import running
from tests.conftest import chat_for, make_settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_key_has_all_languages_with_the_same_placeholders() -> None:
    problems = []
    for key, translations in catalog().items():
        missing = [lang for lang in LANGUAGES if not translations.get(lang, "").strip()]
        if missing:
            problems.append(f"{key}: missing {missing}")
            continue
        expected = placeholders(translations["en"])
        for lang in LANGUAGES:
            if placeholders(translations[lang]) != expected:
                problems.append(f"{key}/{lang}: placeholders differ from en")
    assert problems == []


def test_every_key_used_in_code_exists() -> None:
    """A typo in a catalog key would only show up as a crash in front of a user."""
    keys = catalog()
    missing = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py"), ROOT / "main.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in {"t", "plain"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value not in keys
            ):
                missing.append(f"{path.name}: {node.args[0].value}")
    assert missing == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [("es-ES", "es"), ("ca", "ca"), ("fr", "en"), (None, "en"), ("EN-gb", "en")],
)
def test_language_codes(code: str | None, expected: str) -> None:
    assert normalize_language(code) == expected


async def test_telegram_language_is_followed(app: Application, api: LocalBotApi) -> None:
    spanish = chat_for(app, api, user_id=31, language_code="es")
    catalan = chat_for(app, api, user_id=32, language_code="ca-ES")
    german = chat_for(app, api, user_id=33, language_code="de")
    assert "Te damos la bienvenida" in sent_texts(await spanish.send("/start"))[0]
    assert "Et donem la benvinguda" in sent_texts(await catalan.send("/start"))[0]
    assert "Welcome" in sent_texts(await german.send("/start"))[0]


async def test_content_translations_are_shown(app: Application, api: LocalBotApi) -> None:
    spanish = chat_for(app, api, user_id=34, language_code="es")
    calls = await spanish.send("/programme")
    assert "Programa provisional" in calls[-1].text


async def test_chosen_language_survives_a_restart(settings: Settings) -> None:
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = chat_for(app, api, user_id=41, language_code="en")
        await chat.send("/language")
        calls = await chat.press("Català")
        assert "et parlaré en català" in " ".join(sent_texts(calls))
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = chat_for(app, api, user_id=41, language_code="en")
        assert "Et donem la benvinguda" in sent_texts(await chat.send("/start"))[0]


async def test_command_menu_registered_per_language(app: Application, api: LocalBotApi) -> None:
    calls = api.calls_to("setMyCommands")
    assert {c.params.get("language_code") for c in calls} == {None, "es", "ca"}


async def test_command_menu_failure_does_not_stop_the_bot(settings: Settings) -> None:
    from devtools.local_api import ApiError

    api = LocalBotApi()
    api.interceptors.append(
        lambda method, _: ApiError(400, "Bad Request: nope") if method == "setMyCommands" else None
    )
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = chat_for(app, api)
        assert "Welcome" in sent_texts(await chat.send("/start"))[0]


def test_counts_choose_their_plural_form() -> None:
    """A template may say `{count:plural:singular|plural}`: one thing is never "1 things"."""
    for lang in LANGUAGES:
        assert "{count:plural:" in catalog()["proposals.warning.no_organizer_chat"][lang]
    one = make_settings("sqlite+aiosqlite://", ORGANIZER_CHAT_ID="", ORGANIZER_IDS="")
    two = make_settings("sqlite+aiosqlite://", ORGANIZER_CHAT_ID="")
    assert "The only organizer or admin finds them" in (organizer_chat_warning(one) or "")
    assert "The 2 organizers and admins find them" in (organizer_chat_warning(two) or "")
    assert plain("broadcast.resent", "en", number=3, count=1).endswith(
        "sending again to the one recipient it failed to reach."
    )
    assert "al único destinatario" in plain("broadcast.resent", "es", number=3, count=1)
    assert "als 2 destinataris" in plain("broadcast.resent", "ca", number=3, count=2)
    button = plain("broadcast.resend_button", "en", number=3, failed=1)
    assert button.endswith("to the one that failed")
    assert "<b>" in t("stats.broadcasts", "en", count=1, delivered=0)  # other templates unchanged
