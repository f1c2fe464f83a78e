"""The background sender on its own: rate, flood control, blocked people, retries, restarts.

Each test drives a real BroadcastSender over a real database and the real python-telegram-bot
Bot talking to a LocalBotApi; a fake clock stands in for time, so nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select, update
from telegram import Bot

from bot.broadcast_sender import BroadcastSender
from bot.broadcasts import ALL
from bot.models import Delivery, Lease, User
from bot.services import Services, create_services
from bot.settings import Settings
from devtools.local_api import JSON, ApiError, LocalBotApi, LocalRequest
from handlers.app import build_application
from handlers.transport import telegram_send

ADMIN = 900
TEXT = "Doors open at 9:00 <b>sharp</b> & bring your badge"


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when RetryAfter is built unless this opt-in is set (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class FakeClock:
    """Monotonic time that only moves when someone sleeps (and remembers every sleep)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class World:
    """A database, the services over it and a Bot whose requests a LocalBotApi answers."""

    services: Services
    bot: Bot
    api: LocalBotApi
    clock: FakeClock

    def sender(self, **options: object) -> BroadcastSender:
        values: dict[str, object] = {
            "rate": 25.0,
            "clock": self.clock,
            "sleep": self.clock.sleep,
            "max_in_flight": 1,
        }
        values.update(options)
        return BroadcastSender(self.services.sessions, telegram_send(self.bot), **values)  # type: ignore[arg-type]

    def sends(self) -> Counter[int]:
        """Messages that reached each chat."""
        return Counter(c.chat_id for c in self.api.calls_to("sendMessage"))


async def open_world(settings: Settings, api: LocalBotApi | None = None) -> tuple[World, object]:
    api = api or LocalBotApi()
    application = build_application(settings, request=LocalRequest(api))
    await application.initialize()
    services = await create_services(settings)
    return World(services, application.bot, api, FakeClock()), application


async def close_world(world: World, application: object) -> None:
    await world.services.engine.dispose()
    await application.shutdown()  # type: ignore[attr-defined]


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    opened, application = await open_world(settings)
    yield opened
    await close_world(opened, application)


async def subscribers(services: Services, ids: range | list[int], lang: str = "en") -> None:
    for user_id in ids:
        await services.users.contact(user_id, lang)


async def statuses(services: Services) -> dict[int, str]:
    async with services.sessions() as session:
        rows = await session.execute(select(Delivery.user_id, Delivery.status))
        return {user_id: status for user_id, status in rows}


def fail_for(
    chat_ids: dict[int, Callable[[], ApiError | None]],
) -> Callable[[str, JSON], ApiError | None]:
    """An interceptor: sendMessage to these chats answers what the callable says."""

    def intercept(method: str, params: JSON) -> ApiError | None:
        if method != "sendMessage":
            return None
        make = chat_ids.get(int(params["chat_id"]))
        return make() if make else None

    return intercept


def once(error: ApiError) -> Callable[[], ApiError | None]:
    used: list[bool] = []

    def make() -> ApiError | None:
        if used:
            return None
        used.append(True)
        return error

    return make


async def test_flood_control_waits_exactly_and_blocked_people_are_marked(world: World) -> None:
    await subscribers(world.services, range(1, 7))
    flood_at: list[float] = []
    send_times: dict[int, float] = {}

    def record(method: str, params: JSON) -> None:
        if method == "sendMessage" and int(params["chat_id"]) == 3 and not flood_at:
            flood_at.append(world.clock.now)
            return ApiError(429, "Too Many Requests: retry after 3", retry_after=3)  # type: ignore[return-value]
        if method == "sendMessage":
            send_times.setdefault(int(params["chat_id"]), world.clock.now)
        return None

    world.api.interceptors.append(
        fail_for(
            {
                5: lambda: ApiError(403, "Forbidden: bot was blocked by the user"),
                6: lambda: ApiError(400, "Bad Request: chat not found"),
            }
        )
    )
    world.api.interceptors.append(record)  # type: ignore[arg-type]
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    await world.sender().drain()

    assert 3 in world.clock.sleeps  # exactly what Telegram asked for
    assert all(at >= flood_at[0] + 3 for chat, at in send_times.items() if chat != 1 and chat != 2)
    assert world.sends() == Counter({1: 1, 2: 1, 3: 1, 4: 1})
    assert all(
        c.text == TEXT and "parse_mode" not in c.params for c in world.api.calls_to("sendMessage")
    )
    assert await statuses(world.services) == {
        1: "sent",
        2: "sent",
        3: "sent",
        4: "sent",
        5: "blocked",
        6: "blocked",
    }
    blocked = await world.services.users.get(5)
    assert blocked is not None and blocked.blocked_at is not None
    report = await world.services.broadcasts.report(queued.broadcast_id)
    assert report is not None and report.done
    assert (report.delivered, report.blocked, report.failed) == (4, 2, 0)
    # Skipped from now on: the next audience leaves them out.
    assert await world.services.broadcasts.count(ALL) == 4


