"""What the bot stores about a person, and forgetting all of it (/privacy, /forget).

Stored per person: the Telegram numeric id, Telegram's language code and the chosen language,
when they were first and last seen, whether they want updates and whether they blocked the
bot; one delivery row per broadcast sent to them (forgetting keeps it, without their id, so
that the broadcast's report and /stats do not change); and, if they asked for a speaking slot,
their request and draft (withdrawn and anonymized by bot/proposals/queries.py's
`erase_requests`, given at start-up, in the same transaction).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.content import Content
from bot.i18n import plain
from bot.live import LIVE_TABLES, forget_person
from bot.models import Broadcast, BroadcastDraft, Delivery, InboxUpdate, SavedSession, User
from bot.models.broadcast import DeliveryStatus

# Deliveries not sent yet: forgetting someone drops theirs (nothing more goes to them).
UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)

# The tables /forget changes: vacuumed afterwards on PostgreSQL.
FORGET_TABLES = (
    "users",
    "deliveries",
    "broadcasts",
    "broadcast_drafts",
    "saved_sessions",
    "inbox",
    "proposals",
    "proposal_drafts",
    "proposal_events",
    "decision_prompts",
    *LIVE_TABLES,
)


def retention(content: Content, lang: str) -> str:
    """How long personal data is kept, one promise for /privacy and the consent step: the
    event's `data_retention` (content/event.yaml), or the catalog's default."""
    promise = content.event.data_retention
    return promise.get(lang) if promise else plain("truth.retention.default", lang)


class RequestEraser(Protocol):
    """Erases a person's part in the speaking-slot requests, in the caller's transaction
    (bot/proposals/queries.py `erase_requests`): the references of the requests withdrawn."""

    async def __call__(self, session: AsyncSession, user_id: int, /) -> list[str]: ...


class PrivacyService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        erase_requests: RequestEraser,
        engine: AsyncEngine | None = None,
    ) -> None:
        self._sessions = sessions
        self._erase_requests = erase_requests
        self._engine = engine

    async def forget_everything(self, user_id: int) -> list[str]:
        """/forget: delete everything naming `user_id`, in ONE transaction (a failure half-way
        erases nothing); return the references of the requests withdrawn.

        Then no file keeps a trace: see `scrub`.
        """
        async with self._sessions.begin() as session:
            withdrawn = await self._erase_requests(session, user_id)
            await self._erase_person(session, user_id)
        await self.scrub()
        return withdrawn

    async def _erase_person(self, session: AsyncSession, user_id: int) -> None:
        """Their row, saved sessions, deliveries, compositions and stored updates."""
        await self._anonymize_deliveries(session, user_id)
        await session.execute(delete(SavedSession).where(SavedSession.user_id == user_id))
        await forget_person(session, user_id)  # live questions, votes, feedback
        await session.execute(delete(BroadcastDraft).where(BroadcastDraft.admin_id == user_id))
        # An admin's announcements stay (others received them), without their id.
        await session.execute(
            update(Broadcast)
            .where(or_(Broadcast.admin_id == user_id, Broadcast.progress_chat_id == user_id))
            .values(admin_id=None, progress_chat_id=None, progress_message_id=None)
        )
        await session.execute(delete(User).where(User.id == user_id))
        # The updates they sent (this one included): their payloads name them. Those not
        # processed yet stay, and lose their payload once processed.
        await session.execute(
            delete(InboxUpdate).where(
                InboxUpdate.user_id == user_id, InboxUpdate.status != "pending"
            )
        )

    @staticmethod
    async def _anonymize_deliveries(session: AsyncSession, user_id: int) -> None:
        """What was sent to them stays counted, without their id; what was not, goes (and
        no longer counts in its broadcast's total)."""
        unsent = await session.execute(
            select(Delivery.broadcast_id, func.count())
            .where(Delivery.user_id == user_id, Delivery.status.in_(UNSENT))
            .group_by(Delivery.broadcast_id)
        )
        for broadcast_id, count in unsent.all():
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(total=Broadcast.total - count)
            )
        await session.execute(
            delete(Delivery).where(Delivery.user_id == user_id, Delivery.status.in_(UNSENT))
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.user_id == user_id)
            .values(user_id=None, text=None, error=None, once_key=None, claimed_at=None)
        )

    async def scrub(self) -> None:
        """Leave no trace of deleted rows in the database files.

        SQLite: deleted content is overwritten with zeros (secure_delete, bot/db.py); the
        write-ahead log, which still holds the old pages, is copied back and emptied.
        PostgreSQL: VACUUM frees the dead row versions of the tables touched, so that their
        space is reused (docs/DEPLOYING.md says what stays in the WAL and for how long).
        """
        if self._engine is None:
            return
        backend = self._engine.dialect.name
        async with self._engine.connect() as connection:
            if backend == "sqlite":
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            elif backend == "postgresql":
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                for table in FORGET_TABLES:
                    await autocommit.exec_driver_sql(f"VACUUM {table}")
