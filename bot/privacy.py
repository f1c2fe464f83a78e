"""What the bot stores about a person, and forgetting all of it (/privacy, /forget).

Stored per person: the Telegram numeric id, Telegram's language code and the chosen language,
when they were first and last seen, whether they want updates and whether they blocked the
bot; one delivery row per broadcast sent to them; and, if they asked for a speaking slot, their
request and draft (owned by the proposals service, which withdraws and anonymizes them).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.i18n import plain
from bot.models import Broadcast, BroadcastDraft, Delivery, SavedSession, User


def retention(content: Content, lang: str) -> str:
    """How long personal data is kept, one promise for /privacy and the consent step: the
    event's `data_retention` (content/event.yaml), or the catalog's default."""
    promise = content.event.data_retention
    return promise.get(lang) if promise else plain("truth.retention.default", lang)


class RequestEraser(Protocol):
    """The part of ProposalService that /forget needs."""

    async def forget_person(self, user_id: int) -> list[str]:
        """Withdraw open requests, anonymize the rest, delete drafts: the withdrawn references."""
        ...


class ContactQueue(Protocol):
    """The part of UserService that /forget needs: contacts not written yet."""

    async def forget(self, user_id: int) -> None: ...


class PrivacyService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], contacts: ContactQueue | None = None
    ) -> None:
        self._sessions = sessions
        self._contacts = contacts

    async def forget(self, user_id: int, requests: RequestEraser | None = None) -> list[str]:
        """Delete everything naming `user_id`; return the references of withdrawn requests."""
        if self._contacts is not None:
            await self._contacts.forget(user_id)  # before the delete: nothing writes them back
        withdrawn = await requests.forget_person(user_id) if requests is not None else []
        async with self._sessions.begin() as session:
            await session.execute(delete(Delivery).where(Delivery.user_id == user_id))
            await session.execute(delete(SavedSession).where(SavedSession.user_id == user_id))
            await session.execute(delete(BroadcastDraft).where(BroadcastDraft.admin_id == user_id))
            # An admin's announcements stay (others received them), without their id.
            await session.execute(
                update(Broadcast)
                .where(or_(Broadcast.admin_id == user_id, Broadcast.progress_chat_id == user_id))
                .values(admin_id=None, progress_chat_id=None, progress_message_id=None)
            )
            await session.execute(delete(User).where(User.id == user_id))
        return withdrawn
