"""Helpers for the My agenda tests (no tests here): a dated copy of the content, a wall clock
the test moves, and applications whose reminders and /now read that clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from telegram.ext import Application

from bot.models import Delivery
from bot.settings import Settings
from devtools.local_api import LocalBotApi, LocalRequest
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running, runtime_of
from tests.conftest import CONTENT_DIR, make_settings

EVENT_DAY = dt.date(2031, 6, 18)
MADRID = dt.timezone(dt.timedelta(hours=2))  # Europe/Madrid in June (CEST)


def at(hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of the event's day, Madrid time, as an aware UTC datetime."""
    local = dt.datetime.combine(EVENT_DAY, dt.time(hour, minute, second), tzinfo=MADRID)
    return local.astimezone(dt.UTC)


@dataclass
class WallClock:
    """The time the bot believes it is; only the test moves it."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


def dated_content(tmp_path: Path, *, draft: bool = True, overlap: bool = False) -> Path:
    """The shipped content with a date (and optionally two overlapping side events)."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    event = target / "event.yaml"
    event.write_text(
        event.read_text("utf-8").replace("date: null", f"date: {EVENT_DAY.isoformat()}"),
        encoding="utf-8",
    )
    if not draft or overlap:
        programme = target / "programme.yaml"
        text = programme.read_text("utf-8")
        if not draft:
            text = text.replace("draft: true", "draft: false")
        if overlap:  # side-event-civic 14:30-15:30 overlaps side-event-otn 14:00-15:00
            text = text.replace(
                'start: "15:00"\n    end: "16:00"', 'start: "14:30"\n    end: "15:30"'
            )
        programme.write_text(text, encoding="utf-8")
    return target


def move_session(content: Path, old: tuple[str, str], new: tuple[str, str]) -> None:
    programme = content / "programme.yaml"
    before = f'start: "{old[0]}"\n    end: "{old[1]}"'
    after = f'start: "{new[0]}"\n    end: "{new[1]}"'
    text = programme.read_text("utf-8")
    assert before in text
    programme.write_text(text.replace(before, after), encoding="utf-8")


def agenda_settings(database_url: str, content: Path, **overrides: object) -> Settings:
    return make_settings(database_url, CONTENT_DIR=str(content), **overrides)


@asynccontextmanager
async def agenda_app(
    settings: Settings, api: LocalBotApi, clock: WallClock, **sender: object
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A running Application whose sender, reminders and /now follow `clock`."""
    application = build_application(settings, request=LocalRequest(api), clock=clock)
    runtime_of(application).sender_options = {"idle_poll": 0.05, **sender}
    async with running(application) as app:
        yield app


async def count(app: Application, *where: object) -> int:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        query = select(func.count()).select_from(Delivery).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def settled(app: Application, limit: float = 20.0) -> None:  # type: ignore[type-arg]
    """Until nothing due is pending or being sent (the senders look every 0.05 s)."""
    clock = runtime_of(app).clock
    for _ in range(int(limit / 0.05)):
        waiting = await count(
            app,
            Delivery.status.in_(("pending", "sending")),
            Delivery.not_before <= clock(),
        )
        if not waiting:
            await asyncio.sleep(0.1)  # the marks of the last sends
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the due deliveries were never sent")
