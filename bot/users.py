"""UserService: who talks to the bot, in which language, and whether they want broadcasts.

Every update reads the person's row (one primary-key lookup) and writes it only when
something changed: their first message, Telegram's language, a return after a while, or a
message after they had blocked the bot. Nothing about a person is kept in this process:
any worker answers anyone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import insert_for
from bot.i18n import LANGUAGES, normalize_language
from bot.models import User
from bot.models.base import utcnow
from bot.proposals.conversation import pause_draft
from bot.visits import Visit
from bot.visits import visit as record_visit


@dataclass(frozen=True)
class SubscriberStats:
    active: int
    unsubscribed: int
    blocked: int
    by_language: dict[str, int]


log = logging.getLogger(__name__)


class UserService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def visit(
        self,
        user_id: int,
        telegram_language: str | None,
        *,
        private: bool,
        leaving: bool = False,
    ) -> Visit:
        """Every update's first step, in one transaction: the content version, the person
        (recorded in a private chat), whether their draft takes their text. `leaving`: they
        went elsewhere (/start, a menu button), so their draft waits for /propose or its own
        buttons, and their text is a question until then."""
        async with self._sessions.begin() as session:
            seen = await record_visit(session, user_id, telegram_language, private=private)
            if seen.has_draft and leaving:
                await pause_draft(session, user_id)
                seen = replace(seen, has_draft=False)
        return seen

    async def contact(
        self, user_id: int, telegram_language: str | None, *, private: bool = True
    ) -> str:
        """This person wrote to the bot: record them (in a private chat) and return their
        language. The same as each update does first (bot/visits.py), in a transaction of
        its own."""
        async with self._sessions.begin() as session:
            return (
                await record_visit(session, user_id, telegram_language, private=private)
            ).language

    async def _write_person(self, user_id: int, **values: object) -> None:
        """Set some of a person's fields, creating them if needed: one statement."""
        now = utcnow()
        row = {"id": user_id, "subscribed": True, "first_seen": now, "last_seen": now, **values}
        async with self._sessions.begin() as session:
            statement = insert_for(session, User).values(row)
            await session.execute(
                statement.on_conflict_do_update(index_elements=["id"], set_=values)
            )

    async def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        await self._write_person(user_id, chosen_language=language)

    async def get(self, user_id: int) -> User | None:
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

    async def mark_blocked(self, user_id: int, *, unsubscribe: bool = False) -> None:
        """Telegram refused a message to this person (or told us they blocked the bot, then
        `unsubscribe`): skipped by broadcasts until they write again (and /subscribe).

        Only a person the bot knows is changed: nobody is created (nor re-created after
        /forget) by blocking.
        """
        values: dict[str, object] = {"blocked_at": utcnow()}
        if unsubscribe:
            values["subscribed"] = False
        async with self._sessions.begin() as session:
            await session.execute(update(User).where(User.id == user_id).values(**values))

    async def mark_unblocked(self, user_id: int) -> None:
        """This person unblocked the bot: reachable again, but not subscribed by that alone."""
        async with self._sessions.begin() as session:
            await session.execute(update(User).where(User.id == user_id).values(blocked_at=None))

    async def subscriber_stats(self) -> SubscriberStats:
        """Counts for /stats: reachable subscribers (and their languages), the others."""
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
