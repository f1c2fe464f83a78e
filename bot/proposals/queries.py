"""Reading speaking-slot requests: one, a person's, a state's queue, the counts, the CSV export;
and erasing a person's part in them (/forget), in the caller's transaction."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Final, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import outbox
from bot.content import Content
from bot.models import Proposal, ProposalDraft, ProposalEvent
from bot.models.base import utcnow
from bot.models.proposal import DecisionPrompt
from bot.proposals.states import OPEN_STATES, ProposalState, change_state

# Spreadsheets run cells starting with these as formulas (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


class ContentSource(Protocol):
    @property
    def content(self) -> Content: ...


class ProposalQueries:
    """Requests as organizers and their authors read them; every one with its history."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], source: ContentSource) -> None:
        self._sessions = sessions
        self._source = source

    @property
    def content(self) -> Content:
        return self._source.content

    async def get(self, proposal_id: int) -> Proposal | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Proposal)
                .where(Proposal.id == proposal_id)
                .options(selectinload(Proposal.events))
            )

    async def of_person(self, user_id: int) -> list[Proposal]:
        async with self._sessions() as session:
            result = await session.scalars(
                select(Proposal).where(Proposal.user_id == user_id).order_by(Proposal.id)
            )
            return list(result)

    async def with_state(self, state: ProposalState, limit: int = 50) -> list[Proposal]:
        """Requests in one state, oldest first (the queue organizers work through)."""
        async with self._sessions() as session:
            result = await session.scalars(
                select(Proposal)
                .where(Proposal.state == state.value)
                .order_by(Proposal.id)
                .limit(limit)
            )
            return list(result)

    async def counts(self) -> dict[ProposalState, int]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(Proposal.state, func.count()).group_by(Proposal.state)
            )
            found = {state: count for state, count in rows}
        return {state: found.get(state.value, 0) for state in ProposalState}

    async def export_csv(self) -> bytes:
        """Every request as CSV (UTF-8 with BOM, so spreadsheets read the accents)."""
        async with self._sessions() as session:
            result = await session.scalars(
                select(Proposal).options(selectinload(Proposal.events)).order_by(Proposal.id)
            )
            proposals = list(result)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        for proposal in proposals:
            writer.writerow([_csv_safe(value) for value in self._export_row(proposal)])
        return buffer.getvalue().encode("utf-8-sig")

    def _export_row(self, proposal: Proposal) -> Sequence[object]:
        session = self.content.session(proposal.session_id) if proposal.session_id else None
        last = proposal.events[-1] if proposal.events else None
        decided = last if last and last.state != ProposalState.SUBMITTED.value else None
        return (
            proposal.reference,
            proposal.state,
            proposal.created_at.isoformat(timespec="seconds"),
            proposal.name or "",
            proposal.organization or "",
            proposal.sector,
            proposal.email or "",
            proposal.format_id,
            proposal.title,
            proposal.summary,
            proposal.link or "",
            proposal.session_id or "",
            session.title.get("en") if session else "",
            proposal.language,
            proposal.user_id or "",
            (decided.actor_name or decided.actor_id or "") if decided else "",
            decided.at.isoformat(timespec="seconds") if decided else "",
            (decided.note or "") if decided else "",
        )


EXPORT_COLUMNS: Final = (
    "reference",
    "state",
    "submitted_at",
    "name",
    "organization",
    "sector",
    "email",
    "format",
    "title",
    "summary",
    "link",
    "session_id",
    "session_title",
    "language",
    "telegram_id",
    "last_change_by",
    "last_change_at",
    "last_change_note",
)


def _csv_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return f"'{value}"
    return value


async def erase_requests(session: AsyncSession, user_id: int) -> list[str]:
    """In the caller's transaction: withdraw the person's open requests and erase their
    personal data, drafts and pending prompts, and their name on any history.

    Returns the references of the requests that were open, so organizers can be told.
    """
    now = utcnow()
    await session.execute(delete(ProposalDraft).where(ProposalDraft.user_id == user_id))
    await session.execute(delete(DecisionPrompt).where(DecisionPrompt.actor_id == user_id))
    result = await session.scalars(
        select(Proposal).where(Proposal.user_id == user_id).options(selectinload(Proposal.events))
    )
    withdrawn = []
    for proposal in result:
        if proposal.state in OPEN_STATES:
            # Whatever it became meanwhile: the person's wish to be forgotten wins.
            await change_state(session, proposal, None, ProposalState.WITHDRAWN, None, None)
            withdrawn.append(proposal.reference)
            outbox.add(
                session,
                outbox.GROUP,
                proposal_id=proposal.id,
                key="forget.organizers_notice",
            )
        proposal.user_id = None
        proposal.name = proposal.organization = proposal.email = proposal.link = None
        proposal.forgotten_at = now
        # The card, posted or still on its way, shows the request anonymized. Notices
        # for them not sent yet are dropped: there is nobody to tell any more.
        await outbox.cancel_pending(session, proposal.id, outbox.SPEAKER)
        outbox.add(session, outbox.CARD, proposal_id=proposal.id)
    # Their name on any history, their own requests' or those they decided on.
    await session.execute(
        update(ProposalEvent)
        .where(ProposalEvent.actor_id == user_id)
        .values(actor_id=None, actor_name=None)
    )
    return withdrawn
