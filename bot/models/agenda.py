"""My agenda: the sessions each person saved (the chat and the Mini App share these rows)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UtcDateTime, utcnow


class SavedSession(Base):
    """One session saved by one person."""

    __tablename__ = "saved_sessions"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    saved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProgrammeSnapshot(Base):
    """The programme as last seen (one row): what /reload compares the new one with.

    `sessions` is JSON: session id -> its time, room, title, and a sequence number that grows
    with each change (the calendar files' SEQUENCE). `revision` makes each change a
    compare-and-set, so two workers never record (and notify) the same change twice.
    """

    __tablename__ = "programme_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
