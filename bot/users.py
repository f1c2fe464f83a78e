"""UserService: who talks to the bot, in which language, and whether they want broadcasts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
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
class Profile:
    user_id: int
    language: str
    subscribed: bool


class UserService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def touch(self, user_id: int, telegram_language: str | None) -> Profile:
        """Record a contact (creating the person on first sight) and return their profile."""
        now = utcnow()
        async with self._sessions.begin() as session:
            user = await session.get(User, user_id)
            if user is None:
                user = User(id=user_id, first_seen=now)
                session.add(user)
            user.telegram_language = telegram_language
            user.last_seen = now
            if user.blocked_at is not None:
                # They wrote to us again, so they have unblocked the bot.
                user.blocked_at = None
            return Profile(user.id, user.language, user.subscribed)

    async def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self._sessions.begin() as session:
            (await _get_or_create(session, user_id)).chosen_language = language

    async def get(self, user_id: int) -> User | None:
        async with self._sessions() as session:
            return await session.get(User, user_id)

    async def language_of(self, user_id: int, default: str = "en") -> str:
        user = await self.get(user_id)
        return user.language if user else default

    async def set_subscribed(self, user_id: int, subscribed: bool) -> None:
        """/stop and /subscribe: whether this person receives broadcasts."""
        async with self._sessions.begin() as session:
            (await _get_or_create(session, user_id)).subscribed = subscribed

    async def is_subscribed(self, user_id: int) -> bool:
        user = await self.get(user_id)
        return user is None or user.subscribed

    async def mark_blocked(self, user_id: int) -> None:
        """Telegram said this person blocked the bot: skip them until they write again."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id, User.blocked_at.is_(None))
                .values(blocked_at=utcnow())
            )

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

    @staticmethod
    def due_for_touch(last_touch: dt.datetime | None, now: dt.datetime) -> bool:
        """Refresh `last_seen` at most every ten minutes per person: one write, not one per tap."""
        return last_touch is None or now - last_touch > dt.timedelta(minutes=10)


async def _get_or_create(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        user = User(id=user_id)
        session.add(user)
    return user
