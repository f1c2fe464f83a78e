"""Broadcasts and their durable delivery queue: one row per recipient, drained in the background.

A delivery row moves pending -> sending -> sent | blocked | failed. A row found in `sending`
when the sender starts was interrupted by a crash between "claim" and "mark": whether Telegram
got it cannot be known, so it becomes `unknown` and is never resent (see bot/broadcasts.py).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UtcDateTime, utcnow


class BroadcastStatus(StrEnum):
    SENDING = "sending"
    DONE = "done"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    UNKNOWN = "unknown"


class BroadcastKind(StrEnum):
    """What a broadcast row is: an admin's announcement, or one of My agenda's sends."""

    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"  # one batch per (session, its time, minutes before): bot/schedule.py
    CHANGE_NOTICE = "change_notice"  # one per programme revision, sent once an admin confirms


class Broadcast(Base):
    """One announcement: its text, who it was for, and where its progress is shown."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Emptied if that admin asks to be forgotten; the announcement itself stays.
    admin_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(
        String(16), default=BroadcastKind.ANNOUNCEMENT, server_default="announcement"
    )
    # Identifies a reminder batch or a programme revision's notices: created once, whatever
    # the number of workers (NULL for announcements).
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    audience: Mapped[str] = mapped_column(String(16))
    # The admin's language, for the progress message and the report.
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.SENDING, index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Delivery(Base):
    """The announcement for one recipient; unique per (broadcast, person): never queued twice."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        # Nobody gets the same reminder (person, session, session time) or the same change
        # notice twice, even across batches; NULL (announcements) never collides.
        UniqueConstraint("user_id", "once_key", name="uq_deliveries_user_id_once_key"),
        Index("ix_deliveries_status_id", "status", "id"),
        Index("ix_deliveries_status_not_before", "status", "not_before"),
        Index("ix_deliveries_broadcast_id_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    # Emptied when the person asks to be forgotten: the row stays, so the counts do.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    # Failed attempts that may be retried (a flood-control wait is not one of them).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Set just before the request leaves: a row left `sending` without it was never tried.
    attempted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # My agenda's sends: this person's text in their language (else the broadcast's text), the
    # time before which it must not be sent (a reminder's fan-out start), and its once-key.
    text: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    once_key: Mapped[str | None] = mapped_column(String(160))
