"""Backoff: how a background loop waits when its work keeps failing (the database is away).

Every loop of a worker (the update runner, polling, the outbox, the broadcast sender, the
heartbeat) goes through the database; when PostgreSQL restarts or a SQLite disk is full, each
turn fails the same way. Without a pause that grows, a loop spins (tens of thousands of
tracebacks a second) and buries the one line the operator needs. So each loop owns a Backoff:

    try: work()                 -> backoff.recovered()   one INFO line if it was failing
    except Exception as error:  -> await backoff.pause(error)

- the pause doubles from `first` up to `cap` seconds, jittered (several workers coming back
  together do not knock on the database in step);
- one WARNING line when an outage begins (with the traceback only if the error is not a lost
  database: that one is a bug), one INFO line when the work goes through again; the failures
  in between are DEBUG.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Final

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

FIRST_PAUSE: Final = 0.5  # seconds after the first failure
MAX_PAUSE: Final = 5.0  # seconds: an outage's end is noticed within this much

Sleep = Callable[[float], Awaitable[None]]


def database_down(error: object) -> bool:
    """The database cannot be reached or written (restarting, failing over, the network, a
    full disk): a passing outage, not a bug in the bot."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        (
            OperationalError,
            InterfaceError,
            ConnectionError,
            TimeoutError,
            sqlite3.OperationalError,
        ),
    )


class Backoff:
    """The growing pause of one loop, and its two log lines per outage."""

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        *,
        first: float = FIRST_PAUSE,
        cap: float = MAX_PAUSE,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.what = what
        self.first = first
        self.cap = cap
        self.sleep = sleep
        self._log = logger
        self._clock = clock
        self._jitter = jitter
        self.failures = 0
        self._since = 0.0

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> float:
        """Count a failure (logged if it begins an outage); the seconds to wait before the
        next try: between half and all of first * 2^(failures - 1), at most `cap`."""
        if not self.failures:
            self._since = self._clock()
            self._log.warning(
                "%s failed (%s: %s); retrying with back-off, quiet until it works again",
                self.what,
                type(error).__name__,
                str(error).splitlines()[0][:300] if str(error) else "",
                exc_info=None if database_down(error) else error,
            )
        else:
            self._log.debug("%s failed again: %s", self.what, type(error).__name__)
        self.failures += 1
        ceiling = min(self.cap, self.first * 2 ** min(self.failures - 1, 30))
        return ceiling * (0.5 + 0.5 * self._jitter())

    def recovered(self) -> None:
        """The work went through: say so once if it had been failing, and start over."""
        if self.failures:
            self._log.info(
                "%s works again after %d failed tries over %.0f s",
                self.what,
                self.failures,
                self._clock() - self._since,
            )
            self.failures = 0

    async def pause(self, error: BaseException, stop: asyncio.Event | None = None) -> None:
        """Count the failure and wait before the next try; a `stop` set cuts the wait short."""
        delay = self.failed(error)
        if stop is None:
            await self.sleep(delay)
            return
        if stop.is_set():
            return
        sleeping = asyncio.ensure_future(self.sleep(delay))
        stopping = asyncio.ensure_future(stop.wait())
        _, pending = await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
