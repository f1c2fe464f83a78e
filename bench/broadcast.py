"""Benchmark 3: a broadcast to many subscribers against Telegram-like flood limits.

The real `BroadcastService` queues the broadcast (one delivery row per subscriber) and the
real `BroadcastSender` drains it at the configured rate (BROADCAST_RATE, 25/s by default,
once it holds the sending role: bot/leases.py) through the real Application's bot, over a
`RateLimitedBotApi` that enforces 30 messages/s overall and 1/s per chat and answers
"blocked" for 2% of the recipients. Meanwhile other people ask questions through
`process_update`; their replies go through the same limited API (they share Telegram's
budget with the broadcast, and go first). Two loads: 3 questions/s, people reading the
announcement and asking about it, where the targets apply; and 5/s, where the broadcast can
have at most 29 - 5 = 24/s of the shared budget (reported, to show the trade-off).
The target is the sender's own pace: at least 95% of BROADCAST_RATE.

Counted: the sustained delivery rate, 429 answers, duplicates (a chat that got the
announcement twice) and losses (a subscriber who is not blocked and never got it).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from telegram import Update
from telegram.ext import Application

from bench.harness import ADMIN_ID, ErrorCounter, bench_settings, create_schema, sqlite_url
from bench.ratelimited_api import RateLimitedBotApi
from bench.report import Section, percentile
from bench.updates import People, load_questions
from bot.broadcast_sender import BroadcastSender
from bot.broadcasts import BroadcastService
from bot.db import create_engine
from bot.models import Delivery, User
from bot.models.base import utcnow
from devtools.local_api import LocalRequest
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from handlers.transport import telegram_send

FIRST_SUBSCRIBER = 2_000_000
FIRST_ASKER = 3_000_000
BLOCKED_SHARE = 0.02
QUESTIONS_PER_SECOND = 3.0  # the load the targets apply to
STRESS_QUESTIONS_PER_SECOND = 5.0
TARGET_SHARE = 0.95  # of BROADCAST_RATE, the pace the sender keeps to
TARGET_INTERACTIVE_P99 = 1.0
ANNOUNCEMENT = "Focus Sessions #1: the programme is final. See you at 9:00!"


@dataclass
class Outcome:
    recipients: int
    blocked: int
    rate: float  # recipients handled per second: delivered, or answered "blocked"
    delivered_rate: float
    seconds: float
    too_many_broadcast: int
    too_many_interactive: int
    duplicates: int
    losses: int
    statuses: dict[str, int]
    interactive: list[float]
    interactive_errors: int
    errors_logged: int
    first_error: str | None
    wiring: str


async def seed_subscribers(database_url: str, count: int) -> None:
    """`count` subscribed people, written in one transaction (as if they had said /start)."""
    await create_schema(database_url)
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        now = utcnow()
        rows = [
            {
                "id": FIRST_SUBSCRIBER + n,
                "telegram_language": ("en", "es", "ca")[n % 3],
                "subscribed": True,
                "first_seen": now,
                "last_seen": now,
            }
            for n in range(count)
        ]
        await connection.execute(insert(User), rows)
    await engine.dispose()


def find_sender(application: Application) -> tuple[BroadcastSender, str]:  # type: ignore[type-arg]
    """The sender the bot's runtime started, or one built here the same way."""
    services = services_of(application)
    for holder in (services, getattr(services, "broadcasts", None), application.bot_data):
        for name in ("sender", "broadcast_sender"):
            found = holder.get(name) if isinstance(holder, dict) else getattr(holder, name, None)
            if isinstance(found, BroadcastSender):
                return found, "the sender started by the bot's runtime"
    sender = BroadcastSender(
        services.sessions,
        telegram_send(application.bot),
        rate=services.settings.broadcast_rate,
    )
    sender.start()
    return sender, "a BroadcastSender built by the benchmark (the bot does not start one yet)"


def find_service(application: Application) -> BroadcastService:  # type: ignore[type-arg]
    services = services_of(application)
    found = getattr(services, "broadcasts", None)
    return found if isinstance(found, BroadcastService) else BroadcastService(services.sessions)


