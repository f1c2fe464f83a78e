"""AgendaService: the sessions a person saved, free of Telegram types.

The rows are the state: the chat's ☆ Save buttons and the Mini App's toggles write the same
ones, and any worker reads them.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content, Session
from bot.db import insert_for
from bot.models.agenda import SavedSession
from bot.models.base import utcnow
from bot.schedule import ProgrammeTracker, ReminderPlanner, overlapping

DEFAULT_RATE = 25.0  # BROADCAST_RATE's default: reminders share the broadcasts' pace


class AgendaService:
    """Saved sessions; their reminders (`reminders`) and the programme's changes (`changes`)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], rate: float = DEFAULT_RATE
    ) -> None:
        self._sessions = sessions
        self.reminders = ReminderPlanner(sessions, rate)
        self.changes = ProgrammeTracker(sessions)

    async def save(self, user_id: int, session_id: str) -> None:
        """Save a session (saving it twice is the same as once)."""
        async with self._sessions.begin() as session:
            await session.execute(
                insert_for(session, SavedSession)
                .values(user_id=user_id, session_id=session_id, saved_at=utcnow())
                .on_conflict_do_nothing(index_elements=["user_id", "session_id"])
            )

    async def unsave(self, user_id: int, session_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(SavedSession).where(
                    SavedSession.user_id == user_id, SavedSession.session_id == session_id
                )
            )

    async def toggle(self, user_id: int, session_id: str) -> bool:
        """Save it if it was not saved, else remove it: whether it is saved now."""
        if await self.is_saved(user_id, session_id):
            await self.unsave(user_id, session_id)
            return False
        await self.save(user_id, session_id)
        return True

    async def is_saved(self, user_id: int, session_id: str) -> bool:
        async with self._sessions() as session:
            found = await session.get(SavedSession, (user_id, session_id))
        return found is not None

    async def saved(self, user_id: int) -> set[str]:
        """The ids of the sessions this person saved (content order is the caller's)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SavedSession.session_id).where(SavedSession.user_id == user_id)
            )
            return set(rows)

    async def agenda(self, user_id: int, content: Content) -> tuple[list[Session], set[str]]:
        """This person's saved sessions that still exist, in time order, and the ids of those
        that overlap another saved one."""
        saved = await self.saved(user_id)
        sessions = [s for s in content.sessions if s.id in saved]
        return sessions, overlapping(sessions)

    async def toggle_and_plan(self, user_id: int, session_id: str, content: Content) -> bool:
        """The ☆ Save / ★ Saved button: toggle, then add or cancel its reminder."""
        saved = await self.toggle(user_id, session_id)
        await self.reminders.sync(content, user_id)
        return saved

    async def forget(self, user_id: int) -> None:
        """/forget: every saved session of this person."""
        async with self._sessions.begin() as session:
            await session.execute(delete(SavedSession).where(SavedSession.user_id == user_id))
