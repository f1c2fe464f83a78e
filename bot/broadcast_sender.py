"""BroadcastSender: delivers the queued broadcasts (bot/broadcasts.py) at a steady rate.

Nothing here knows Telegram. The sender is given a `Transport` (`send(chat_id, text)`, which
translates the messenger's answers into the exceptions below; handlers/transport.py has
Telegram's), and a `progress(report)` coroutine that shows an admin how their broadcast is
going.

Exactly once, as far as it can be known
---------------------------------------
Each delivery is claimed (`pending` -> `sending`, one committed UPDATE) right before its
message is sent, and marked (`sent` / `blocked` / `failed`) in the transaction that follows
the API call's answer. So:

* A graceful stop (SIGTERM, `stop()`) stops claiming, lets the sends already in flight finish
  and be marked, and leaves nothing in `sending`: a restart resumes with the `pending` rows,
  and nobody gets the message twice or not at all.
* Right before the request leaves, the row is marked attempted (`attempted_at`). A hard
  crash (SIGKILL) between that mark and the answer's leaves at most `max_in_flight` attempted
  rows in `sending`. Telegram has no idempotency key, so whether those people got it cannot
  be known: the next holder of the sending role marks them `unknown` and does NOT resend (a
  possible miss for those few, shown in the admin's report as "unconfirmed", rather than a
  possible duplicate). Rows claimed but not attempted yet (waiting for their turn) certainly
  did not go: they are put back to `pending` and sent by the next holder. The same holds for
  a request that timed out after it was written (`OutcomeUnknown`).
* Failures where Telegram certainly did not deliver (flood control, connection refused, a 5xx)
  put the row back to `pending`; flood control waits exactly `retry_after` seconds and pauses
  every send meanwhile; other failures are retried with backoff for about 30 minutes
  (`max_attempts`), then counted as failed; an admin can resend to those (`resend_failed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backoff import Backoff
from bot.broadcasts import BroadcastReport, report_of
from bot.claims import ClaimQueue
from bot.db import affected, autocommit
from bot.leases import LEASE_RETRY, LEASE_TTL, SendingRole, worker_name
from bot.models import Broadcast, Delivery, User
from bot.models.base import utcnow
from bot.models.broadcast import BroadcastStatus, DeliveryStatus

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # Telegram: at most one message per second to the same chat
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
WallClock = Callable[[], dt.datetime]
Progress = Callable[[BroadcastReport], Awaitable[None]]


class DeliveryError(Exception):
    """A send that did not go through; the subclass says what to do about it."""


class RetryLater(DeliveryError):
    """Flood control: pause every send for exactly `seconds`, then retry this recipient."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class RecipientGone(DeliveryError):
    """Final: the bot was blocked, the chat does not exist or the account was deleted."""


class DeliveryRejected(DeliveryError):
    """Final: Telegram refused this message for this chat; retrying would not help."""


class OutcomeUnknown(DeliveryError):
    """The request may have reached Telegram (a read timeout): not retried, to never duplicate."""


class Transport(Protocol):
    """How the sender hands one message to the messenger: `await send(chat_id, text)`.

    The text goes as plain text, exactly as written. Returning means delivered. Otherwise it
    raises what happened: RetryLater (flood control: every send pauses), RecipientGone or
    DeliveryRejected (final), OutcomeUnknown (it may have arrived: never resent); any other
    exception is a failure where the message certainly did not go, retried with backoff.
    """

    async def __call__(self, chat_id: int, text: str, /) -> None: ...


# -- audiences --------------------------------------------------------------------------------