async def ask_meanwhile(
    application: Application,  # type: ignore[type-arg]
    people: People,
    done: asyncio.Event,
    per_second: float,
) -> list[float]:
    """Questions from other people at a steady pace until the broadcast is done."""
    rng = random.Random(7)
    questions = load_questions()
    latencies: list[float] = []
    interval = 1 / per_second
    next_at = time.perf_counter()
    number = 0
    while not done.is_set():
        step = people.message(FIRST_ASKER + number % 50, rng.choice(questions))
        update = Update.de_json({"update_id": 10**7 + number, **step.payload}, application.bot)
        before = time.perf_counter()
        await application.process_update(update)
        latencies.append(time.perf_counter() - before)
        number += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    return latencies


async def delivery_statuses(application: Application) -> dict[str, int]:  # type: ignore[type-arg]
    async with services_of(application).sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {str(status): int(n) for status, n in rows.tuples()}


async def run_broadcast(
    directory: Path, recipients: int, questions_per_second: float = QUESTIONS_PER_SECOND
) -> Outcome:
    url = sqlite_url(directory)
    await seed_subscribers(url, recipients)
    subscribers = range(FIRST_SUBSCRIBER, FIRST_SUBSCRIBER + recipients)
    blocked = frozenset(random.Random(6).sample(subscribers, round(recipients * BLOCKED_SHARE)))
    api = RateLimitedBotApi(blocked=blocked)
    application = build_application(bench_settings(url), request=LocalRequest(api))
    limit = recipients / application.bot_data.settings.broadcast_rate * 3 + 30
    with ErrorCounter() as errors:
        async with running(application):
            sender, wiring = find_sender(application)
            service = find_service(application)
            done = asyncio.Event()
            asking = asyncio.create_task(
                ask_meanwhile(application, People(api), done, questions_per_second)
            )
            started = time.perf_counter()
            # The admin's progress message, edited by the sender as it goes (as after /broadcast).
            progress = api.handle("sendMessage", {"chat_id": ADMIN_ID, "text": "Queued"})
            await service.enqueue(
                admin_id=ADMIN_ID,
                text=ANNOUNCEMENT,
                audience="all",
                language="en",
                progress_chat_id=ADMIN_ID,
                progress_message_id=progress["message_id"],
            )
            sender.wake()
            with contextlib.suppress(TimeoutError):  # what is left over counts as lost
                await asyncio.wait_for(sender.wait_idle(), limit)
            seconds = time.perf_counter() - started
            done.set()
            interactive = await asking
            statuses = await delivery_statuses(application)
            if wiring.startswith("a BroadcastSender built"):
                await sender.stop()
    return summarize(api, subscribers, blocked, seconds, interactive, statuses, errors, wiring)


def per_second(times: list[float]) -> float:
    """Events per second between the first and the last one."""
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return (len(times) - 1) / span if span else 0.0


def summarize(
    api: RateLimitedBotApi,
    subscribers: range,
    blocked: frozenset[int],
    seconds: float,
    interactive: list[float],
    statuses: dict[str, int],
    errors: ErrorCounter,
    wiring: str,
) -> Outcome:
    wanted = set(subscribers)
    got = Counter(chat for _, chat, text in api.accepted if text == ANNOUNCEMENT)
    delivered = sorted(at for at, chat, text in api.accepted if text == ANNOUNCEMENT)
    handled = sorted([*delivered, *(at for at, chat in api.refused if chat in wanted)])
    too_many_broadcast = sum(n for chat, n in api.too_many.items() if chat in wanted)
    askers_failed = sum(n for chat, n in api.too_many.items() if chat not in wanted)
    return Outcome(
        recipients=len(wanted),
        blocked=len(blocked),
        rate=per_second(handled),
        delivered_rate=per_second(delivered),
        seconds=seconds,
        too_many_broadcast=too_many_broadcast,
        too_many_interactive=askers_failed,
        duplicates=sum(1 for n in got.values() if n > 1),
        losses=len(wanted - blocked - set(got)),
        statuses=statuses,
        interactive=interactive,
        interactive_errors=askers_failed,
        errors_logged=errors.count,
        first_error=errors.first,
        wiring=wiring,
    )


