"""Reminders: rows with a due time in the broadcast queue, sent once by the one sending worker,
on time, across a hard kill and restart and with two workers; moved and cancelled sessions
move and cancel them; none while the date is unknown. A wall clock the test moves stands in
for time (the rate stays real: these are small batches)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.models import Delivery
from bot.schedule import fan_out_lead
from devtools.local_api import LocalBotApi, LocalChat
from handlers.context import services_of
from tests.agenda_support import (
    WallClock,
    agenda_app,
    agenda_settings,
    at,
    count,
    dated_content,
    move_session,
    settled,
)
from tests.conftest import ADMIN_ID

PANEL = "panel-fibre"  # 09:30-10:30
TITLE = "Fibre along the valley"


def reminders_of(api: LocalBotApi, chat_id: int) -> list[str]:
    """Reminders sent to one chat (plain text from the queue, not the settings' HTML)."""
    return [
        c.text
        for c in api.calls_to("sendMessage", chat_id)
        if c.text.startswith("⏰") and "<b>" not in c.text
    ]


def reminders_to(api: LocalBotApi) -> Counter[int]:
    return Counter(
        c.chat_id
        for c in api.calls_to("sendMessage")
        if c.chat_id is not None and "⏰" in c.text and TITLE in c.text
    )


async def save(chat: LocalChat, session_id: str = PANEL) -> None:
    await chat.send("/start")
    await chat.press_data(f"sv:{session_id}")


async def not_before(app: object) -> set[dt.datetime]:
    async with services_of(app).sessions() as session:  # type: ignore[arg-type]
        rows = await session.scalars(
            select(Delivery.not_before).where(Delivery.status == "pending")
        )
        return set(rows)


async def test_a_reminder_is_sent_once_on_time_and_never_again(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    settings = agenda_settings(database_url, dated_content(tmp_path))
    clock = WallClock(at(8, 0))
    async with agenda_app(settings, api, clock) as app:
        people = [LocalChat(app, api, user_id=uid) for uid in range(100, 110)]
        for person in people:
            await save(person)
        # 10 minutes before 09:30 Madrid, started N/rate (plus a margin) ahead.
        due = at(9, 20)
        assert await not_before(app) == {due - fan_out_lead(10, settings.broadcast_rate)}
        clock.now = due - dt.timedelta(minutes=5)
        services_of(app).broadcasts.on_queued()  # type: ignore[misc]
        await asyncio.sleep(0.3)
        assert not reminders_to(api)  # not yet
        clock.now = due
        await settled(app)
        sent = reminders_to(api)
        assert sorted(sent) == list(range(100, 110)) and max(sent.values()) == 1
        (text,) = reminders_of(api, 100)
        assert "In about 10 minutes" in text and "09:30–10:30 (indicative)" in text
        # Planning again (a restart, another worker, a /reload) queues nothing new.
        assert await services_of(app).agenda.reminders.sync(services_of(app).content.content) == 0
        await services_of(app).agenda.unsave(100, PANEL)
        await services_of(app).agenda.save(100, PANEL)
        await services_of(app).agenda.reminders.sync(services_of(app).content.content, 100)
        clock.now = at(9, 25)
        await asyncio.sleep(0.3)
        assert reminders_to(api) == sent


async def test_each_person_chooses_minutes_or_none_and_spanish_gets_spanish(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    settings = agenda_settings(database_url, dated_content(tmp_path))
    clock = WallClock(at(8, 0))
    async with agenda_app(settings, api, clock) as app:
        early = LocalChat(app, api, user_id=201, language_code="es")
        never = LocalChat(app, api, user_id=202)
        for person in (early, never):
            await save(person)
        await early.send("/settings")
        await early.press_data("rem")
        await early.press_data("rem:30")
        await never.send("/settings")
        await never.press_data("rem:0")
        await never.press_data("rem:99")  # forged: not a choice
        assert await services_of(app).agenda.reminders.minutes(202) == 0
        assert await count(app, Delivery.user_id == 202) == 0
        clock.now = at(9, 0)
        await settled(app)
        spanish = reminders_of(api, 201)
        assert len(spanish) == 1 and "En unos 30 minutos" in spanish[0]
        assert "(orientativo)" in spanish[0]
        assert not reminders_of(api, 202)


async def test_no_reminders_while_the_date_is_unknown(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    from tests.conftest import make_settings

    clock = WallClock(at(8, 0))
    async with agenda_app(make_settings(database_url), api, clock) as app:
        person = LocalChat(app, api, user_id=300)
        await save(person)
        assert await count(app) == 0
        calls = await person.send("/agenda")
        assert "date has not been announced yet" in calls[-1].text


async def test_a_moved_session_moves_its_reminders_and_a_cancelled_one_drops_them(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = dated_content(tmp_path)
    settings = agenda_settings(database_url, content)
    clock = WallClock(at(8, 0))
    async with agenda_app(settings, api, clock) as app:
        for uid in (400, 401):
            await save(LocalChat(app, api, user_id=uid))
            await save(LocalChat(app, api, user_id=uid), "coffee-break")
        assert await count(app, Delivery.status == "pending") == 4
        move_session(content, ("09:30", "10:30"), ("11:00", "11:30"))
        programme = content / "programme.yaml"
        text = programme.read_text("utf-8")
        start = text.index("  - id: coffee-break")
        end = text.index("  - id: panel-skills")
        programme.write_text(text[:start] + text[end:], encoding="utf-8")
        await LocalChat(app, api, user_id=ADMIN_ID).send("/reload")
        # The moved one: due 10:50 now; the cancelled one: gone.
        assert await not_before(app) == {at(10, 50) - fan_out_lead(2, settings.broadcast_rate)}
        assert await count(app, Delivery.status == "pending") == 2
        clock.now = at(9, 20)
        await asyncio.sleep(0.3)
        assert not reminders_to(api)  # not at the old time
        clock.now = at(10, 50)
        await settled(app)
        assert reminders_to(api) == Counter({400: 1, 401: 1})
        (reminder,) = reminders_of(api, 400)
        assert "11:00–11:30" in reminder


async def test_two_workers_send_each_reminder_once(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    settings = agenda_settings(database_url, dated_content(tmp_path))
    clock = WallClock(at(8, 0))
    async with (
        agenda_app(settings, api, clock) as first,
        agenda_app(settings, api, clock) as second,
    ):
        for uid in range(500, 530):
            worker = first if uid % 2 else second
            await save(LocalChat(worker, api, user_id=uid))
        clock.now = at(9, 20)
        await settled(first)
        await settled(second)
        sent = reminders_to(api)
        assert len(sent) == 30 and max(sent.values()) == 1


async def test_a_hard_kill_and_restart_never_repeats_a_reminder(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    settings = agenda_settings(database_url, dated_content(tmp_path))
    clock = WallClock(at(8, 0))
    people = range(600, 640)
    async with agenda_app(settings, api, clock, lease_ttl=0.6) as app:
        for uid in people:
            await save(LocalChat(app, api, user_id=uid))
        sender = app.bot_data.broadcast_sender
        dead = asyncio.Event()
        original = sender._send

        async def send_then_freeze(chat_id: int, text: str) -> None:
            if dead.is_set():
                await asyncio.Event().wait()  # a killed process never answers
            await original(chat_id, text)
            if sender.sent_count >= 10:
                dead.set()

        sender._send = send_then_freeze
        clock.now = at(9, 20)
        sender.wake()
        await asyncio.wait_for(dead.wait(), 10)
        # SIGKILL: its tasks stop where they are; its lease is not released.
        sender._renewing.cancel()
        sender._task.cancel()
        await asyncio.gather(sender._task, sender._renewing, return_exceptions=True)
        sender._renewing = None
        app.bot_data.broadcast_sender = None
    # The restart plans again (nothing is queued twice) and takes the role once it expires.
    async with agenda_app(settings, api, clock, lease_ttl=0.6) as app:
        await asyncio.sleep(0.8)
        await settled(app)
        sent = reminders_to(api)
        assert max(sent.values()) == 1  # nobody twice
        unknown = await count(app, Delivery.status == "unknown")
        assert unknown <= 8 and len(sent) + unknown == len(people)
        assert await count(app) == len(people)
