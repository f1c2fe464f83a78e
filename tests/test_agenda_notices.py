"""Change notices: the diff of two programmes, the admin's summary and confirmation, one
notice per person in their language through the queue, never twice."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from bot.schedule import compare
from devtools.local_api import LocalBotApi, LocalChat
from tests.agenda_support import (
    WallClock,
    agenda_app,
    agenda_settings,
    at,
    dated_content,
    move_session,
    settled,
)
from tests.conftest import ADMIN_ID, CONTENT_DIR


def snap(start: str, end: str, room: str | None = None, title: str = "T") -> dict[str, object]:
    return {
        "title": {"en": title},
        "start": start,
        "end": end,
        "date": "2031-06-18",
        "room": {"en": room} if room else None,
    }


def test_the_diff_names_time_room_title_cancelled_and_new() -> None:
    before = {
        "a": snap("09:00", "10:00"),
        "b": snap("10:00", "11:00", "Room 1"),
        "c": snap("11:00", "12:00", title="Old"),
        "d": snap("12:00", "13:00"),
        "e": snap("13:00", "14:00"),
    }
    after = {
        "a": snap("09:30", "10:30"),
        "b": snap("10:00", "11:00", "Room 2"),
        "c": snap("11:00", "12:00", title="New"),
        "e": snap("13:00", "14:00"),
        "f": snap("15:00", "16:00"),
    }
    found = {c.session_id: c.what for c in compare(before, after)}
    assert found == {
        "a": ("time",),
        "b": ("room",),
        "c": ("title",),
        "d": ("cancelled",),
        "f": ("new",),
    }
    assert compare(after, after) == []


def notices_to(api: LocalBotApi, chat_id: int) -> list[str]:
    return [c.text for c in api.calls_to("sendMessage", chat_id) if c.text.startswith("📣 ")]


async def test_the_admin_confirms_and_each_person_is_told_once_in_their_language(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = dated_content(tmp_path)
    clock = WallClock(at(7, 0))
    async with agenda_app(agenda_settings(database_url, content), api, clock) as app:
        english = LocalChat(app, api, user_id=10)
        catalan = LocalChat(app, api, user_id=11, language_code="ca")
        other = LocalChat(app, api, user_id=12)
        for person, session in ((english, "panel-fibre"), (catalan, "panel-fibre")):
            await person.send("/start")
            await person.press_data(f"sv:{session}")
        await catalan.press_data("sv:side-event-otn")
        await other.send("/start")
        await other.press_data("sv:closing")  # unchanged: never told

        move_session(content, ("09:30", "10:30"), ("10:00", "11:00"))
        move_session(content, ("14:00", "15:00"), ("14:15", "15:00"))
        admin = LocalChat(app, api, user_id=ADMIN_ID)
        calls = await admin.send("/reload")
        summary = calls[-1].text
        assert "Sessions changed: 2 · People who saved them: 2" in summary
        assert "time 09:30–10:30 (indicative) → 10:00–11:00 (indicative)" in summary
        # The preview is one real notice: the longest, the Catalan person's (both sessions).
        assert "someone who saved 2 of the changed sessions" in summary

        # Anyone else's press (a forged button) does nothing.
        send = next(b["callback_data"] for b in calls[-1].buttons() if "Send" in b["text"])
        await english.press_data(send)
        queued = await admin.press_data(send)
        assert any("Change notices queued: 2" in c.text for c in queued)
        again = await admin.press_data(send)
        assert any("Already sent or dropped" in c.text for c in again)
        await settled(app)

        (told_en,) = notices_to(api, 10)
        assert "Fibre along the valley" in told_en and "10:00–11:00" in told_en
        (told_ca,) = notices_to(api, 11)
        assert "Fibra al llarg de la vall" in told_ca and "horari" in told_ca
        assert "Sensors compartits" in told_ca or "14:15" in told_ca  # both, in one notice
        assert notices_to(api, 12) == []

        # The same programme again: no change, nothing to confirm, nobody told again.
        calls = await admin.send("/reload")
        assert "Content reloaded" in calls[-1].text
        clock.now += dt.timedelta(minutes=1)
        await settled(app)
        assert len(notices_to(api, 10)) == 1 and len(notices_to(api, 11)) == 1


async def test_dont_send_drops_the_notices(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = dated_content(tmp_path)
    clock = WallClock(at(7, 0))
    async with agenda_app(agenda_settings(database_url, content), api, clock) as app:
        person = LocalChat(app, api, user_id=20)
        await person.send("/start")
        await person.press_data("sv:closing")
        move_session(content, ("17:45", "18:00"), ("17:50", "18:05"))
        admin = LocalChat(app, api, user_id=ADMIN_ID)
        calls = await admin.send("/reload")
        drop = next(b["callback_data"] for b in calls[-1].buttons() if "Don't" in b["text"])
        calls = await admin.press_data(drop)
        assert any("Not sent" in c.text for c in calls)
        await settled(app)
        assert notices_to(api, 20) == []


def shipped_copy(tmp_path: Path) -> Path:
    """The shipped content as it is today: no date, no venue."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def announce(content: Path, date: str, venue: str) -> None:
    event = content / "event.yaml"
    text = event.read_text("utf-8")
    assert "date: null" in text and "venue: null" in text
    text = text.replace("date: null", f"date: {date}").replace("venue: null", f'venue: "{venue}"')
    event.write_text(text, encoding="utf-8")


