"""One claim queue: rows that workers take, work on, and mark done, on SQLite and PostgreSQL.
The inbox (updates), the outbox (notices) and the broadcast deliveries are each one of these.

    pending --claim: one statement--> claimed (by this worker) --complete: compare-and-set--> ...
    claimed by a worker whose heartbeat expired, or that lost track of it --> claimed again

- On PostgreSQL a claim is ONE statement, one round trip: `WITH chosen AS (SELECT ... LIMIT n
  FOR UPDATE SKIP LOCKED) UPDATE ... WHERE key IN chosen RETURNING ...`: two workers claiming
  at the same moment get different rows and never wait for each other. On SQLite (one
  writer at a time) the rows are read first, then a guarded UPDATE (`WHERE key IN (...) AND
  still claimable`) is the compare-and-set: an idle look never takes the write lock.
  Run a claim in its own unit of work (bot/db.py `autocommit`): on SQLite a read followed by
  a write in one transaction fails at once if another writer committed in between.
- The outcome of a claim is written only while the claim is still the worker's (status
  claimed, and `claimed_by` this worker where the table has one): a worker that was taken
  over (its heartbeat expired while it was stuck) cannot overwrite the new holder's work.
- Takeover: a claimed row whose `claimed_by` is no live worker (bot/leases.py heartbeats), or
  is this worker while it is not working on it (the answer to its claim, or its outcome, was
  lost in a database blip), is claimable again. A table without `claimed_by` (deliveries:
  one sender holds the sending role) recovers its claims when the role changes hands.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db import affected
from bot.leases import alive_workers
from bot.models.base import utcnow


@dataclass(frozen=True)
class ClaimQueue:
    """A table as a queue: its key, its status column and values, its claimant column."""

    model: type[Any]
    key: InstrumentedAttribute[Any]
    status: InstrumentedAttribute[Any]
    pending: str
    claimed: str
    claimed_by: InstrumentedAttribute[Any] | None = None

    def lost(self, worker: str, held: Collection[Any]) -> ColumnElement[bool]:
        """Claimed rows whose claim no longer stands: nobody's, a dead worker's, or this
        worker's own that it is not working on (`held` is what it is working on)."""
        if self.claimed_by is None:
            return false()
        return and_(
            self.status == self.claimed,
            or_(
                self.claimed_by.is_(None),
                self.claimed_by.not_in(alive_workers(utcnow())),
                and_(self.claimed_by == worker, self.key.not_in(held)),
            ),
        )

    def claimable(self, worker: str, held: Collection[Any]) -> ColumnElement[bool]:
        """Waiting, or claimed by a claim that no longer stands."""
        return or_(self.status == self.pending, self.lost(worker, held))

    async def claim(
        self,
        session: AsyncSession,
        *,
        worker: str,
        held: Collection[Any] = (),
        ready: Iterable[ColumnElement[bool]] = (),
        order_by: Sequence[Any] = (),
        limit: int,
        values: dict[str, Any] | None = None,
        returning: Sequence[Any] = (),
    ) -> list[Row[Any]]:
        """Up to `limit` claimable rows that are `ready`, first in `order_by`, now this
        worker's (with `values` set); their key and `returning` columns, in key order."""
        claimable = self.claimable(worker, held)
        chosen: Any = (
            select(self.key)
            .where(claimable, *ready)
            .order_by(*(order_by or (self.key,)))
            .limit(limit)
        )
        if session.get_bind().dialect.name == "sqlite":
            # Read first: an idle look takes no write lock (SQLite has one writer, and the
            # loops look often); then the guarded UPDATE below is the compare-and-set.
            keys = list(await session.scalars(chosen))
            if not keys:
                return []
            chosen = keys
        else:
            chosen = select(
                chosen.with_for_update(skip_locked=True, of=self.model)
                # Chosen once: as a plain IN (subquery), PostgreSQL may run the SELECT again
                # for each row it updates, and SKIP LOCKED would then take more than `limit`.
                .cte("chosen")
                .prefix_with("MATERIALIZED")
                .c[0]
            )
        mine = {self.claimed_by.key: worker} if self.claimed_by is not None else {}
        result = await session.execute(
            update(self.model)
            .where(self.key.in_(chosen), claimable)
            .values(status=self.claimed, **mine, **(values or {}))
            .returning(self.key, *returning)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.all(), key=lambda row: row[0])

    def still_mine(self, key: Any, worker: str | None) -> ColumnElement[bool]:
        """The row is claimed, and by this worker where the table says who claimed it."""
        guard = and_(self.key == key, self.status == self.claimed)
        if self.claimed_by is not None:
            guard = and_(guard, self.claimed_by == worker)
        return guard

    async def complete(
        self, session: AsyncSession, key: Any, worker: str | None, **values: Any
    ) -> bool:
        """Compare-and-set: write the claim's outcome if the claim is still this worker's;
        False if it is not (taken over, or finished already)."""
        result = await session.execute(
            update(self.model)
            .where(self.still_mine(key, worker))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def complete_many(
        self, session: AsyncSession, keys: Collection[Any], worker: str | None, **values: Any
    ) -> int:
        """`complete` for several claims in one statement: how many were still this worker's."""
        if not keys:
            return 0
        guard = and_(self.key.in_(keys), self.status == self.claimed)
        if self.claimed_by is not None:
            guard = and_(guard, self.claimed_by == worker)
        result = await session.execute(
            update(self.model)
            .where(guard)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def release(
        self, session: AsyncSession, key: Any, worker: str | None, **values: Any
    ) -> bool:
        """Give a claim back: the row is waiting again (another turn takes it)."""
        mine = {self.claimed_by.key: None} if self.claimed_by is not None else {}
        return await self.complete(session, key, worker, status=self.pending, **mine, **values)
