"""UserService: who talks to the bot, in which language, and whether they want broadcasts.

Recording a contact never delays a reply. `contact()` answers from memory (the languages
people chose are loaded at start-up) and queues the write; the queue is written within
`flush_delay` seconds, all of it in one statement. Every method that reads people writes the
queue first, and so do /forget, a broadcast's audience and shutting down, so nothing reads a
stale list. A hard crash loses at most the last second of first contacts: those people are
recorded again at their next message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Executable, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import LANGUAGES, normalize_language
from bot.models import User
from bot.models.base import utcnow


@dataclass(frozen=True)
class SubscriberStats:
    active: int
    unsubscribed: int
    blocked: int
    by_language: dict[str, int]


@dataclass(frozen=True)
class Contact:
    telegram_language: str | None
    at: dt.datetime


log = logging.getLogger(__name__)
FLUSH_DELAY = 1.0  # seconds a contact may wait before it is written


class UserService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], flush_delay: float = FLUSH_DELAY
    ) -> None:
        self._sessions = sessions
        self._flush_delay = flush_delay
        self._chosen: dict[int, str] = {}  # user id -> language chosen with /language
        self._pending: dict[int, Contact] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()

    async def load(self) -> None:
        """Read the languages people chose, so that `contact()` needs no database."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(User.id, User.chosen_language).where(User.chosen_language.is_not(None))
            )
            self._chosen = {user_id: lang for user_id, lang in rows if lang}

    def contact(self, user_id: int, telegram_language: str | None) -> str:
        """Note that this person wrote (creating them on first sight); return their language.

        The write is queued (see the module docstring); the answer comes from memory.
        """
        self._pending[user_id] = Contact(telegram_language, utcnow())
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._flush_delay, self._start_flush)
        return self.known_language(user_id, telegram_language)

    def known_language(self, user_id: int, telegram_language: str | None) -> str:
        """The language chosen with /language, else the one Telegram reports."""
        return self._chosen.get(user_id) or normalize_language(telegram_language)

    def _start_flush(self) -> None:
        self._flush_handle = None
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_logged())

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:
            # The contacts stay queued for the next try; the bot goes on answering.
            log.exception("Could not record %d contact(s); will retry", len(self._pending))
            if self._flush_handle is None and self._pending:
                loop = asyncio.get_running_loop()
                self._flush_handle = loop.call_later(self._flush_delay, self._start_flush)

    async def flush(self) -> None:
        """Write the queued contacts, in one statement (an upsert)."""
        async with self._writing:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            try:
                async with self._sessions.begin() as session:
                    await session.execute(self._upsert(session), _rows(batch))
            except BaseException:
                # Newer contacts of the same people win over the batch that failed.
                self._pending = {**batch, **self._pending}
                raise

    async def _write_person(self, user_id: int, **values: object) -> None:
        """Set some of a person's fields, creating them if needed: one statement.

        A contact of theirs still queued does not matter: it only sets the fields of a
        contact (Telegram's language, when), whichever is written first.
        """
        now = utcnow()
        row = {"id": user_id, "subscribed": True, "first_seen": now, "last_seen": now, **values}
        async with self._sessions.begin() as session:
            statement = _insert(session).values(row)
            await session.execute(
                statement.on_conflict_do_update(index_elements=[_users().c.id], set_=values)
            )

    @staticmethod
    def _upsert(session: AsyncSession) -> Executable:
        statement = _insert(session)
        table = _users()
        return statement.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={
                "telegram_language": statement.excluded.telegram_language,
                "last_seen": statement.excluded.last_seen,
                # They wrote to us again, so they have unblocked the bot.
                "blocked_at": None,
            },
        )

    async def close(self) -> None:
        """Stop the timer and write what is queued (shutting down)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._flush_task is not None:
            await asyncio.gather(self._flush_task, return_exceptions=True)
        await self.flush()

    async def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        await self._write_person(user_id, chosen_language=language)
        self._chosen[user_id] = language

    async def get(self, user_id: int) -> User | None:
        await self.flush()
        async with self._sessions() as session:
            return await session.get(User, user_id)

    async def language_of(self, user_id: int, default: str = "en") -> str:
        user = await self.get(user_id)
        return user.language if user else default

    async def set_subscribed(self, user_id: int, subscribed: bool) -> None:
        """/stop and /subscribe: whether this person receives broadcasts."""
        await self._write_person(user_id, subscribed=subscribed)

    async def is_subscribed(self, user_id: int) -> bool:
        user = await self.get(user_id)
        return user is None or user.subscribed

    async def mark_blocked(self, user_id: int) -> None:
        """Telegram said this person blocked the bot: skip them until they write again."""
        await self.flush()
        async with self._sessions.begin() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id, User.blocked_at.is_(None))
                .values(blocked_at=utcnow())
            )

    async def subscriber_stats(self) -> SubscriberStats:
        """Counts for /stats: reachable subscribers (and their languages), the others."""
        await self.flush()
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(
                        User.subscribed,
                        User.blocked_at.is_not(None),
                        User.chosen_language,
                        User.telegram_language,
                    )
                )
            ).all()
        by_language = dict.fromkeys(LANGUAGES, 0)
        active = unsubscribed = blocked = 0
        for subscribed, is_blocked, chosen, telegram in rows:
            if is_blocked:
                blocked += 1
            elif not subscribed:
                unsubscribed += 1
            else:
                active += 1
                by_language[chosen or normalize_language(telegram)] += 1
        return SubscriberStats(active, unsubscribed, blocked, by_language)

    async def forget(self, user_id: int) -> None:
        """Drop what is known of this person in memory (/forget deletes the rest)."""
        async with self._writing:  # a batch being written may hold them: wait for it
            self._pending.pop(user_id, None)
            self._chosen.pop(user_id, None)

    @staticmethod
    def due_for_touch(last_touch: dt.datetime | None, now: dt.datetime) -> bool:
        """Refresh `last_seen` at most every ten minutes per person: one write, not one per tap."""
        return last_touch is None or now - last_touch > dt.timedelta(minutes=10)


def _rows(batch: dict[int, Contact]) -> list[dict[str, object]]:
    return [
        {
            "id": user_id,
            "telegram_language": contact.telegram_language,
            "subscribed": True,
            "first_seen": contact.at,
            "last_seen": contact.at,
        }
        for user_id, contact in batch.items()
    ]


def _users() -> Table:
    table = User.__table__
    assert isinstance(table, Table)
    return table


def _insert(session: AsyncSession) -> sqlite.Insert | postgresql.Insert:
    """INSERT with ON CONFLICT, in the dialect of the session's database."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_users())
