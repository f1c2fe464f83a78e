"""The inbox: every update is stored before Telegram is told it arrived, then processed once.

    Telegram --webhook POST or getUpdates--> store (update_id unique) --commit--> 200 / offset
    inbox row --claimed by one worker--> processed --> done (payload dropped)

- A worker killed with updates in hand loses none: they are rows, and another worker (or the
  same one restarted) claims them once the dead worker's heartbeat has expired.
- A redelivered update (Telegram retries a webhook answered late) meets its own row and is
  dropped: processed once.
- Updates of one chat are processed in order, one at a time, whichever worker takes them;
  different chats go in parallel.
- The payload (names, texts) is dropped as soon as the update is processed; the row stays a
  day for the duplicate check, then is pruned.

Nothing here knows Telegram's types: updates are the JSON objects Telegram sends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from sqlalchemy import Row, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.backoff import database_down
from bot.claims import ClaimQueue
from bot.db import affected, autocommit, insert_for
from bot.leases import ALIVE_PREFIX, alive_workers
from bot.models import InboxUpdate, Lease
from bot.models.base import utcnow

log = logging.getLogger(__name__)

PENDING: Final = "pending"
PROCESSING: Final = "processing"
DONE: Final = "done"
SKIPPED: Final = "skipped"  # the library could not read it: logged once, never retried
KEEP_DONE: Final = dt.timedelta(days=1)  # how long a processed update_id is remembered
MAX_ATTEMPTS: Final = 3  # an update whose processing killed its worker this often is skipped
UNREADABLE: Final = "focusbot_unreadable"  # the key of a stub kept for an unstorable update
LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Received:
    update_id: int
    payload: dict[str, Any]
    attempts: int


def owner_of(payload: dict[str, Any]) -> tuple[int | None, int | None]:
    """(chat key, user id) of a raw update: its chat, else its sender."""
    for kind, body in payload.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        sender = body.get("from")
        user_id = sender.get("id") if isinstance(sender, dict) else None
        chat = body.get("chat")
        if not isinstance(chat, dict):
            message = body.get("message")
            chat = message.get("chat") if isinstance(message, dict) else None
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        key = chat_id if isinstance(chat_id, int) else user_id
        return _int64(key), _int64(user_id)
    return None, None


def _int64(value: object) -> int | None:
    """An id a BIGINT column holds, else None (a forged update may carry anything)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def _row(payload: dict[str, Any]) -> dict[str, Any]:
    chat_key, user_id = owner_of(payload)
    return {
        "update_id": payload["update_id"],
        "chat_key": chat_key,
        "user_id": user_id,
        "payload": serialized(payload),
        "status": PENDING,
        "attempts": 0,
        "received_at": utcnow(),
    }


