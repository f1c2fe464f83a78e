"""State shared by every worker: the content version, the sending role, admins' compositions.

Any worker may receive any update, so what one worker learns that the others need is a row
here, never a variable in one process.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
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

    name: Mapped[str] = mapped_column(String(96), primary_key=True)
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


class InboxUpdate(Base):
    """An update from Telegram, stored before it is acknowledged, processed once.

    The payload is kept only until the update is processed; the row stays a day longer so
    that a redelivery of the same `update_id` is recognized and dropped.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_update_id", "status", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The chat (else the person) the update belongs to: updates of one chat are processed in
    # order, one at a time; None for updates that belong to nobody in particular.
    chat_key: Mapped[int | None] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class OutboxNotice(Base):
    """A message that must reach someone, written in the transaction of the change causing it.

    `kind`: "card" (the request's card in the organizers' group, posted or edited to the
    request's state at send time), "speaker" (a catalog message to the request's author, in
    their language at send time), "group" (a catalog message to the organizers' group).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    key: Mapped[str | None] = mapped_column(String(64))
    values: Mapped[str | None] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