async def test_a_date_and_venue_announced_are_told_once_not_as_sessions_changed(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = shipped_copy(tmp_path)
    clock = WallClock(at(7, 0))
    async with agenda_app(agenda_settings(database_url, content), api, clock) as app:
        english = LocalChat(app, api, user_id=30)
        spanish = LocalChat(app, api, user_id=31, language_code="es")
        for person, session in ((english, "panel-fibre"), (spanish, "closing")):
            await person.send("/start")
            await person.press_data(f"sv:{session}")
        admin = LocalChat(app, api, user_id=ADMIN_ID)
        await admin.send("/reload")  # the programme as first seen

        announce(content, "2031-06-18", "Test Hall")
        calls = await admin.send("/reload")
        summary = calls[-1].text
        assert "The date is now announced: 18/06/2031" in summary
        assert "The venue is now announced: Test Hall" in summary
        assert "everyone who saved a session: 2" in summary
        # No session "changed" with no visible difference (10:30–11:30 → 10:30–11:30).
        assert "Sessions changed" not in summary and "→ 09:30" not in summary
        send = next(b["callback_data"] for b in calls[-1].buttons() if "Send" in b["text"])
        queued = await admin.press_data(send)
        assert any("Change notices queued: 2" in c.text for c in queued)
        await settled(app)

        (told_en,) = notices_to(api, 30)
        assert "The date is now announced: 18/06/2031" in told_en and "Test Hall" in told_en
        assert "Fibre along the valley" not in told_en  # the session itself did not change
        (told_es,) = notices_to(api, 31)
        assert "Ya se ha anunciado la fecha: 18/06/2031" in told_es


async def test_the_preview_is_what_one_person_gets(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = dated_content(tmp_path)
    clock = WallClock(at(7, 0))
    async with agenda_app(agenda_settings(database_url, content), api, clock) as app:
        first = LocalChat(app, api, user_id=40)
        second = LocalChat(app, api, user_id=41)
        for person, session in ((first, "panel-fibre"), (second, "closing")):
            await person.send("/start")
            await person.press_data(f"sv:{session}")
        move_session(content, ("09:30", "10:30"), ("10:00", "11:00"))
        move_session(content, ("17:45", "18:00"), ("17:50", "18:05"))
        admin = LocalChat(app, api, user_id=ADMIN_ID)
        summary = (await admin.send("/reload"))[-1].text
        assert "Sessions changed: 2 · People who saved them: 2" in summary
        preview = summary.split("someone who saved 1 of the changed sessions:")[1]
        # One person's notice names one session, not both.
        assert ("Fibre along the valley" in preview) != ("Closing words" in preview)
