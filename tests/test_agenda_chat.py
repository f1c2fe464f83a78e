"""My agenda through the real Application: ☆ Save, /agenda with overlaps, /now, .ics files
parsed back with icalendar, deep links, inline mode, /privacy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from icalendar import Calendar
from telegram.ext import Application

from devtools.local_api import LocalBotApi, LocalChat, buttons_of
from tests.agenda_support import (
    WallClock,
    agenda_app,
    agenda_settings,
    at,
    dated_content,
    move_session,
)
from tests.conftest import ADMIN_ID, chat_for


async def test_save_toggles_on_the_card_and_the_agenda_lists_in_time_order(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    chat = chat_for(app, api)
    await chat.send("/programme")
    card = await chat.press_data("ses:side-event-school")
    labels = [b["text"] for b in card[-1].buttons()]
    assert "☆ Save" in labels and "📤 Share" in labels
    assert not any(".ics" in label for label in labels)  # no date: no calendar file
    share = next(b for b in card[-1].buttons() if b["text"] == "📤 Share")
    assert "start%3Dsession-side-event-school" in share["url"]
    pressed = await chat.press("Save")
    assert any(c.params.get("text") == "★ Saved in My agenda" for c in pressed)
    assert "★ Saved" in [b["text"] for b in buttons_of(chat.last_bot_message(with_buttons=True))]
    await chat.press_data("ses:opening")
    await chat.press("Save")
    await chat.press_data("sv:no-such-session")  # forged
    calls = await chat.send("/agenda")
    text = calls[-1].text
    assert text.index("09:00–09:30") < text.index("16:00–17:00")  # time order
    assert "overlaps" not in text
    assert "date has not been announced yet" in text
    buttons = [b["callback_data"] for b in calls[-1].buttons()]
    assert buttons[:2] == ["ses:opening", "ses:side-event-school"]  # one tap to each card
    # Someone else's agenda is their own.
    other = chat_for(app, api, 2)
    assert "Nothing saved yet" in (await other.send("/agenda"))[-1].text
    # Unsave.
    await chat.press_data("ses:opening")
    await chat.press("Saved")
    calls = await chat.send("/agenda")
    assert next(b["callback_data"] for b in calls[-1].buttons()) == "ses:side-event-school"


async def test_overlapping_saved_sessions_are_marked(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    settings = agenda_settings(database_url, dated_content(tmp_path, overlap=True))
    async with agenda_app(settings, api, WallClock(at(7))) as app:
        chat = LocalChat(app, api)
        for session in ("side-event-otn", "side-event-civic", "closing"):
            await chat.press_data(f"sv:{session}")
        calls = await chat.send("/agenda")
        assert calls[-1].text.count("overlaps another saved session") == 2
        marked = [b["text"] for b in calls[-1].buttons() if b["text"].startswith("⚠️")]
        assert len(marked) == 2 and not any("Closing" in label for label in marked)


async def test_now_and_next_honest_without_a_date_and_in_the_events_zone_with_one(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
    database_url: str,
    tmp_path: Path,
) -> None:
    chat = chat_for(app, api)
    text = (await chat.send("/now"))[-1].text
    assert "date has not been announced yet" in text and "09:00–09:30 · Welcome" in text
    text = (await chat_for(app, api, 3, language_code="ca").send("què hi ha ara?"))[-1].text
    assert "encara no s'ha anunciat" in text

    second = LocalBotApi()
    clock = WallClock(at(7, 15))
    settings = agenda_settings(database_url, dated_content(tmp_path))
    async with agenda_app(settings, second, clock) as dated:
        person = LocalChat(dated, second)
        text = (await person.send("/now"))[-1].text
        assert "starts on 18/06/2031 at 09:00 (Europe/Madrid)" in text
        clock.now = at(10, 45)
        text = (await person.send("what's on now?"))[-1].text
        now, upcoming = text.split("Next")
        assert "10:30–11:30 (indicative) · Libraries as digital help desks" in now
        assert "11:30–12:00 (indicative) · Coffee" in upcoming
        assert "10:45 (Europe/Madrid)" in text
        clock.now = at(19, 0)
        assert "The event is over" in (await person.send("/now"))[-1].text


def calendar_of(call: object) -> Calendar:
    files = call.files  # type: ignore[attr-defined]
    data = files.get("document") or next(iter(files.values()))
    return Calendar.from_ical(data)


async def test_calendar_files_have_stable_uids_growing_sequences_and_the_zone(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = dated_content(tmp_path)
    settings = agenda_settings(database_url, content)
    async with agenda_app(settings, api, WallClock(at(7))) as app:
        chat = LocalChat(app, api)
        card = await chat.press_data("ses:panel-fibre")
        assert any(b["text"] == "📅 Calendar (.ics)" for b in card[-1].buttons())
        calls = await chat.press_data("ics:panel-fibre")
        (document,) = [c for c in calls if c.method == "sendDocument"]
        calendar = calendar_of(document)
        (event,) = calendar.walk("VEVENT")
        assert str(event["UID"]) == "session-panel-fibre@focus-bot.agenda"
        assert int(event["SEQUENCE"]) == 0
        assert event["DTSTART"].params["TZID"] == "Europe/Madrid"
        assert event.decoded("DTSTART").replace(tzinfo=None) == dt.datetime(2031, 6, 18, 9, 30)
        assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Madrid"]
        assert str(event["URL"]).endswith("?start=session-panel-fibre")
        assert "indicative" in str(event["DESCRIPTION"])

        move_session(content, ("09:30", "10:30"), ("09:45", "10:45"))
        await LocalChat(app, api, user_id=ADMIN_ID).send("/reload")
        calls = await chat.press_data("ics:@programme")
        (document,) = [c for c in calls if c.method == "sendDocument"]
        events = {str(e["UID"]): e for e in calendar_of(document).walk("VEVENT")}
        assert len(events) == 11
        moved = events["session-panel-fibre@focus-bot.agenda"]
        assert int(moved["SEQUENCE"]) == 1  # the same UID, a newer version
        assert int(events["session-opening@focus-bot.agenda"]["SEQUENCE"]) == 0
        await chat.press_data("sv:closing")
        calls = await chat.press_data("ics:@agenda")
        (document,) = [c for c in calls if c.method == "sendDocument"]
        assert len(calendar_of(document).walk("VEVENT")) == 1


async def test_no_calendar_file_while_the_date_is_unknown(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    calls = await chat_for(app, api).press_data("ics:opening")
    assert not [c for c in calls if c.method == "sendDocument"]
    assert any("calendar files will be here" in c.text for c in calls)


async def test_deep_links_open_cards(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    chat = chat_for(app, api, language_code="es")
    calls = await chat.send("/start session-panel-libraries")
    assert "Bibliotecas como puntos de ayuda digital" in calls[-1].text
    assert any(b["text"] == "☆ Guardar" for b in calls[-1].buttons())
    calls = await chat.send("/start org-otn")
    assert "Open Towns Network" in calls[-1].text
    calls = await chat.send("/start session-nope")
    assert "ya no está en el programa" in calls[-1].text


async def test_inline_mode_lists_sessions_and_partners_in_the_users_language(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    chat = chat_for(app, api, language_code="es")
    query = {"id": "77", "from": chat.user, "query": "digital", "offset": ""}
    calls = await chat.feed({"inline_query": query})
    (answer,) = [c for c in calls if c.method == "answerInlineQuery"]
    results = answer.params["results"]
    results = json.loads(results) if isinstance(results, str) else results
    titles = [r["title"] for r in results]
    assert "Bibliotecas como puntos de ayuda digital" in titles
    assert all(r["id"].startswith(("s:", "o:")) for r in results)
    first = results[0]
    (button,) = [b for row in first["reply_markup"]["inline_keyboard"] for b in row]
    assert button["text"] == "Abrir en el bot"
    assert button["url"].startswith("https://t.me/focus_local_bot?start=")
    assert "parse_mode" in first["input_message_content"]


async def test_privacy_tells_about_my_agenda_and_forget_erases_it(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    chat = chat_for(app, api)
    await chat.press_data("sv:opening")
    texts = [c.text for c in await chat.send("/privacy")]
    assert any("sessions you save, your reminder setting" in text for text in texts)
    await chat.send("/forget")
    await chat.press_data("forget:yes")
    services = app.bot_data.services
    assert await services.agenda.saved(1) == set()


async def test_the_webhook_server_publishes_the_programme_calendar(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from handlers.calendar_http import add_calendar_routes

    settings = agenda_settings(database_url, dated_content(tmp_path))
    async with agenda_app(settings, api, WallClock(at(7))) as app:
        server = web.Application()
        add_calendar_routes(server, app)
        async with TestClient(TestServer(server)) as client:
            response = await client.get("/calendar.ics")
            assert response.status == 200
            assert response.content_type == "text/calendar"
            calendar = Calendar.from_ical(await response.read())
        assert len(calendar.walk("VEVENT")) == 11
        assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Madrid"
