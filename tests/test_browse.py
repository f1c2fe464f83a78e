"""Menus and navigation: what a person sees when they tap through the bot."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from telegram.ext import Application

from devtools.local_api import LocalBotApi, LocalChat, LocalRequest, buttons_of, sent_texts
from handlers.app import build_application
from handlers.runtime import running
from tests.conftest import CONTENT_DIR, make_settings


async def test_start_shows_greeting_and_main_menu(chat: LocalChat) -> None:
    calls = await chat.send("/start")
    (message,) = [c for c in calls if c.method == "sendMessage"]
    assert "Riverside Sessions #0" in message.text
    assert "to be announced" in message.text  # no invented date
    labels = [b["text"] for b in message.buttons()]
    for label in ("Programme", "Side events", "Partners", "Ask a question", "Language"):
        assert any(label in text for text in labels), label


async def test_programme_edits_in_place_in_time_order(chat: LocalChat, app: Application) -> None:
    await chat.send("/start")
    menu = chat.last_bot_message()
    assert menu is not None
    calls = await chat.press("Programme")
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1 and edits[0].params["message_id"] == menu["message_id"]
    content = app.bot_data.services.content.content
    first, second = content.sessions[0], content.sessions[1]
    text = edits[0].text
    assert text.index(first.title.get("en")) < text.index(second.title.get("en"))
    assert "Draft programme" in text
    assert any("Main menu" in b["text"] for b in edits[0].buttons())


async def test_session_card_and_host_card(chat: LocalChat, app: Application) -> None:
    content = app.bot_data.services.content.content
    session = next(s for s in content.sessions if s.host)
    host = content.organization(session.host)
    await chat.send("/programme")
    calls = await chat.press(session.title.get("en")[:20])
    card = calls[-1].text
    assert f"{session.start:%H:%M}–{session.end:%H:%M}" in card
    assert host.name in card and "to be announced" in card
    calls = await chat.press(f"About {host.name}")
    assert host.name in calls[-1].text
    assert any(b.get("url") == host.more_info_url for b in calls[-1].buttons())
    calls = await chat.press("Back")  # back to the list of that organization's kind
    assert "Tap one to read more" in calls[-1].text


async def test_partners_and_organizers_lists(chat: LocalChat) -> None:
    await chat.send("/start")
    partners = await chat.press("Partners")
    labels = [b["text"] for b in partners[-1].buttons()]
    assert "Lumen Telecom" in labels and "North School" not in labels
    await chat.press("Main menu")
    organizers = await chat.press("Side-event organizers")
    labels = [b["text"] for b in organizers[-1].buttons()]
    assert "North School" in labels and "Lumen Telecom" not in labels
    card = await chat.press("Open Towns Network")
    assert "300 small towns" in card[-1].text


async def test_side_events_list_only_side_events(chat: LocalChat, app: Application) -> None:
    content = app.bot_data.services.content.content
    await chat.send("/start")
    calls = await chat.press("Side events")
    session_buttons = [b for b in calls[-1].buttons() if b["callback_data"].startswith("ses:")]
    side_ids = {s.id for s in content.sessions if s.kind.value == "side_event"}
    assert {b["callback_data"][4:] for b in session_buttons} == side_ids


async def test_forged_and_stale_buttons_fall_back_to_menu(chat: LocalChat) -> None:
    await chat.send("/start")
    for forged in (
        "ses:does-not-exist",
        "org:nobody",
        "prog:999999",
        "xyz",
        "ans:faq:gone",
        "orgs:admin:0",
        "lang:xx",
    ):
        calls = await chat.press_data(forged)
        texts = " ".join(sent_texts(calls))
        assert calls, forged
        assert "Traceback" not in texts
    calls = await chat.press_data("ses:does-not-exist")
    assert "no longer valid" in " ".join(sent_texts(calls))


async def test_long_programme_paginates_within_limits(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    programme = yaml.safe_load((content / "programme.yaml").read_text(encoding="utf-8"))
    template = programme["sessions"][1]
    for n in range(40):
        programme["sessions"].append(
            {
                **template,
                "id": f"extra-{n}",
                "title": "A very long title " * 8,
                "start": f"{8 + n // 6:02d}:{(n % 6) * 10:02d}",
                "end": f"{8 + n // 6:02d}:{(n % 6) * 10 + 5:02d}",
            }
        )
    (content / "programme.yaml").write_text(yaml.safe_dump(programme), encoding="utf-8")
    api = LocalBotApi()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}", CONTENT_DIR=str(content)
    )
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = LocalChat(app, api)
        await chat.send("/programme")
        seen: set[str] = set()
        for _ in range(10):
            message = chat.last_bot_message()
            assert message is not None and len(message["text"]) <= 4096
            buttons = buttons_of(message)
            assert all(len(b.get("callback_data", "").encode()) <= 64 for b in buttons)
            assert all(len(b["text"]) <= 60 for b in buttons)
            seen |= {b["callback_data"] for b in buttons if b["callback_data"].startswith("ses:")}
            if not any("Next" in b["text"] for b in buttons):
                break
            await chat.press("Next")
        assert len(seen) == len(programme["sessions"])


async def test_unknown_command_says_so_and_shows_the_menu(chat: LocalChat) -> None:
    calls = await chat.send("/frobnicate now")
    (reply,) = [c for c in calls if c.method == "sendMessage"]
    assert "I don't know the command /frobnicate" in reply.text
    assert any("Programme" in b["text"] for b in reply.buttons())
