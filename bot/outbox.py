"""The outbox: notices that must arrive, written with the change that causes them.

    decide / withdraw / submit / forget  --one transaction-->  state change + outbox rows
    any worker: claim a row --> send --> sent | retried with backoff | failed (refused)

- A crash between the commit and the send loses nothing: the row waits, and a worker whose
  heartbeat expired has its claims taken over.
- A row is marked sent right after Telegram's answer; only a send whose outcome is unknown
  (the worker died in the middle) is ever sent again.
- What a notice says is decided when it is sent, from the database: a card posted after a
  decision shows the decision, and a card still on its way when its author used /forget is
  posted anonymized.
- Notices of one request go out in order, one at a time (a card is posted before it is
  edited).
- A claim its holder lost track of is taken back: an outcome the database could not take (it
  was away for a moment) is written again before anything else is claimed, and a row left
  `sending` under this worker's name that it is not working on (the claim's answer was lost)
  is claimed again. A live worker never leaves a notice stuck until a restart.

Nothing here knows Telegram: bot/outbox_sender.py sends, through handlers/outbox_sender.py
(which renders each notice as the database has it when it leaves).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.claims import ClaimQueue
from bot.db import affected, autocommit
from bot.models import OutboxNotice
from bot.models.base import utcnow

CARD: Final = "card"
SPEAKER: Final = "speaker"
GROUP: Final = "group"
# A reply that failed after its quick retries (handlers/transport.py), kept to be sent again:
# `key` is the Bot API method, `values["params"]` its parameters as they were sent.
REPLY: Final = "reply"
PENDING: Final = "pending"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
GIVE_UP_AFTER: Final = dt.timedelta(minutes=30)  # transient failures are retried this long
BACKOFF: Final = (2.0, 5.0, 15.0, 30.0, 60.0)  # seconds between tries
KEEP_SENT: Final = dt.timedelta(days=7)


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str
    proposal_id: int | None
    key: str | None
    values: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    created_at: dt.datetime | None = None


def add(
    session: AsyncSession,
    kind: str,
    *,
    proposal_id: int | None = None,
    key: str | None = None,
    **values: Any,
) -> None:
    """Queue a notice in the caller's transaction (it exists only if the change commits)."""
    session.add(
        OutboxNotice(
            kind=kind,
            proposal_id=proposal_id,
            key=key,
            values=json.dumps(values, ensure_ascii=False) if values else None,
            status=PENDING,
            attempts=0,
            created_at=utcnow(),
        )
    )


async def cancel_pending(session: AsyncSession, proposal_id: int, kind: str) -> int:
    """Withdraw notices not sent yet (an undone decision whose speaker was not told)."""
    result = await session.execute(
        delete(OutboxNotice).where(
            OutboxNotice.proposal_id == proposal_id,
            OutboxNotice.kind == kind,
            OutboxNotice.status == PENDING,
        )
    )
    return affected(result)


QUEUE: Final = ClaimQueue(
    OutboxNotice,
    OutboxNotice.id,
    OutboxNotice.status,
    pending=PENDING,
    claimed=SENDING,
    claimed_by=OutboxNotice.claimed_by,
)


def _spent(notice: Notice) -> dict[str, Any]:
    """What a finished notice no longer needs: a kept reply's text (it may name people)."""
    return {"values": None} if notice.kind == REPLY else {}


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
        self._sessions = sessions
        self.worker = worker
        self._held: set[int] = set()  # claimed, outcome not written yet
        self._unwritten: dict[int, tuple[Notice, dict[str, Any]]] = {}  # outcome to write again

    async def claim(self, limit: int) -> list[Notice]:
        """Notices due now, one per request at a time, marked as this worker's (one
        statement, bot/claims.py)."""
        for notice, values in list(self._unwritten.values()):
            await self._set(notice, **values)
        now = utcnow()
        other = aliased(OutboxNotice)
        earlier_open = exists().where(
            other.proposal_id == OutboxNotice.proposal_id,
            other.id < OutboxNotice.id,
            other.status.in_((PENDING, SENDING)),
        )
        async with autocommit(self._sessions) as session:  # one statement
            rows = await QUEUE.claim(
                session,
                worker=self.worker,
                held=self._held,
                ready=(
                    or_(OutboxNotice.not_before.is_(None), OutboxNotice.not_before <= now),
                    or_(OutboxNotice.proposal_id.is_(None), ~earlier_open),
                ),
                limit=limit,
                values={"attempts": OutboxNotice.attempts + 1},
                returning=(
                    OutboxNotice.kind,
                    OutboxNotice.proposal_id,
                    OutboxNotice.key,
                    OutboxNotice.values,
                    OutboxNotice.attempts,
                    OutboxNotice.created_at,
                ),
            )
        self._held.update(row.id for row in rows)
        return [
            Notice(
                row.id,
                row.kind,
                row.proposal_id,
                row.key,
                json.loads(row.values) if row.values else {},
                row.attempts,
                row.created_at,
            )
            for row in rows
        ]

    def lost_track(self) -> None:
        """The caller stopped midway (the database went away): the notices it claimed and did
        not finish are taken back at the next claim; outcomes not written yet stay to write."""
        self._held = set(self._unwritten)

    async def keep_reply(self, method: str, params: dict[str, Any]) -> None:
        """A reply that could not be delivered now: sent again later, with back-off."""
        async with self._sessions.begin() as session:
            add(session, REPLY, key=method, params=params)

    async def sent(self, notice: Notice) -> None:
        await self._set(notice, status=SENT, sent_at=utcnow(), error=None, **_spent(notice))

    async def retry(self, notice: Notice, error: str, *, after: float | None = None) -> bool:
        """Try again later (a transient failure); False once it is given up (failed)."""
        created = notice.created_at or utcnow()
        if utcnow() - created > GIVE_UP_AFTER:
            await self.failed(notice, f"gave up after retries: {error}")
            return False
        pause = after if after is not None else BACKOFF[min(notice.attempts, len(BACKOFF)) - 1]
        await self._set(
            notice,
            status=PENDING,
            claimed_by=None,
            error=error[:200],
            not_before=utcnow() + dt.timedelta(seconds=pause),
        )
        return True

    async def failed(self, notice: Notice, error: str) -> None:
        """Final: Telegram refused it (400, 403)."""
        await self._set(notice, status=FAILED, error=error[:200], **_spent(notice))

    async def _set(self, notice: Notice, **values: Any) -> None:
        """Record the outcome; kept to be written again if the database cannot take it now."""
        self._unwritten[notice.id] = (notice, values)
        async with self._sessions.begin() as session:
            await QUEUE.complete(session, notice.id, self.worker, **values)
        del self._unwritten[notice.id]
        self._held.discard(notice.id)

    async def waiting(self) -> int:
        """Notices not sent yet, due or not."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OutboxNotice.id).where(OutboxNotice.status.in_((PENDING, SENDING)))
            )
            return len(list(rows))

    async def prune(self) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(OutboxNotice).where(
                    OutboxNotice.status == SENT, OutboxNotice.sent_at < utcnow() - KEEP_SENT
                )
            )