async def test_other_failures_are_retried_a_bounded_number_of_times(world: World) -> None:
    await subscribers(world.services, [1, 2, 3])
    attempts: Counter[int] = Counter()

    def flaky(method: str, params: JSON) -> ApiError | None:
        if method != "sendMessage":
            return None
        chat = int(params["chat_id"])
        attempts[chat] += 1
        if chat == 2:
            return ApiError(500, "Internal Server Error")
        if chat == 3 and attempts[chat] == 1:
            return ApiError(502, "Bad Gateway")
        return None

    world.api.interceptors.append(flaky)
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    await world.sender(max_attempts=3, backoff=2.0).drain()

    assert attempts == Counter({1: 1, 2: 3, 3: 2})
    assert world.sends() == Counter({1: 1, 3: 1})
    assert 2.0 in world.clock.sleeps or world.clock.now >= 1000 + 2 + 4  # backoff was waited
    assert await statuses(world.services) == {1: "sent", 2: "failed", 3: "sent"}
    report = await world.services.broadcasts.report(queued.broadcast_id)
    assert report is not None and (report.delivered, report.blocked, report.failed) == (2, 0, 1)


async def test_rate_overall_and_per_chat(world: World) -> None:
    await subscribers(world.services, range(1, 21))
    times: list[tuple[int, float]] = []

    def record(method: str, params: JSON) -> None:
        if method == "sendMessage":
            times.append((int(params["chat_id"]), world.clock.now))

    world.api.interceptors.append(record)  # type: ignore[arg-type]
    for _ in range(2):  # two broadcasts: everyone gets two messages
        await world.services.broadcasts.enqueue(
            admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
        )
    await world.sender(rate=10.0, max_in_flight=4).drain()

    assert len(times) == 40
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(times)]
    assert min(gaps) >= 0.1 - 1e-9  # never faster than 10 per second overall
    elapsed = times[-1][1] - times[0][1]
    assert elapsed <= 39 * 0.1 + 0.5  # and not much slower either
    for chat in range(1, 21):
        first, second = [at for c, at in times if c == chat]
        assert second - first >= 1.0  # at most one message per second to the same chat


async def test_restart_in_the_middle_delivers_each_message_exactly_once(
    settings: Settings,
) -> None:
    first, application = await open_world(settings)
    await subscribers(first.services, range(1, 13))
    await first.services.broadcasts.enqueue(admin_id=ADMIN, text=TEXT, audience=ALL, language="en")
    sender = first.sender(max_in_flight=3)
    original = sender._send

    async def send_then_stop(chat_id: int, text: str) -> None:
        await original(chat_id, text)
        if sender.sent_count >= 4:
            sender.request_stop()  # like SIGTERM: finish what is in flight, claim nothing new

    sender._send = send_then_stop
    await sender.drain()
    before = await statuses(first.services)
    assert "sending" not in before.values()
    sent_first = first.sends()
    assert 4 <= sum(sent_first.values()) < 12
    await close_world(first, application)

    # A new process over the same database finishes the job.
    second, application = await open_world(settings)
    await second.sender(max_in_flight=3).drain()
    total = first.sends() + second.sends()
    assert total == Counter(dict.fromkeys(range(1, 13), 1))
    assert set((await statuses(second.services)).values()) == {"sent"}
    await close_world(second, application)


async def test_a_crash_mid_send_is_reported_unconfirmed_not_resent(world: World) -> None:
    await subscribers(world.services, [1, 2, 3])
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    async with world.services.sessions.begin() as session:  # the process died mid-send
        await session.execute(
            update(Delivery)
            .where(Delivery.user_id == 2)
            .values(status="sending", attempted_at=func.now())
        )
    await world.sender().drain()
    assert world.sends() == Counter({1: 1, 3: 1})
    report = await world.services.broadcasts.report(queued.broadcast_id)
    assert report is not None and report.done and (report.delivered, report.unknown) == (2, 1)


