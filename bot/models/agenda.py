"""My agenda: the sessions each person saved (the chat and the Mini App share these rows)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UtcDateTime, utcnow


class SavedSession(Base):
    """One session saved by one person."""

    __tablename__ = "saved_sessions"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    saved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
