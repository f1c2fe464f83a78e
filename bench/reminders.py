"""Benchmark 5: the reminder fan-out. 2,000 people saved the same session; how late is the last
reminder?

The real planner (bot/schedule.py) queues one delivery row per person, due 10 minutes before
the session, with the whole batch starting N / rate seconds (plus a margin) early; the real
sender drains it at BROADCAST_RATE through a `RateLimitedBotApi` (30 messages/s, 1/s per
chat), while other people ask questions at 3/s (their replies go first and share the budget).
The wall clock the bot reads is real time shifted onto the event's day, so the rate is real.

Reported: when the first and the last reminder arrived relative to the due time (negative:
early), 429 answers, duplicates and losses. Goal: the last one is not late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert

from bench.broadcast import ask_meanwhile
from bench.harness import CONTENT_DIR, ErrorCounter, bench_settings, create_schema, sqlite_url
from bench.ratelimited_api import RateLimitedBotApi
from bench.report import Section, percentile
from bench.updates import People
from bot.db import create_engine
from bot.models import SavedSession, User
from bot.models.base import utcnow
from bot.schedule import fan_out_lead, starts_at
from devtools.local_api import LocalRequest
from handlers.app import build_application, running
from handlers.context import services_of

FIRST_PERSON = 4_000_000
SESSION = "panel-connectivity"
EVENT_DAY = dt.date(2031, 6, 18)
MINUTES = 10
QUESTIONS_PER_SECOND = 3.0


def dated_content(directory: Path) -> Path:
    target = directory / "content"
    shutil.copytree(CONTENT_DIR, target)
    event = target / "event.yaml"
    text = event.read_text("utf-8").replace("date: null", f"date: {EVENT_DAY.isoformat()}")
    event.write_text(text, encoding="utf-8")
    return target


async def seed(database_url: str, people: int) -> None:
    """`people` who saved the same session, reminders 10 minutes before (the default)."""
    await create_schema(database_url)
    engine = create_engine(database_url)
    now = utcnow()
    async with engine.begin() as connection:
        users = [
            {
                "id": FIRST_PERSON + n,
                "telegram_language": ("en", "es", "ca")[n % 3],
                "subscribed": True,
                "first_seen": now,
                "last_seen": now,
                "reminder_minutes": MINUTES,
            }
            for n in range(people)
        ]
        await connection.execute(insert(User), users)
        saved = [
            {"user_id": FIRST_PERSON + n, "session_id": SESSION, "saved_at": now}
            for n in range(people)
        ]
        await connection.execute(insert(SavedSession), saved)
    await engine.dispose()


async def fan_out(directory: Path, people: int) -> dict[str, float | int]:
    url = sqlite_url(directory)
    content = dated_content(directory)
    await seed(url, people)
    api = RateLimitedBotApi()
    settings = bench_settings(url, CONTENT_DIR=str(content))
    # The bot's wall clock: real time, shifted so the fan-out starts 2 s after the run does.
    holder: dict[str, float | dt.datetime] = {
        "m0": time.monotonic(),
        "base": dt.datetime.now(dt.UTC),
    }

    def wall() -> dt.datetime:
        return holder["base"] + dt.timedelta(seconds=time.monotonic() - holder["m0"])  # type: ignore[operator, return-value]

    application = build_application(settings, request=LocalRequest(api), clock=wall)
    with ErrorCounter() as errors:
        async with running(application):
            services = services_of(application)
            session = services.content.content.session(SESSION)
            assert session is not None
            start = starts_at(services.content.content, session)
            assert start is not None
            due = start.astimezone(dt.UTC) - dt.timedelta(minutes=MINUTES)
            lead = fan_out_lead(people, settings.broadcast_rate)
            holder["m0"] = time.monotonic()
            holder["base"] = due - lead - dt.timedelta(seconds=2)
            planned = await services.agenda.reminders.sync(services.content.content)
            done = asyncio.Event()
            asking = asyncio.create_task(
                ask_meanwhile(application, People(api), done, QUESTIONS_PER_SECOND)
            )
            wanted = set(range(FIRST_PERSON, FIRST_PERSON + people))
            limit = lead.total_seconds() * 3 + 30
            started = time.monotonic()
            while time.monotonic() - started < limit:
                got = {chat for _, chat, text in api.accepted if chat in wanted}
                if len(got) >= people:
                    break
                await asyncio.sleep(0.2)
            done.set()
            interactive = await asking
    times = sorted(at for at, chat, _ in api.accepted if chat in wanted)
    counts = Counter(chat for _, chat, _ in api.accepted if chat in wanted)

    def offset(at: float) -> float:
        when = holder["base"] + dt.timedelta(seconds=at - holder["m0"])  # type: ignore[operator]
        return (when - due).total_seconds()  # type: ignore[no-any-return]

    return {
        "planned": planned,
        "lead": lead.total_seconds(),
        "first": offset(times[0]) if times else float("nan"),
        "last": offset(times[-1]) if times else float("nan"),
        "duplicates": sum(1 for n in counts.values() if n > 1),
        "losses": len(wanted - set(counts)),
        "too_many": sum(api.too_many.values()),
        "p99": percentile(interactive, 0.99) if interactive else float("nan"),
        "errors": errors.count,
    }


async def run(quick: bool = False) -> Section:
    people = 300 if quick else 2_000
    with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
        result = await fan_out(Path(tmp), people)
    section = Section("Reminder fan-out")
    section.add("people who saved the same session", f"{people:,}")
    section.add(
        "last reminder vs. due time (10 min before; negative = early)",
        f"{result['last']:+.1f} s",
        "<= 0 s (not late)",
        result["last"] <= 0,
    )
    section.add("first reminder vs. due time", f"{result['first']:+.1f} s")
    section.add("duplicates", str(result["duplicates"]), "0", result["duplicates"] == 0)
    section.add("losses", str(result["losses"]), "0", result["losses"] == 0)
    section.add("429 answers", str(result["too_many"]))
    section.details += [
        f"The fan-out of {people:,} starts {result['lead']:.0f} s before the due time "
        f"(N / BROADCAST_RATE x 1.25 + 5 s); {QUESTIONS_PER_SECOND:g} questions/s answered "
        f"meanwhile (p99 {result['p99'] * 1000:.1f} ms). Errors logged: {result['errors']}.",
    ]
    return section