def serialized(payload: dict[str, Any]) -> str:
    """The update as JSON a database can store: a lone surrogate (half of a UTF-16 pair, which
    Telegram passes on from some clients as "\\ud800") is not Unicode text, and no UTF-8
    column takes it; it becomes U+FFFD (the replacement character), the rest is kept."""
    try:
        return orjson.dumps(payload).decode()  # the common case, several times json's speed
    except (orjson.JSONEncodeError, TypeError):
        pass  # a lone surrogate (orjson refuses it), or an integer beyond 64 bits
    text = json.dumps(payload, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        log.warning(
            "Update %s carried text that is not valid Unicode: kept with U+FFFD in its place",
            payload.get("update_id"),
        )
        text = LONE_SURROGATE.sub("\ufffd", text)
    return text


def language_of(payload: dict[str, Any]) -> str | None:
    """The sender's language_code, if the update has one."""
    for body in payload.values():
        sender = body.get("from") if isinstance(body, dict) else None
        if isinstance(sender, dict) and isinstance(sender.get("language_code"), str):
            return str(sender["language_code"])[:10]
    return None


def unreadable_stub(payload: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an update that could not be stored: its id and whom to tell."""
    chat_key, _user_id = owner_of(payload)
    return {
        "update_id": payload["update_id"],
        UNREADABLE: {"chat_id": chat_key, "language_code": language_of(payload)},
    }


def unreadable(received: Received) -> tuple[int | None, str | None] | None:
    """(chat id, language) of an update kept as an "unreadable" stub; None for any other."""
    stub = received.payload.get(UNREADABLE)
    if not isinstance(stub, dict):
        return None
    chat_id, lang = stub.get("chat_id"), stub.get("language_code")
    return _int64(chat_id), lang if isinstance(lang, str) else None


QUEUE: Final = ClaimQueue(
    InboxUpdate,
    InboxUpdate.update_id,
    InboxUpdate.status,
    pending=PENDING,
    claimed=PROCESSING,
    claimed_by=InboxUpdate.claimed_by,
)


class Inbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
        self._sessions = sessions
        self.worker = worker
        # Claimed and not finished: a row `processing` under this worker's name that is not
        # here was lost track of (the claim's answer or the release was lost in a database
        # blip): it is taken back like a dead worker's, else its chat would wait for good.
        self._held: set[int] = set()

    async def store(self, payloads: list[dict[str, Any]]) -> list[int]:
        """Keep these updates (in one transaction); the ids that were new (not redelivered).

        Raises only when the database is away (the batch is then fetched or posted again).
        An update the database refuses is never allowed to hold back the others: it is kept
        as an "unreadable" stub (its chat is told), with one log line.
        """
        if not payloads:
            return []
        try:
            return await self._insert([_row(payload) for payload in payloads])
        except Exception as error:
            if database_down(error):
                raise
            if len(payloads) == 1:
                return await self._store_stub(payloads[0], error)
        # Which one was refused? Each on its own, so that the good ones are kept.
        new: list[int] = []
        for payload in payloads:
            try:
                new += await self._insert([_row(payload)])
            except Exception as error:
                if database_down(error):
                    raise
                new += await self._store_stub(payload, error)
        return new

    async def _store_stub(self, payload: dict[str, Any], error: Exception) -> list[int]:
        log.warning(
            "Update %s could not be stored (%s): skipped, its chat is told",
            payload["update_id"],
            type(error).__name__,
        )
        chat_key, user_id = owner_of(payload)
        stub = {**_row(unreadable_stub(payload)), "chat_key": chat_key, "user_id": user_id}
        return await self._insert([stub])

    async def _insert(self, rows: list[dict[str, Any]]) -> list[int]:
        new: list[int] = []
        # One update (the webhook's case) is one statement: committed on its own.
        unit = autocommit(self._sessions) if len(rows) == 1 else self._sessions.begin()
        async with unit as session:
            for row in rows:  # one by one: RETURNING with ON CONFLICT, on every backend
                stored = await session.execute(
                    insert_for(session, InboxUpdate)
                    .values(row)
                    .on_conflict_do_nothing(index_elements=["update_id"])
                    .returning(InboxUpdate.update_id)
                )
                new.extend(stored.scalars())
        return new

    async def claim(
        self, limit: int, finished: Mapping[int, bool] | None = None
    ) -> list[Received]:
        """Up to `limit` updates this worker may process now, marked as its own (one
        statement, bot/claims.py); first, in the same transaction, the updates it has
        `finished` (update_id -> skipped) are marked so (one statement).

        An update is ready when no earlier update of its chat is still waiting or being
        processed; one held by a worker whose heartbeat expired is taken over.
        """
        finished = dict(finished or {})
        if limit <= 0 and not finished:
            return []
        alive = alive_workers(utcnow())
        earlier = aliased(InboxUpdate)
        unfinished_before = exists().where(
            earlier.chat_key == InboxUpdate.chat_key,
            earlier.update_id < InboxUpdate.update_id,
            earlier.status.in_((PENDING, PROCESSING)),
        )
        busy_chat = exists().where(
            earlier.chat_key == InboxUpdate.chat_key,
            earlier.update_id != InboxUpdate.update_id,
            earlier.status == PROCESSING,
            earlier.claimed_by.in_(alive),
        )
        # Each statement commits on its own (no BEGIN/COMMIT round trips): "done" stands
        # without the claim, and a claim is one statement.
        async with autocommit(self._sessions) as session:
            await self._finish_many(session, finished)
            rows: list[Row[Any]] = []
            if limit > 0:
                rows = await QUEUE.claim(
                    session,
                    worker=self.worker,
                    held=self._held,
                    ready=(
                        InboxUpdate.payload.is_not(None),
                        or_(InboxUpdate.chat_key.is_(None), ~unfinished_before & ~busy_chat),
                    ),
                    limit=limit,
                    values={"attempts": InboxUpdate.attempts + 1},
                    returning=(InboxUpdate.payload, InboxUpdate.attempts, InboxUpdate.chat_key),
                )
        self._held.difference_update(finished)
        # Mine from here (should the next lines fail, the next claim takes them back).
        self._held.update(row.update_id for row in rows)
        claimed: list[Received] = []
        chats: set[int] = set()
        for row in rows:
            if row.chat_key is not None and row.chat_key in chats:
                # One at a time per chat (the query's rule makes this rare: a safeguard).
                await self.release(row.update_id)
                continue
            if row.chat_key is not None:
                chats.add(row.chat_key)
            claimed.append(Received(row.update_id, orjson.loads(row.payload), row.attempts))
        return claimed

    async def release(self, update_id: int) -> None:
        """Give a claimed update back (another turn will take it)."""
        self._held.discard(update_id)  # if this fails, the next claim takes it back
        async with self._sessions.begin() as session:
            await QUEUE.release(session, update_id, self.worker, attempts=InboxUpdate.attempts - 1)

    async def finish(self, update_id: int, *, skipped: bool = False) -> None:
        """Processed (or unreadable): its payload is dropped; the id is remembered a day."""
        async with self._sessions.begin() as session:
            await self.finish_in(session, update_id, skipped=skipped)
        self._held.discard(update_id)

    async def finish_many(self, finished: Mapping[int, bool]) -> None:
        """Several processed updates (update_id -> skipped) marked so in one transaction."""
        async with self._sessions.begin() as session:
            await self._finish_many(session, finished)
        self._held.difference_update(finished)

    async def _finish_many(self, session: AsyncSession, finished: Mapping[int, bool]) -> None:
        for skipped in (False, True):
            await QUEUE.complete_many(
                session,
                [update_id for update_id, flag in finished.items() if flag is skipped],
                self.worker,
                status=SKIPPED if skipped else DONE,
                payload=None,
                claimed_by=None,
                processed_at=utcnow(),
            )

    async def finish_in(
        self, session: AsyncSession, update_id: int, *, skipped: bool = False
    ) -> bool:
        """`finish` in the caller's transaction; False if this worker's claim was taken over
        meanwhile (then the new holder finishes it)."""
        return await QUEUE.complete(
            session,
            update_id,
            self.worker,
            status=SKIPPED if skipped else DONE,
            payload=None,
            claimed_by=None,
            processed_at=utcnow(),
        )

    async def prune(self) -> int:
        """Forget the ids of updates processed more than a day ago, and the heartbeats of
        workers gone for as long (each start of a worker leaves one)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.status.in_((DONE, SKIPPED)),
                    InboxUpdate.processed_at < utcnow() - KEEP_DONE,
                )
            )
            await session.execute(
                delete(Lease).where(
                    Lease.name.startswith(ALIVE_PREFIX), Lease.expires_at < utcnow() - KEEP_DONE
                )
            )
        return affected(result)

    async def pending(self) -> int:
        """Updates stored and not processed yet."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).where(InboxUpdate.status.in_((PENDING, PROCESSING)))
            )
        return int(count or 0)