async def run(quick: bool = False, full: bool = False) -> Section:
    recipients = 10_000 if full else 300 if quick else 1_500
    section = Section("Broadcast")
    rate = bench_settings("sqlite://").broadcast_rate
    target_rate = rate * TARGET_SHARE
    with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
        outcome = await run_broadcast(Path(tmp), recipients)
    stress: Outcome | None = None
    if not quick:
        with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
            stress = await run_broadcast(Path(tmp), 600, STRESS_QUESTIONS_PER_SECOND)
    p99 = percentile(outcome.interactive, 0.99) if outcome.interactive else float("nan")
    section.add("recipients (2% blocked)", f"{outcome.recipients:,} ({outcome.blocked} blocked)")
    section.add(
        "sustained rate, recipients handled (limit 30/s)",
        f"{outcome.rate:.1f}/s",
        f">= {target_rate:g}/s ({TARGET_SHARE:.0%} of BROADCAST_RATE {rate:g}/s)",
        outcome.rate >= target_rate,
    )
    section.add("of which delivered", f"{outcome.delivered_rate:.1f}/s")
    section.add("429 answers to the broadcast", str(outcome.too_many_broadcast))
    section.add("duplicates", str(outcome.duplicates), "0", outcome.duplicates == 0)
    section.add("losses (not blocked, never sent)", str(outcome.losses), "0", outcome.losses == 0)
    section.add(
        "interactive replies during it: p99",
        f"{p99 * 1000:,.1f} ms",
        f"< {TARGET_INTERACTIVE_P99 * 1000:,.0f} ms",
        p99 < TARGET_INTERACTIVE_P99,
    )
    section.add(
        "interactive replies refused (429)",
        str(outcome.too_many_interactive),
        "0",
        outcome.too_many_interactive == 0,
    )
    if stress is not None:
        stress_p99 = percentile(stress.interactive, 0.99) if stress.interactive else float("nan")
        section.add(
            f"with {STRESS_QUESTIONS_PER_SECOND:g} questions/s instead (600 recipients): rate, "
            "429s, duplicates / losses, interactive p99",
            f"{stress.rate:.1f}/s, {stress.too_many_broadcast + stress.too_many_interactive}, "
            f"{stress.duplicates} / {stress.losses}, {stress_p99 * 1000:,.1f} ms",
        )
    scope = (
        "the full 10,000 (--full)"
        if full
        else f"{recipients:,} recipients ({'--quick' if quick else 'the default'}); "
        "`--full` runs the 10,000 of the issue (about 7 minutes)"
    )
    section.details += [
        f"{scope}. Wiring: {outcome.wiring}. Whole broadcast took {outcome.seconds:.1f} s; "
        f"{len(outcome.interactive)} questions were answered meanwhile "
        f"(p50 {percentile(outcome.interactive, 0.5) * 1000:.1f} ms) at "
        f"{QUESTIONS_PER_SECOND:g}/s from 50 other people (each asks every "
        f"{50 / QUESTIONS_PER_SECOND:.0f} s or so).",
        "",
        "The broadcast and the replies share Telegram's budget (SEND_RATE_LIMIT, 29/s, replies "
        f"first): the broadcast gets min(BROADCAST_RATE {rate:g}, 29 - replies/s). At "
        f"{QUESTIONS_PER_SECOND:g} replies/s that is {min(rate, 29 - QUESTIONS_PER_SECOND):g}/s; "
        f"at {STRESS_QUESTIONS_PER_SECOND:g}/s, "
        f"{min(rate, 29 - STRESS_QUESTIONS_PER_SECOND):g}/s. Only the worker holding the sending "
        "role (bot/leases.py) sends broadcasts, so this is the pace of the whole bot.",
        "",
        "Delivery rows at the end: "
        + ", ".join(f"{status} {n:,}" for status, n in sorted(outcome.statuses.items())),
        "",
        f"Errors logged by the bot during the run: {outcome.errors_logged}"
        + (f" (first: `{outcome.first_error}`)" if outcome.first_error else ""),
    ]
    return section
