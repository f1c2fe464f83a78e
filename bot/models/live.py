"""Live questions to a panel: questions, votes, moderators, the screen's key, feedback.

A vote is a row whose primary key is (question, person): counted once whatever worker takes
it, however many times it is pressed at the same moment. A count is always read from the
rows, never kept beside them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UtcDateTime, utcnow

# A person's question that still waits for its turn: at most one per session.
OPEN_STATES = ("pending", "approved")
OPEN_WHERE = text("status IN ('pending', 'approved')")


class LiveRoom(Base):
    """A session's live questions: open or closed (or following its time), moderation, the
    screen's secret, the pinned question, and whether its feedback request went out."""

    __tablename__ = "live_rooms"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "auto": open while the session is on (when the event has a date); "open"; "closed".
    state: Mapped[str] = mapped_column(String(8), default="auto")
    # None: the default for the session's kind (on for panels).
    moderated: Mapped[bool | None] = mapped_column(Boolean)
    screen_key: Mapped[str | None] = mapped_column(String(64))
    pinned_id: Mapped[int | None] = mapped_column(Integer)
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LiveQuestion(Base):
    __tablename__ = "live_questions"
    __table_args__ = (
        Index(
            "uq_live_questions_open",
            "session_id",
            "user_id",
            unique=True,
            sqlite_where=OPEN_WHERE,
            postgresql_where=OPEN_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # The name moderators see (the screen too, unless anonymous): Telegram's first name.
    author_name: Mapped[str] = mapped_column(String(64))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    # pending (waits for a moderator) | approved | hidden | answered
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveVote(Base):
    __tablename__ = "live_votes"

    question_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("live_questions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class LiveModerator(Base):
    """Someone an organizer named moderator of one session (organizers are, everywhere)."""

    __tablename__ = "live_moderators"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveInvite(Base):
    """A one-time link that makes whoever opens it first a session's moderator."""

    __tablename__ = "live_invites"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveInput(Base):
    """What a person's next typed text is for: a question, a feedback comment, or (a
    moderator) the reason a question was hidden. One per person; it expires."""

    __tablename__ = "live_inputs"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    purpose: Mapped[str] = mapped_column(String(12))  # question | comment | reason
    session_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(Integer)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveFeedback(Base):
    __tablename__ = "live_feedback"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stars: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveBoard(Base):
    """A moderator's ranked list as shown in their chat: edited (through the outbox) when a
    question arrives, a vote is cast or another moderator acts, so that it stays live."""

    __tablename__ = "live_boards"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8), default="en")
