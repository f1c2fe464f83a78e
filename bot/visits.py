"""What every update needs to know first, read from the database in one statement.

Any worker may receive the next update of anyone, so nothing about a person is kept in a
worker between two updates: each update reads the content version (to follow a /reload made
on another worker), the person's row (their language; creating them on their first private
message) and whether they have a speaking-slot draft (their text may be its answer). One
SELECT for the three, and a write only when something changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import BigInteger, BindParameter, Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db import insert_for
from bot.i18n import LANGUAGES, normalize_language
from bot.models import ContentVersion, ProposalDraft, User
from bot.models.base import utcnow

CONTENT_ROW: Final = 1
# `last_seen` is refreshed at most this often per person: one write, not one per tap.
TOUCH_INTERVAL: Final = dt.timedelta(minutes=10)


def known_language(code: str | None) -> str | None:
    """Telegram's `language_code` if it is one of ours ("es-ES" -> "es"), else None.

    Telegram sends what the person's app says; a forged update may send anything (20
    characters, a NUL): only a language the bot speaks is ever stored.
    """
    if not code:
        return None
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


@dataclass(frozen=True)
class Visit:
    content_version: int | None
    language: str
    has_draft: bool  # a draft being filled in (not one left for the menu)


def _lookup() -> Select[Any]:
    """One SELECT, no FROM of its own: each value is a subquery (None when absent)."""
    user_id: BindParameter[int] = bindparam("user_id", type_=BigInteger)

    def person(column: Any) -> Any:
        return select(column).where(User.id == user_id).scalar_subquery()

    return select(
        select(ContentVersion.version)
        .where(ContentVersion.id == CONTENT_ROW)
        .scalar_subquery()
        .label("version"),
        select(ProposalDraft.id)
        .where(ProposalDraft.user_id == user_id, ProposalDraft.paused.is_(False))
        .limit(1)
        .scalar_subquery()
        .label("draft"),
        person(User.chosen_language).label("chosen_language"),
        person(User.telegram_language).label("telegram_language"),
        person(User.blocked_at).label("blocked_at"),
        person(User.last_seen).label("last_seen"),
    )


LOOKUP: Final = _lookup()  # built once: building a statement costs about as much as running it


async def visit(
    session: AsyncConnection | AsyncSession,
    user_id: int,
    telegram_language: str | None,
    *,
    private: bool,
) -> Visit:
    """Read (and, in a private chat, record) the person behind an update, on a connection in
    a transaction (plain statements: no ORM session is needed for them)."""
    telegram = known_language(telegram_language)
    row = (await session.execute(LOOKUP, {"user_id": user_id})).one()
    now = utcnow()
    has_draft = row.draft is not None
    if row.last_seen is None:  # not known yet
        if private:
            await session.execute(
                insert_for(session, User)
                .values(
                    id=user_id,
                    telegram_language=telegram,
                    subscribed=True,
                    first_seen=now,
                    last_seen=now,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        return Visit(row.version, normalize_language(telegram), has_draft)
    last_seen = as_utc(row.last_seen)
    if private and (
        row.blocked_at is not None  # they wrote to us again: they unblocked the bot
        or (telegram is not None and row.telegram_language != telegram)
        or now - last_seen > TOUCH_INTERVAL
    ):
        values: dict[str, object] = {"last_seen": now, "blocked_at": None}
        if telegram is not None:
            values["telegram_language"] = telegram
        await session.execute(update(User).where(User.id == user_id).values(**values))
    language = row.chosen_language or normalize_language(row.telegram_language)
    return Visit(row.version, language, has_draft)


def as_utc(value: object) -> dt.datetime:
    """A timestamp read through a subquery: SQLite may hand it back as text or naive."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
