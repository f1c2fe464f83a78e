"""The shared send budget: replies and broadcasts together stay under Telegram's limit."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest
from telegram.error import NetworkError

from bot.settings import Settings
from handlers.app import build_application
from handlers.transport import OutgoingRateLimiter
from tests.conftest import make_settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_sends_are_spaced_to_the_rate() -> None:
    clock = FakeClock()
    limiter = OutgoingRateLimiter(20, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(40):
        await limiter.acquire()
        times.append(clock.now)
    assert all(b - a >= 0.05 - 1e-9 for a, b in itertools.pairwise(times))
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 20


async def test_a_background_send_waits_for_the_replies_booked_before_it() -> None:
    clock = FakeClock()
    limiter = OutgoingRateLimiter(10, clock=clock, sleep=clock.sleep)
    # Five replies book the next half second without waiting for each other.
    limiter._next_slot = 0.5  # as if booked: the backlog the broadcast must not join
    await limiter.acquire(background=True)
    assert clock.now >= 0.5 - 1e-9  # it only sent once the replies' slots were used
    before = clock.now
    await limiter.acquire()  # a reply right after takes the next slot, not a later one
    assert clock.now - before <= 0.1 + 1e-9


async def test_the_bot_sends_through_the_limiter(database_url: str) -> None:
    settings: Settings = make_settings(database_url, SEND_RATE_LIMIT=28)
    application = build_application(settings)
    limiter = application.bot.rate_limiter
    assert isinstance(limiter, OutgoingRateLimiter)
    assert abs(limiter.interval - 1 / 28) < 1e-9


async def test_a_reply_that_keeps_failing_is_logged_once_with_its_chat_and_method(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    limiter = OutgoingRateLimiter(20, clock=clock, sleep=clock.sleep)
    tries = []

    async def server_error() -> bool:
        tries.append(clock.now)
        raise NetworkError("Internal Server Error")

    data = {"chat_id": 4242, "text": "Your private answer"}
    with pytest.raises(NetworkError):
        await limiter.process_request(server_error, (), {}, "sendMessage", data, None)

    assert len(tries) == 4  # the first try and three quick retries
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    line = warnings[0].getMessage()
    assert "sendMessage" in line and "4242" in line and "not delivered" in line
    assert "private answer" not in line
