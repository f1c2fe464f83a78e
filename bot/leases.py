"""A role that one worker holds at a time, through a row that expires: the sending role.

Telegram allows a bot about 30 messages per second, whatever the number of processes behind
it. Only the worker holding the sending role sends broadcasts (and later reminders and
notices), at one pace; the other workers only answer people. The holder renews the row every
few seconds; a worker that dies stops renewing, and another one takes the role over as soon
as the row has expired: within `LEASE_TTL` seconds, with no restart.

Each change is one conditional statement (a compare-and-set), the same on SQLite and
PostgreSQL, so two workers can never both believe they took it. Expiry times are compared
across workers: their clocks must agree to a second or so (NTP), as on any server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from typing import Final

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backoff import Backoff
from bot.db import affected, insert_for
from bot.models import Lease
from bot.models.base import utcnow

log = logging.getLogger(__name__)
SENDER_ROLE: Final = "broadcast-sender"
ALIVE_PREFIX: Final = "alive:"  # every worker's heartbeat: "alive:<worker name>"
LEASE_TTL: Final = 6.0  # seconds a holder that stopped renewing keeps the role
LEASE_RETRY: Final = 1.0  # seconds between two tries of a worker waiting for the role


def worker_name() -> str:
    """This process, recognizably in the database: host, pid and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SendingRole:
    """The lease row `name`, held by `holder` until it expires."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        holder: str,
        ttl: float = LEASE_TTL,
        name: str = SENDER_ROLE,
    ) -> None:
        self._sessions = sessions
        self.holder = holder
        self.ttl = dt.timedelta(seconds=ttl)
        self.renew_every = ttl / 3
        self.name = name
        self._expires_at: dt.datetime | None = None

    async def acquire(self) -> bool:
        """Take the role if it is free, expired, or already ours."""
        now = utcnow()
        expires = now + self.ttl
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(Lease)
                .where(
                    Lease.name == self.name,
                    or_(Lease.holder == self.holder, Lease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=expires)
            )
            if not affected(taken):
                created = await session.execute(
                    insert_for(session, Lease)
                    .values(name=self.name, holder=self.holder, expires_at=expires)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                if not affected(created):
                    return False
        self._expires_at = expires
        return True

    async def renew(self) -> bool:
        """Push the expiry on; False if another worker has taken the role meanwhile."""
        expires = utcnow() + self.ttl
        async with self._sessions.begin() as session:
            renewed = await session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(expires_at=expires)
            )
        if not affected(renewed):
            self._expires_at = None
            return False
        self._expires_at = expires
        return True

    def expired(self) -> bool:
        """Whether our hold has run out (when the database cannot be asked)."""
        return self._expires_at is None or utcnow() >= self._expires_at

    async def release(self) -> None:
        """Stopping: let the next worker take the role at once."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(expires_at=utcnow() - dt.timedelta(seconds=1))
            )
        self._expires_at = None


def alive_workers(now: dt.datetime) -> Select[str]:
    """The workers whose heartbeat has not expired: what they claimed is still theirs."""
    return select(Lease.holder).where(Lease.name.startswith(ALIVE_PREFIX), Lease.expires_at > now)


class Heartbeat:
    """This worker's heartbeat: while it is renewed, the updates and notices it claimed are
    its own; once it has expired (the worker died), other workers take them over."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
        self.lease = SendingRole(sessions, worker, name=f"{ALIVE_PREFIX}{worker}")
        self.backoff = Backoff("Renewing this worker's heartbeat", log, cap=self.lease.renew_every)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.lease.acquire()
        self._task = asyncio.create_task(self._beat(), name="worker-heartbeat")

    async def _beat(self) -> None:
        delay = self.lease.renew_every
        while True:
            await self.backoff.sleep(delay)
            try:
                if not await self.lease.renew():
                    await self.lease.acquire()  # it expired while the database was away
            except Exception as error:
                delay = self.backoff.failed(error)  # sooner than the usual pace, at most it
                continue
            self.backoff.recovered()
            delay = self.lease.renew_every

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.lease.release()
        except Exception as error:
            log.warning("Could not end this worker's heartbeat (it expires): %s", error)
