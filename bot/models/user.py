"""The people who talk to the bot: language choice and subscription survive restarts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.i18n import normalize_language
from bot.models.base import Base, UtcDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Telegram's language_code at the last contact, and the one chosen with /language.
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    chosen_language: Mapped[str | None] = mapped_column(String(8))
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes before a saved session its reminder comes: 10, 15 or 30; 0 = no reminders.
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    blocked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    first_seen: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def language(self) -> str:
        return self.chosen_language or normalize_language(self.telegram_language)
