"""Broadcasts: compose them, queue them (BroadcastService: one delivery row per recipient),
and report how they went. Delivering them is bot/broadcast_sender.py's work.

Nothing here knows Telegram.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import affected
from bot.i18n import LANGUAGES, normalize_language
from bot.models import Base, Broadcast, BroadcastDraft, Delivery, User
from bot.models.base import utcnow
from bot.models.broadcast import BroadcastKind, BroadcastStatus, DeliveryStatus

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
ALL = "all"
SPEAKERS = "speakers"
LANGUAGE_PREFIX = "lang:"
TEXT_WAIT = dt.timedelta(hours=1)  # after a bare /broadcast, how long the text is awaited


def audiences(with_speakers: bool) -> list[str]:
    """Every audience an admin can pick, in the order the buttons show them."""
    speakers = [SPEAKERS] if with_speakers else []
    return [ALL, *speakers, *(f"{LANGUAGE_PREFIX}{lang}" for lang in LANGUAGES)]


def proposals_table() -> Table | None:
    """The speaking-request table, when that part of the bot is installed."""
    return Base.metadata.tables.get("proposals")


def is_valid_audience(audience: str) -> bool:
    return audience in audiences(with_speakers=proposals_table() is not None)


def text_problem(text: str) -> str | None:
    """Why this text cannot be broadcast (a catalog key suffix), or None."""
    if not text.strip():
        return "empty"
    if len(text) > MESSAGE_LIMIT:
        return "too_long"
    return None


# -- reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BroadcastReport:
    """Where one broadcast stands: the admin's progress message and /broadcasts show this."""

    broadcast_id: int
    text: str
    audience: str
    language: str
    total: int
    delivered: int
    blocked: int
    failed: int
    unknown: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    kind: str = BroadcastKind.ANNOUNCEMENT

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def handled(self) -> int:
        return self.delivered + self.blocked + self.failed + self.unknown

    @property
    def seconds(self) -> int:
        end = self.finished_at or utcnow()
        return max(0, round((end - self.created_at).total_seconds()))