class TokenBucket:
    """`rate` tokens per second, at most `capacity` saved up; `reserve()` says how long to wait."""

    def __init__(self, rate: float, clock: Clock, capacity: float = 1.0) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()

    def reserve(self) -> float:
        """Take a token now (going into debt if need be): the seconds to wait before using it."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        return max(0.0, -self._tokens / self.rate)


# One sender at a time (the sending role): a delivery needs no claimant column; claims left
# by a holder that stopped are recovered when the role changes hands (recover_interrupted).
DELIVERIES = ClaimQueue(
    Delivery,
    Delivery.id,
    Delivery.status,
    pending=DeliveryStatus.PENDING,
    claimed=DeliveryStatus.SENDING,
)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    broadcast_id: int
    user_id: int
    text: str
    attempts: int


class BroadcastSender:
    """Drains pending deliveries in the background at `rate` messages per second overall.

    `clock` and `sleep` are injectable so tests run the real logic on a fake clock.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        send: Transport,
        *,
        rate: float,
        progress: Progress | None = None,
        progress_interval: float = 3.0,
        # A transient failure (5xx, a dropped connection) is tried again with backoff, up to
        # a minute apart: 36 tries span about 30 minutes, through an outage of Telegram's.
        max_attempts: int = 36,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        max_in_flight: int = 8,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        idle_poll: float = 1.0,
        holder: str | None = None,
        lease_ttl: float = LEASE_TTL,
        now: WallClock = utcnow,
    ) -> None:
        self._sessions = sessions
        self._send = send
        self._progress = progress
        self.progress_interval = progress_interval
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._now = now  # wall time, for scheduled deliveries (`not_before`)
        self._sleep = sleep
        self.idle_poll = idle_poll
        self.lease = SendingRole(sessions, holder or worker_name(), lease_ttl)
        self._renewing: asyncio.Task[None] | None = None
        self._bucket = TokenBucket(rate, clock)
        self._last_send_to: dict[int, float] = {}  # chat -> when it was last sent to
        self._retry_at: dict[int, float] = {}  # delivery -> not before (backoff)
        self._texts: dict[int, str] = {}  # broadcast -> its text (read once)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._pausing: set[asyncio.Task[None]] = set()
        self._pauses = 0
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self.outage = Backoff("The broadcast sender", log, sleep=sleep, clock=clock)
        self._renewal = Backoff("Renewing the sending role", log, clock=clock)
        self._recording = Backoff("Recording a broadcast delivery", log, clock=clock)
        self._last_progress = clock()
        self._task: asyncio.Task[None] | None = None
        self.sent_count = 0

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background (its own asyncio task, never inside an update's handler)."""
        if self._task is None:
            self._stopping = False
            self._stopped.clear()
            self._task = asyncio.create_task(self.run(), name="broadcast-sender")

    def request_stop(self) -> None:
        """Ask the loop to stop after the sends in flight (safe to call from inside a send)."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        self._resumed.set()
        for task in list(self._pausing):
            task.cancel()  # its row is already back to pending

    async def stop(self) -> None:
        """Graceful: no new claim; sends in flight finish and are marked; none left `sending`."""
        self.request_stop()
        if self._task is not None:
            await self._task
            self._task = None

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self) -> None:
        """Until nothing is pending (tests and the terminal chat use this)."""
        await self._idle.wait()

    async def run(self) -> None:
        """Deliver while this worker holds the sending role; wait for it otherwise."""
        try:
            while not self._stopping:
                try:
                    if await self._take_role():
                        await self._loop(until_idle=False)
                    else:
                        self.outage.recovered()
                        await self._nap(LEASE_RETRY, until_woken=True)
                except Exception as error:
                    # The database went away: wait longer each time (claims expire anyway).
                    await self.outage.pause(error, self._stopped)
        finally:
            await self._give_up_role()

    async def drain(self) -> None:
        """Deliver everything pending, then return (the caller owns the loop; used in tests)."""
        if not await self._take_role():
            raise RuntimeError("another worker holds the sending role")
        try:
            await self._loop(until_idle=True)
        finally:
            await self._give_up_role()

    async def _take_role(self) -> bool:
        """Hold the sending role: only its holder sends broadcasts, so the whole bot keeps to
        one pace whatever the number of workers. Taking it over from a worker that stopped
        renewing (it died) settles what that worker had in flight."""
        if not await self.lease.acquire():
            return False
        await self.recover_interrupted()
        self._renewing = asyncio.create_task(self._keep_role(), name="broadcast-lease")
        return True

    async def _keep_role(self) -> None:
        """Renew the role in real time (also through a long flood-control pause)."""
        while True:
            await asyncio.sleep(self.lease.renew_every)
            try:
                held = await self.lease.renew()
                self._renewal.recovered()
            except Exception as error:
                self._renewal.failed(error)  # logged once; tried again at the usual pace
                held = not self.lease.expired()
            if not held:
                log.warning("Another worker took the sending role over: stopping sending")
                self._wake.set()
                self._resumed.set()
                return

    def _holding(self) -> bool:
        return self._renewing is not None and not self._renewing.done()

    async def _give_up_role(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
            self._renewing = None
            try:
                await self.lease.release()  # the next worker need not wait for it to expire
            except Exception:
                log.exception("Could not release the sending role (it expires by itself)")

    async def recover_interrupted(self) -> int:
        """Rows left `sending` by a crash: those whose request had left become `unknown` (they
        might have been delivered); those never attempted go back to `pending`."""
        interrupted = Delivery.status == DeliveryStatus.SENDING
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Delivery)
                .where(interrupted, Delivery.attempted_at.is_not(None))
                .values(status=DeliveryStatus.UNKNOWN, error="interrupted: its worker stopped")
            )
            released = await session.execute(
                update(Delivery)
                .where(interrupted, Delivery.attempted_at.is_(None))
                .values(status=DeliveryStatus.PENDING, claimed_at=None)
            )
        count = affected(result)
        if count:
            log.warning("%d deliveries were interrupted by a crash: marked unknown", count)
        if again := affected(released):
            log.info("%d deliveries were claimed but never tried: pending again", again)
        return count

    # -- the loop -----------------------------------------------------------------------------

    async def _loop(self, *, until_idle: bool) -> None:
        try:
            while not self._stopping and self._holding():
                try:
                    if self.outage.failing:
                        await self._release_unattempted()
                    busy = await self._step()
                except Exception as error:
                    if until_idle:
                        raise
                    # A database hiccup must not end the broadcasts: wait, go on.
                    await self.outage.pause(error, self._stopped)
                    continue
                self.outage.recovered()
                if not busy:
                    if until_idle:
                        break
                    await self._nap(self.idle_poll, until_woken=True)
        finally:
            await self._finish_in_flight()

    async def _step(self) -> bool:
        """Send one message, or wait for something to do; False once everything is done."""
        # Cleared before looking, so a wake() arriving while we look is never lost.
        self._wake.clear()
        await self._resumed.wait()
        await self._report_if_due()
        if self._stopping or not self._holding():
            return True
        claim = await self._claim_next()
        if claim is not None:
            await self._dispatch(claim)
            return True
        if self._in_flight:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            return True
        if await self._pending_count():
            await self._nap(self._next_ready_in())
            return True
        await self._report()
        if not self._wake.is_set():
            self._idle.set()
        return False

    async def _dispatch(self, claim: Claim) -> None:
        """Wait for a token and a free slot, then send in a task of its own."""
        delay = self._bucket.reserve()
        if delay > 0:
            await self._sleep(delay)
        while len(self._in_flight) >= self.max_in_flight:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        await self._resumed.wait()  # a flood-control pause may have begun meanwhile
        # Marked attempted right before the request leaves (here, so that the database's
        # latency never shifts the send off its token's time); if the database cannot take
        # it, nothing is sent and the row goes back to pending as soon as it answers again.
        await self._attempting(claim)
        self._last_send_to[claim.user_id] = self._clock()
        task = asyncio.create_task(self._deliver(claim))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        # Let the send start now, at the time its token was for: the next claim may not
        # yield to the loop at all (SQLite runs in this thread, see bot/db.py).
        await asyncio.sleep(0)

    async def _finish_in_flight(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._report()

    async def _nap(self, seconds: float, *, until_woken: bool = False) -> None:
        """Sleep, but wake up at once for a stop (and for new work if `until_woken`)."""
        if until_woken:
            # Idle: real time, however the clock is faked; enqueue() wakes us at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        _, pending = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    def _cooling_chats(self) -> list[int]:
        now = self._clock()
        for chat_id, at in list(self._last_send_to.items()):
            if now - at >= PER_CHAT_INTERVAL:
                del self._last_send_to[chat_id]
        return list(self._last_send_to)

    def _backing_off(self) -> list[int]:
        now = self._clock()
        for delivery_id, at in list(self._retry_at.items()):
            if at <= now:
                del self._retry_at[delivery_id]
        return list(self._retry_at)

    def _next_ready_in(self) -> float:
        now = self._clock()
        times = [at + PER_CHAT_INTERVAL for at in self._last_send_to.values()]
        times += list(self._retry_at.values())
        return max(0.01, min(times) - now) if times else 0.1

    # -- the database side --------------------------------------------------------------------

    async def _claim_next(self) -> Claim | None:
        """The oldest pending delivery whose chat may be written to now, marked `sending`.

        Scheduled ones (reminders, change notices: `not_before` set) that are due go first,
        so a long announcement does not make a reminder late; then the unscheduled ones.
        """
        cooling, backing_off = self._cooling_chats(), self._backing_off()
        ready = (Delivery.user_id.not_in(cooling), Delivery.id.not_in(backing_off))
        returning = (Delivery.broadcast_id, Delivery.user_id, Delivery.text, Delivery.attempts)
        values = {"claimed_at": utcnow(), "attempted_at": None}
        async with autocommit(self._sessions) as session:  # each claim stands alone
            for when, order in (
                (Delivery.not_before <= self._now(), (Delivery.not_before, Delivery.id)),
                (Delivery.not_before.is_(None), (Delivery.id,)),
            ):
                rows = await DELIVERIES.claim(
                    session,
                    worker=self.lease.holder,
                    ready=(*ready, when),
                    order_by=order,
                    limit=1,
                    values=values,
                    returning=returning,
                )
                if rows:
                    row = rows[0]
                    text = row.text or await self._text_of(session, row.broadcast_id)
                    return Claim(row.id, row.broadcast_id, row.user_id, text, row.attempts)
        return None

    async def _text_of(self, session: AsyncSession, broadcast_id: int) -> str:
        """An announcement's text (the same for each of its deliveries, so read once)."""
        if broadcast_id not in self._texts:
            if len(self._texts) > 100:
                self._texts.clear()
            text = await session.scalar(select(Broadcast.text).where(Broadcast.id == broadcast_id))
            self._texts[broadcast_id] = text or ""
        return self._texts[broadcast_id]

    async def _release_unattempted(self) -> None:
        """After an outage: rows this holder claimed and never tried (the database failed
        between the claim and the attempt) go back to pending. Between two steps every row
        this holder claimed has been attempted, so any other is such a row."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.status == DeliveryStatus.SENDING, Delivery.attempted_at.is_(None))
                .values(status=DeliveryStatus.PENDING, claimed_at=None)
            )

    async def _mark(self, claim: Claim, status: DeliveryStatus, **values: object) -> None:
        async with self._sessions.begin() as session:
            await DELIVERIES.complete(session, claim.delivery_id, None, status=status, **values)
            if status is DeliveryStatus.BLOCKED:
                await session.execute(
                    update(User)
                    .where(User.id == claim.user_id, User.blocked_at.is_(None))
                    .values(blocked_at=utcnow())
                )

    async def _pending_count(self) -> int:
        """Pending deliveries that may be sent now (a reminder due later is not work yet)."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).where(
                    Delivery.status == DeliveryStatus.PENDING,
                    or_(Delivery.not_before.is_(None), Delivery.not_before <= self._now()),
                )
            )
        return int(count or 0)

    # -- one delivery -------------------------------------------------------------------------

    async def _deliver(self, claim: Claim) -> None:
        """Send one message and record what happened; never raises."""
        try:
            await self._send_and_mark(claim)
        except Exception as error:
            # Only the database can fail here; the row stays `sending` -> `unknown` at restart.
            self._recording.failed(error)  # logged once per outage
        else:
            self._recording.recovered()

    async def _attempting(self, claim: Claim) -> None:
        """Recorded before the request leaves: after a crash, only such a row may be unknown."""
        async with self._sessions.begin() as session:
            await DELIVERIES.complete(session, claim.delivery_id, None, attempted_at=utcnow())

    async def _send_and_mark(self, claim: Claim) -> None:
        try:
            await self._send(claim.user_id, claim.text)
        except RetryLater as exc:
            await self._mark(claim, DeliveryStatus.PENDING)
            await self._pause(exc.seconds)
        except RecipientGone as exc:
            await self._mark(claim, DeliveryStatus.BLOCKED, error=str(exc)[:200])
        except DeliveryRejected as exc:
            await self._mark(claim, DeliveryStatus.FAILED, error=str(exc)[:200])
        except OutcomeUnknown as exc:
            await self._mark(claim, DeliveryStatus.UNKNOWN, error=str(exc)[:200])
        except Exception as exc:
            await self._retry_or_fail(claim, exc)
        else:
            # Marked right after Telegram's answer: the crash window is this one await.
            self.sent_count += 1
            await self._mark(claim, DeliveryStatus.SENT, sent_at=utcnow())

    async def _retry_or_fail(self, claim: Claim, exc: Exception) -> None:
        attempts = claim.attempts + 1
        log.warning("Delivery %s failed (attempt %d): %s", claim.delivery_id, attempts, exc)
        if attempts >= self.max_attempts:
            await self._mark(
                claim, DeliveryStatus.FAILED, attempts=attempts, error=str(exc)[:200] or "error"
            )
            return
        pause = min(self.max_backoff, self.backoff * 2 ** min(attempts - 1, 20))
        self._retry_at[claim.delivery_id] = self._clock() + pause
        await self._mark(claim, DeliveryStatus.PENDING, attempts=attempts)

    async def _pause(self, seconds: float) -> None:
        """Flood control: no send at all for exactly `seconds` (a stop cuts it short)."""
        task = asyncio.current_task()
        self._pauses += 1
        self._resumed.clear()
        if task is not None:
            self._pausing.add(task)
        try:
            await self._sleep(seconds)
        except asyncio.CancelledError:
            pass
        finally:
            self._pausing.discard(task)  # type: ignore[arg-type]
            self._pauses -= 1
            if not self._pauses:
                self._resumed.set()

    # -- progress -----------------------------------------------------------------------------

    async def _report_if_due(self) -> None:
        if self._clock() - self._last_progress >= self.progress_interval:
            await self._report()

    async def _report(self) -> None:
        """Progress for each running broadcast; the final report for those now complete."""
        self._last_progress = self._clock()
        for report in await self._running_reports():
            await self._notify(report)

    async def _running_reports(self) -> list[BroadcastReport]:
        async with self._sessions.begin() as session:
            running = (
                await session.scalars(
                    select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING)
                )
            ).all()
            reports = []
            for broadcast in running:
                open_rows = await session.scalar(
                    select(func.count()).where(
                        Delivery.broadcast_id == broadcast.id, Delivery.status.in_(OPEN)
                    )
                )
                if not open_rows:
                    # Marked done before the report goes out: a crash now loses a message
                    # to the admin, never repeats it (and /broadcasts still has it).
                    broadcast.status = BroadcastStatus.DONE
                    broadcast.finished_at = utcnow()
                reports.append(await report_of(session, broadcast))
        return reports

    async def _notify(self, report: BroadcastReport) -> None:
        if self._progress is None:
            return
        try:
            await self._progress(report)
        except Exception:
            log.exception("Could not show the progress of broadcast %s", report.broadcast_id)
