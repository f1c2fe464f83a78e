"""No loop spins when the database is away: each waits longer and longer (capped at a few
seconds) and says so in one line per outage, plus one when it works again.

The database "goes away" for 10 seconds of a fake clock: a session factory that refuses
every session meanwhile (each refusal takes a millisecond, as a refused connection does);
the loops' back-off sleeps on the same fake clock, so nothing waits for real.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot.backoff import Backoff
from bot.broadcast_sender import BroadcastSender
from bot.broadcasts import ALL
from bot.leases import Heartbeat
from bot.outbox import Outbox
from bot.outbox_sender import OutboxSender
from devtools.local_api import LocalBotApi, LocalChat
from handlers.context import services_of
from handlers.outbox_sender import TelegramNotices
from handlers.transport import telegram_send
from handlers.updates import UpdateRunner

OUTAGE = 10.0  # seconds of the fake clock


@dataclass
class FakeClock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class GoneDatabase:
    """A session factory that refuses every session while `down()` says the database is gone."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: FakeClock,
        down: Callable[[], bool],
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.down = down
        self.refused = 0

    def _check(self) -> None:
        if self.down():
            self.refused += 1
            self.clock.now += 0.001
            raise OperationalError("connect", {}, ConnectionRefusedError("connection refused"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        return self.sessions(*args, **kwargs)

    def begin(self) -> Any:
        self._check()
        return self.sessions.begin()


def outage(clock: FakeClock) -> Callable[[], bool]:
    start = clock.now
    return lambda: start <= clock.now < start + OUTAGE


async def until(condition: Callable[[], bool]) -> None:
    """Bounded wait (real time) for something the loop does on the fake clock."""
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the loop did not get through the outage")


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.INFO]


def one_outage(records: list[logging.LogRecord]) -> None:
    """One WARNING when it began, one INFO when it ended: nothing else, no traceback."""
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO], [
        r.getMessage() for r in records
    ]
    assert records[0].exc_info is None
    assert "works again" in records[1].getMessage()


def test_the_pause_doubles_up_to_the_cap_and_an_outage_is_two_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.backoff")
    backoff = Backoff("Reading", log, first=0.5, cap=5.0, jitter=lambda: 1.0)
    error = OperationalError("select", {}, ConnectionRefusedError("refused"))
    with caplog.at_level(logging.DEBUG, logger="tests.backoff"):
        pauses = [backoff.failed(error) for _ in range(8)]
        backoff.recovered()
        backoff.recovered()
    assert pauses == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    one_outage(lines(caplog, "tests.backoff"))
    low = Backoff("Reading", log, first=0.5, cap=5.0, jitter=lambda: 0.0)
    assert [low.failed(error) for _ in range(3)] == [0.25, 0.5, 1.0]  # jittered down to half


def test_an_error_that_is_not_an_outage_gets_its_traceback_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = Backoff("Sending", logging.getLogger("tests.backoff"))
    for _ in range(3):
        backoff.failed(KeyError("a bug"))
    records = lines(caplog, "tests.backoff")
    assert len(records) == 1 and records[0].exc_info is not None


async def test_the_broadcast_sender_waits_out_a_10_second_outage_quietly(
    app: Application, api: LocalBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    services = services_of(app)
    for user_id in (1, 2, 3):
        await services.users.contact(user_id, "en")
    await services.broadcasts.enqueue(admin_id=900, text="Doors open", audience=ALL, language="en")
    clock = FakeClock()
    gone = GoneDatabase(services.sessions, clock, outage(clock))
    sender = BroadcastSender(
        gone,  # type: ignore[arg-type]
        telegram_send(app.bot),
        rate=25.0,
        clock=clock,
        sleep=clock.sleep,
        holder="outage-test",
    )
    caplog.set_level(logging.INFO, logger="bot.broadcast_sender")
    sender.wake()  # an admin just pressed Send
    sender.start()
    try:
        await until(lambda: len(api.calls_to("sendMessage")) >= 3)
    finally:
        await sender.stop()

    assert sorted(c.chat_id for c in api.calls_to("sendMessage")) == [1, 2, 3]
    assert gone.refused <= 12  # about log2(10 / 0.5) + 10 / 5 tries, not thousands
    one_outage(lines(caplog, "bot.broadcast_sender"))


async def test_the_update_runner_waits_out_a_10_second_outage_quietly(
    app: Application, api: LocalBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    runner = UpdateRunner(app)
    gone = GoneDatabase(runner.inbox._sessions, clock, outage(clock))
    runner.inbox._sessions = gone  # type: ignore[assignment]
    runner.backoff = Backoff(
        "Reading the inbox", logging.getLogger("handlers.updates"), sleep=clock.sleep, clock=clock
    )
    caplog.set_level(logging.INFO, logger="handlers.updates")
    await runner.start()
    try:
        await until(lambda: not gone.down())
        chat = LocalChat(app, api, user_id=5)
        await runner.inbox.store(
            [{"update_id": api.next_update_id(), "message": chat._message(text="/help")}]
        )
        runner.wake()
        await until(lambda: bool(api.calls_to("sendMessage", 5)))
    finally:
        await runner.stop()
    assert gone.refused <= 12
    one_outage(lines(caplog, "handlers.updates"))


async def test_the_outbox_sender_waits_out_a_10_second_outage_quietly(
    app: Application, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    services = services_of(app)
    sender = OutboxSender(Outbox(services.sessions, services.worker), TelegramNotices(app))
    gone = GoneDatabase(sender.outbox._sessions, clock, outage(clock))
    sender.outbox._sessions = gone  # type: ignore[assignment]
    sender.backoff = Backoff(
        "Sending the outbox",
        logging.getLogger("bot.outbox_sender"),
        sleep=clock.sleep,
        clock=clock,
    )
    caplog.set_level(logging.INFO, logger="bot.outbox_sender")
    sender.start()
    try:
        await until(lambda: not gone.down())
        await sender.outbox.waiting()  # the database answers again
        sender.wake()
        await asyncio.wait_for(sender.idle(), 10)
    finally:
        await sender.stop()
    assert gone.refused <= 12
    one_outage(lines(caplog, "bot.outbox_sender"))


async def test_the_heartbeat_waits_out_a_10_second_outage_quietly(
    app: Application, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    up = services_of(app).sessions
    beat = Heartbeat(up, "outage-test-worker")
    beat.backoff.sleep = clock.sleep
    await beat.start()
    gone = GoneDatabase(up, clock, outage(clock))
    beat.lease._sessions = gone  # type: ignore[assignment]
    caplog.set_level(logging.INFO, logger="bot.leases")
    try:
        await until(lambda: not gone.down() and clock.now > 1000 + OUTAGE + 5)
    finally:
        await beat.stop()
    one_outage(lines(caplog, "bot.leases"))
