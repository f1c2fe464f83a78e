"""Every card is the same card: a session reached by a list, a typed question, a "did you
mean" pick or a deep link has the same buttons (☆ Save, Share, .ics, Back / Main menu); the
whole programme's calendar file is offered in the chat; a calendar's LOCATION is the room and
the venue as far as they are known."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from icalendar import Calendar
from telegram.ext import Application

from bot.calendar import calendar_file
from bot.content import load_content
from devtools.local_api import Call, LocalBotApi, LocalChat, LocalRequest
from handlers.app import build_application
from handlers.runtime import running
from tests.conftest import CONTENT_DIR, make_settings

ROOM = "    room: null"


def dated(tmp_path: Path, *, venue: str | None = "Test Hall", room: bool = True) -> Path:
    """The shipped content with a date, a venue and a room for the connectivity panel."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    event = target / "event.yaml"
    text = event.read_text("utf-8").replace("date: null", "date: 2031-06-18")
    if venue:
        text = text.replace("venue: null", f'venue: "{venue}"')
    event.write_text(text, encoding="utf-8")
    if room:
        programme = target / "programme.yaml"
        text = programme.read_text("utf-8")
        panel = text.index("id: panel-fibre")
        at = text.index(ROOM, panel)
        text = text[:at] + '    room: "Sala Gran"' + text[at + len(ROOM) :]
        programme.write_text(text, encoding="utf-8")
    return target


@asynccontextmanager
async def bot_on(database_url: str, content: Path, api: LocalBotApi) -> AsyncIterator[Application]:
    settings = make_settings(database_url, CONTENT_DIR=str(content))
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        yield app


def labels(calls: list[Call]) -> list[str]:
    shown = [c for c in calls if c.method in {"sendMessage", "editMessageText"}]
    return [b["text"] for b in shown[-1].buttons()]


async def test_every_path_to_a_session_shows_the_same_card(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, dated(tmp_path), api) as app:
        person = LocalChat(app, api, user_id=601)
        await person.send("/start")
        from_list = labels(await person.press_data("ses:river-lunch"))
        typed = labels(await person.send("is there lunch?"))
        picked = labels(await person.press_data("ans:session:river-lunch"))
        linked = labels(await person.send("/start session-river-lunch"))
        assert {"☆ Save", "📤 Share", "📅 Calendar (.ics)", "🏠 Main menu"} <= set(from_list)
        assert typed == from_list and picked == from_list and linked == from_list

        await person.press_data("sv:river-lunch")  # ☆ Save, then asked again
        assert "★ Saved" in labels(await person.send("is there lunch?"))
        assert "★ Saved" in labels(await person.press_data("ans:session:river-lunch"))


async def test_the_whole_programme_calendar_is_in_the_chat(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, dated(tmp_path), api) as app:
        person = LocalChat(app, api, user_id=602)
        await person.send("/start")
        assert "📅 Whole programme (.ics)" in labels(await person.press_data("prog:0"))
        await person.press_data("sv:closing")
        assert "📅 Whole programme (.ics)" in labels(await person.send("/agenda"))
        await person.press("Whole programme")
        (document,) = api.calls_to("sendDocument")
        assert list(document.file_names.values()) == ["programme.ics"]
        calendar = Calendar.from_ical(next(iter(document.files.values())))
        assert len(calendar.walk("VEVENT")) == 11


async def test_no_programme_calendar_before_the_date(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, CONTENT_DIR, api) as app:
        person = LocalChat(app, api, user_id=603)
        await person.send("/start")
        assert not any(".ics" in label for label in labels(await person.press_data("prog:0")))
        assert not any(".ics" in label for label in labels(await person.send("/agenda")))


def locations(content_dir: Path) -> dict[str, str | None]:
    content = load_content(content_dir)
    stamp = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    calendar = Calendar.from_ical(calendar_file(content, content.sessions, "en", stamp=stamp))
    found = {}
    for event in calendar.walk("VEVENT"):
        location = event.get("LOCATION")
        found[str(event["UID"]).split("@")[0]] = str(location) if location else None
    return found


def test_a_calendar_location_is_the_room_and_the_venue(tmp_path: Path) -> None:
    found = locations(dated(tmp_path / "a"))
    assert found["session-panel-fibre"] == "Sala Gran, Test Hall"
    assert found["session-opening"] == "Test Hall"
    found = locations(dated(tmp_path / "b", venue=None))
    assert found["session-panel-fibre"] == "Sala Gran"
    assert found["session-opening"] is None


HELP_COMMANDS = ("/agenda", "/now", "/settings")


async def test_help_names_the_agenda_now_and_settings(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, CONTENT_DIR, api) as app:
        for user_id, lang in ((611, "en"), (612, "es"), (613, "ca")):
            calls = await LocalChat(app, api, user_id=user_id, language_code=lang).send("/help")
            assert all(command in calls[-1].text for command in HELP_COMMANDS), lang


def data_of(calls: list[Call]) -> list[str]:
    shown = [c for c in calls if c.method in {"sendMessage", "editMessageText"}]
    return [str(b.get("callback_data")) for b in shown[-1].buttons()]


async def test_a_reply_with_a_card_says_each_fact_once_and_links_the_card_once(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, CONTENT_DIR, api) as app:
        english = LocalChat(app, api, user_id=621)
        calls = await english.send("what is Lumen Telecom and what are its values")
        text = calls[-1].text
        assert text.count("patience, repair") == 1
        assert "org:lumen" not in data_of(calls)  # its card is this reply: no "About Lumen"
        assert data_of(calls).count("orgm:lumen") == 1

        catalan = LocalChat(app, api, user_id=622, language_code="ca")
        text = (await catalan.send("què és el Consell del Riu i quants habitants té?"))[-1].text
        assert text.count("86.000") == 1
        assert "Consell del Riu" in text
        assert "River Council" not in text


async def test_a_reminder_chosen_from_the_agenda_goes_back_to_the_agenda(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, dated(tmp_path), api) as app:
        person = LocalChat(app, api, user_id=631)
        await person.send("/start")
        await person.press_data("sv:closing")
        await person.send("/agenda")
        page = await person.press("Reminders")
        assert "agenda" in data_of(page) and "settings" not in data_of(page)  # its Back
        landed = await person.press("30 minutes before")
        assert "My agenda" in landed[-1].text and "Settings" not in landed[-1].text
        assert "30 minutes" in landed[-1].text

        await person.send("/settings")
        await person.press("Reminders")
        landed = await person.press("15 minutes before")
        assert "Settings" in landed[-1].text
