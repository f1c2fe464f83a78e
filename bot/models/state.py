"""State shared by every worker: the content version, the sending role, admins' compositions.

Any worker may receive any update, so what one worker learns that the others need is a row
here, never a variable in one process.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UtcDateTime, utcnow


class ContentVersion(Base):
    """One row: bumped by /reload, so every worker re-reads the content folder."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # A digest of the files, to warn when a worker's folder differs from the one reloaded.
    digest: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Lease(Base):
    """A role only one worker may hold at a time (the broadcast sender), until it expires.

    The holder renews it every few seconds; a worker that dies stops renewing, and another
    takes the role over once `expires_at` has passed.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class BroadcastDraft(Base):
    """An announcement an admin is composing: its text, then its audience, then "Send"."""

    __tablename__ = "broadcast_drafts"

    admin_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # True between a bare /broadcast and the admin's next message (the announcement's text).
    awaiting_text: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