async def report_of(session: AsyncSession, broadcast: Broadcast) -> BroadcastReport:
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.broadcast_id == broadcast.id)
        .group_by(Delivery.status)
    )
    counts: dict[str, int] = {status: count for status, count in rows}
    return BroadcastReport(
        broadcast_id=broadcast.id,
        text=broadcast.text,
        audience=broadcast.audience,
        language=broadcast.language,
        total=broadcast.total,
        delivered=counts.get(DeliveryStatus.SENT, 0),
        blocked=counts.get(DeliveryStatus.BLOCKED, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
        unknown=counts.get(DeliveryStatus.UNKNOWN, 0),
        created_at=broadcast.created_at,
        finished_at=broadcast.finished_at,
        progress_chat_id=broadcast.progress_chat_id,
        progress_message_id=broadcast.progress_message_id,
        kind=broadcast.kind,
    )


# -- composing and queueing -------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    broadcast_id: int
    recipients: int


class BroadcastService:
    """Audiences, the queue (one transaction per broadcast), reports and counts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # Set by the application to wake this worker's sender when something is queued (the
        # sender of another worker finds it at its next look, within a second).
        self.on_queued: Callable[[], None] | None = None

    @staticmethod
    def audiences() -> list[str]:
        return audiences(with_speakers=proposals_table() is not None)

    async def recipients(self, session: AsyncSession, audience: str) -> list[int]:
        """Reachable subscribers in `audience` (never someone unsubscribed or blocked)."""
        if not is_valid_audience(audience):
            raise ValueError(f"unknown audience {audience!r}")
        query = select(User.id, User.chosen_language, User.telegram_language).where(
            User.subscribed.is_(True), User.blocked_at.is_(None)
        )
        table = proposals_table()
        if audience == SPEAKERS and table is not None:
            query = query.where(
                User.id.in_(select(table.c.user_id).where(table.c.user_id.is_not(None)))
            )
        rows = (await session.execute(query.order_by(User.id))).all()
        if audience.startswith(LANGUAGE_PREFIX):
            lang = audience.removeprefix(LANGUAGE_PREFIX)
            # The language rule lives in Python (User.language): apply the same one here.
            return [uid for uid, chosen, tg in rows if (chosen or normalize_language(tg)) == lang]
        return [uid for uid, _, _ in rows]

    async def count(self, audience: str) -> int:
        async with self._sessions() as session:
            return len(await self.recipients(session, audience))

    async def enqueue(
        self,
        *,
        admin_id: int,
        text: str,
        audience: str,
        language: str,
        progress_chat_id: int | None = None,
        progress_message_id: int | None = None,
    ) -> Queued:
        """The broadcast row and one delivery per recipient, all or nothing."""
        problem = text_problem(text)
        if problem:
            raise ValueError(f"broadcast text is {problem}")
        async with self._sessions.begin() as session:
            queued = await self._enqueue(
                session,
                admin_id=admin_id,
                text=text,
                audience=audience,
                language=language,
                progress_chat_id=progress_chat_id,
                progress_message_id=progress_message_id,
            )
        if self.on_queued is not None:
            self.on_queued()
        return queued

    async def _enqueue(
        self,
        session: AsyncSession,
        *,
        admin_id: int,
        text: str,
        audience: str,
        language: str,
        progress_chat_id: int | None,
        progress_message_id: int | None,
    ) -> Queued:
        recipients = await self.recipients(session, audience)
        broadcast = Broadcast(
            admin_id=admin_id,
            text=text,
            audience=audience,
            language=language,
            status=BroadcastStatus.SENDING,
            total=len(recipients),
            progress_chat_id=progress_chat_id,
            progress_message_id=progress_message_id,
            created_at=utcnow(),
        )
        session.add(broadcast)
        await session.flush()
        if recipients:
            await session.execute(
                insert(Delivery),
                [
                    {
                        "broadcast_id": broadcast.id,
                        "user_id": uid,
                        "status": DeliveryStatus.PENDING.value,
                    }
                    for uid in recipients
                ],
            )
        else:
            broadcast.status = BroadcastStatus.DONE
            broadcast.finished_at = utcnow()
        return Queued(broadcast.id, len(recipients))

    # -- the admin's composition (one row per admin: any worker takes the next step) ----------

    async def composition(self, admin_id: int) -> BroadcastDraft | None:
        """What this admin is composing, if anything (a text awaited only for a while)."""
        async with self._sessions() as session:
            draft = await session.get(BroadcastDraft, admin_id)
        if draft is not None and draft.awaiting_text and utcnow() - draft.updated_at > TEXT_WAIT:
            return None  # /broadcast long ago: their next message is not an announcement
        return draft

    async def compose(
        self, admin_id: int, *, text: str | None = None, audience: str | None = None
    ) -> BroadcastDraft | None:
        """Start over (no text: the next message is awaited), keep the text (then choose an
        audience), or set the audience of the text kept (None if there is no text)."""
        async with self._sessions.begin() as session:
            draft = await session.get(BroadcastDraft, admin_id, with_for_update=True)
            if audience is not None:
                if draft is None or not draft.text:
                    return None
                draft.audience = audience
            else:
                if draft is None:
                    draft = BroadcastDraft(admin_id=admin_id)
                    session.add(draft)
                draft.awaiting_text, draft.text, draft.audience = text is None, text, None
            draft.updated_at = utcnow()
        return draft

    async def discard(self, admin_id: int) -> bool:
        """Drop the composition; False if there was none."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(BroadcastDraft).where(BroadcastDraft.admin_id == admin_id)
            )
        return bool(affected(result))

    async def confirm(
        self,
        admin_id: int,
        *,
        language: str,
        progress_chat_id: int | None = None,
        progress_message_id: int | None = None,
    ) -> Queued | None:
        """ "Send": the composition becomes a queued broadcast, in one transaction.

        The composition is deleted in that transaction, so a second press (on any worker)
        finds nothing to send: None.
        """
        async with self._sessions.begin() as session:
            draft = await session.get(BroadcastDraft, admin_id, with_for_update=True)
            if draft is None or not draft.text or not draft.audience:
                return None
            if text_problem(draft.text) or not is_valid_audience(draft.audience):
                return None
            consumed = await session.execute(
                delete(BroadcastDraft).where(BroadcastDraft.admin_id == admin_id)
            )
            if affected(consumed) != 1:
                return None
            queued = await self._enqueue(
                session,
                admin_id=admin_id,
                text=draft.text,
                audience=draft.audience,
                language=language,
                progress_chat_id=progress_chat_id,
                progress_message_id=progress_message_id,
            )
        if self.on_queued is not None:
            self.on_queued()
        return queued

    async def resend_failed(self, broadcast_id: int) -> int:
        """Queue the broadcast again for the recipients it failed to reach (not the blocked,
        not the unconfirmed, not those since forgotten): how many."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.broadcast_id == broadcast_id,
                    Delivery.status == DeliveryStatus.FAILED,
                    Delivery.user_id.is_not(None),
                )
                .values(status=DeliveryStatus.PENDING, attempts=0, error=None)
            )
            count = affected(result)
            if count:
                await session.execute(
                    update(Broadcast)
                    .where(Broadcast.id == broadcast_id)
                    .values(status=BroadcastStatus.SENDING, finished_at=None)
                )
        if count and self.on_queued is not None:
            self.on_queued()
        return count

    async def report(self, broadcast_id: int) -> BroadcastReport | None:
        async with self._sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            return await report_of(session, broadcast) if broadcast else None

    async def recent(self, limit: int = 10) -> list[BroadcastReport]:
        """The latest announcements, newest first, with their counts."""
        async with self._sessions() as session:
            broadcasts = (
                await session.scalars(
                    select(Broadcast)
                    .where(Broadcast.kind == BroadcastKind.ANNOUNCEMENT)  # not My agenda's sends
                    .order_by(Broadcast.id.desc())
                    .limit(limit)
                )
            ).all()
            return [await report_of(session, b) for b in broadcasts]

    async def totals(self) -> tuple[int, int]:
        """(broadcasts, messages delivered) since the beginning."""
        async with self._sessions() as session:
            broadcasts = await session.scalar(select(func.count()).select_from(Broadcast))
            delivered = await session.scalar(
                select(func.count()).where(Delivery.status == DeliveryStatus.SENT)
            )
        return int(broadcasts or 0), int(delivered or 0)