async def test_progress_is_reported_and_the_final_report_once(world: World) -> None:
    await subscribers(world.services, range(1, 6))
    await world.services.broadcasts.enqueue(admin_id=ADMIN, text=TEXT, audience=ALL, language="en")
    reports = []

    async def progress(report: object) -> None:
        reports.append(report)

    await world.sender(progress=progress, progress_interval=0.1).drain()
    finals = [r for r in reports if r.done]
    assert len(finals) == 1 and finals[0].delivered == 5
    assert any(not r.done and 0 < r.handled < 5 for r in reports)


async def test_an_unsubscribed_or_blocked_person_is_not_queued(world: World) -> None:
    await subscribers(world.services, [1, 2, 3])
    await world.services.users.set_subscribed(2, False)
    async with world.services.sessions.begin() as session:
        await session.execute(update(User).where(User.id == 3).values(blocked_at=User.first_seen))
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    assert queued.recipients == 1
    await world.sender().drain()
    assert world.sends() == Counter({1: 1})


async def test_a_20_second_outage_of_telegram_loses_nobody(world: World) -> None:
    """Every send answers 500 for 20 seconds (of the sender's clock): all are retried and
    delivered once; nobody is marked failed for good."""
    await subscribers(world.services, range(1, 31))
    outage_ends = world.clock.now + 20

    def outage(method: str, params: JSON) -> ApiError | None:
        if method == "sendMessage" and world.clock.now < outage_ends:
            return ApiError(500, "Internal Server Error")
        return None

    world.api.interceptors.append(outage)
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    await world.sender().drain()
    assert world.sends() == Counter(dict.fromkeys(range(1, 31), 1))
    report = await world.services.broadcasts.report(queued.broadcast_id)
    assert report is not None and (report.delivered, report.failed) == (30, 0)


async def test_an_admin_resends_to_the_recipients_that_failed(world: World) -> None:
    await subscribers(world.services, [1, 2, 3])
    refusing = {2}

    def refuse(method: str, params: JSON) -> ApiError | None:
        if method == "sendMessage" and int(params["chat_id"]) in refusing:
            return ApiError(400, "Bad Request: something transient on their side")
        return None

    world.api.interceptors.append(refuse)
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    await world.sender().drain()
    assert await statuses(world.services) == {1: "sent", 2: "failed", 3: "sent"}
    refusing.clear()
    assert await world.services.broadcasts.resend_failed(queued.broadcast_id) == 1
    await world.sender().drain()
    assert world.sends() == Counter({1: 1, 2: 1, 3: 1})
    report = await world.services.broadcasts.report(queued.broadcast_id)
    assert report is not None and report.done and (report.delivered, report.failed) == (3, 0)
    assert await world.services.broadcasts.resend_failed(queued.broadcast_id) == 0


async def test_after_a_crash_only_a_send_that_left_is_unconfirmed(world: World) -> None:
    """The worker holding the role is killed while one request is out and the next row is
    claimed, waiting for its turn: the next holder marks the first unknown (not resent) and
    sends the second; nobody is left out, nobody gets it twice."""
    await subscribers(world.services, range(1, 7))
    queued = await world.services.broadcasts.enqueue(
        admin_id=ADMIN, text=TEXT, audience=ALL, language="en"
    )
    hung = asyncio.Event()
    never = asyncio.Event()
    first = world.sender(holder="first-worker")
    original = first._send

    async def hang_on_the_third(chat_id: int, text: str) -> None:
        if chat_id == 3:
            hung.set()
            await never.wait()  # the request is out; the worker dies before the answer
        await original(chat_id, text)

    first._send = hang_on_the_third
    dying = asyncio.create_task(first.drain())
    try:
        await asyncio.wait_for(hung.wait(), 10)
        for _ in range(100):  # the next row is claimed while the third is out
            if (await statuses(world.services)).get(4) == "sending":
                break
            await asyncio.sleep(0.01)
        claimed_unsent = (await statuses(world.services)).get(4)
        async with world.services.sessions.begin() as session:  # SIGKILL: no renewal any more
            await session.execute(update(Lease).values(expires_at=func.now()))
        await world.sender(holder="second-worker").drain()
        sends = world.sends()
    finally:
        dying.cancel()
        never.set()
        await asyncio.gather(dying, return_exceptions=True)

    assert claimed_unsent == "sending"
    assert sends == Counter({1: 1, 2: 1, 4: 1, 5: 1, 6: 1})
    final = await statuses(world.services)
    assert final[3] == "unknown" and {final[c] for c in (1, 2, 4, 5, 6)} == {"sent"}
    report = await world.services.broadcasts.report(queued.broadcast_id)
    assert report is not None and (report.delivered, report.unknown) == (5, 1)
