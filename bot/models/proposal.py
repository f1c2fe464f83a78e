"""Speaking-slot requests ("The floor is yours"): drafts, requests and their history.

The draft row IS the conversation's state: the current step and every answer so far are
written as each step is answered, so a restart (even a SIGKILL) loses nothing.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, UtcDateTime, utcnow


class ProposalDraft(Base):
    """One open draft per person: where they are in the conversation and what they typed."""

    __tablename__ = "proposal_drafts"
    # Ids are never reused (SQLite would reuse the highest after a delete): a summary button
    # carries its draft's id, and must not match a later draft.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    step: Mapped[str] = mapped_column(String(16))
    # Set while one field is changed from the summary: the next answer goes back to it.
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(100))
    organization: Mapped[str | None] = mapped_column(String(150))
    sector: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    format_id: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    session_id: Mapped[str | None] = mapped_column(String(32))
    # A question typed at a text step ("when is the event?") is answered, not saved as the
    # answer; it waits here in case the person meant it as the answer after all (one tap).
    held: Mapped[str | None] = mapped_column(String(300))
    # Set when the person goes elsewhere (/start, the menu, another area): their typed text is
    # a question until /propose or one of the draft's own buttons takes them back to it.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    # The update whose answer was applied last: the same update handled again (a worker killed
    # after the commit, its update taken over) changes nothing.
    last_update_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Proposal(Base):
    """A submitted request. Personal fields are emptied when the person asks to be forgotten."""

    __tablename__ = "proposals"
    # A reference (FS-0007) is never given twice.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(100))
    organization: Mapped[str | None] = mapped_column(String(150))
    sector: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    format_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    # The chosen session; None means "no preference".
    session_id: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    forgotten_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The card in the organizers' group, edited when the request is decided or withdrawn.
    organizer_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    organizer_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The draft it was submitted from (draft ids are never reused): Submit handled again, after
    # a worker died before its answer left, finds the request it made instead of nothing.
    draft_id: Mapped[int | None] = mapped_column(Integer)

    # The history the card and the undo read. Never loaded behind a query's back (an async
    # session cannot): a query whose result is shown says selectinload(Proposal.events).
    events: Mapped[list[ProposalEvent]] = relationship(
        back_populates="proposal",
        order_by="ProposalEvent.id",
        cascade="all, delete-orphan",
        lazy="raise",
    )

    @property
    def reference(self) -> str:
        return reference_of(self.id)


class ProposalEvent(Base):
    """Every state change: which state, who made it (Telegram id) and when."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # What the organizer wrote to the speaker with this change (a decline's reason).
    note: Mapped[str | None] = mapped_column(Text)
    # When the speaker was told of this change (None: not told, e.g. they blocked the bot).
    told_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    proposal: Mapped[Proposal] = relationship(back_populates="events", lazy="raise")


class DecisionPrompt(Base):
    """An organizer's next message is awaited: a decline's reason, or a message to the speaker.

    Kept here rather than in memory, so any worker takes that message; one per organizer.
    """

    __tablename__ = "decision_prompts"

    actor_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    # "decline" (the text is the reason) or "message" (the text goes to the speaker as is).
    action: Mapped[str] = mapped_column(String(16))
    # Where the text is expected: the private chat, or the organizers' group.
    chat_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


def reference_of(proposal_id: int) -> str:
    """The reference people quote: FS-0007."""
    return f"FS-{proposal_id:04d}"
