"""What a speaking-slot request may become, and when: its states, the open-request limit, the
undo window, and the one way its state changes (a compare-and-set on its row)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Final

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bot.models import Proposal, ProposalEvent
from bot.models.base import utcnow
from bot.proposal_errors import ProposalNotFound, WrongState


class ProposalState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_STATES: Final = (ProposalState.SUBMITTED, ProposalState.ACCEPTED)
MAX_OPEN_PER_PERSON: Final = 5
# A decision can be undone this long after it was made (the speaker gets a correction).
UNDO_WINDOW: Final = dt.timedelta(minutes=5)


def last_decision(proposal: Proposal) -> ProposalEvent | None:
    """The event that put the request in its current accepted / declined state."""
    if proposal.state not in (ProposalState.ACCEPTED.value, ProposalState.DECLINED.value):
        return None
    last = proposal.events[-1] if proposal.events else None
    return last if last is not None and last.state == proposal.state else None


def undoable(proposal: Proposal, now: dt.datetime | None = None) -> bool:
    """Decided within the undo window."""
    decision = last_decision(proposal)
    return decision is not None and (now or utcnow()) - decision.at <= UNDO_WINDOW


# Built once (building a statement costs about as much as running it on SQLite).
_OPEN_COUNT = (
    select(func.count())
    .select_from(Proposal)
    .where(Proposal.user_id == bindparam("user_id"), Proposal.state.in_(OPEN_STATES))
)


async def open_count(session: AsyncSession, user_id: int) -> int:
    """How many of the person's requests are still open (submitted or accepted)."""
    count = await session.scalar(_OPEN_COUNT, {"user_id": user_id})
    return int(count or 0)


async def locked_proposal(session: AsyncSession, proposal_id: int) -> Proposal:
    """The request with its history, its row locked until the commit (ProposalNotFound)."""
    proposal = await session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(selectinload(Proposal.events))
        .with_for_update()
    )
    if proposal is None:
        raise ProposalNotFound()
    return proposal


async def change_state(
    session: AsyncSession,
    proposal: Proposal,
    expected: ProposalState | None,
    state: ProposalState,
    actor_id: int | None,
    actor_name: str | None,
    note: str | None = None,
) -> None:
    """`expected` -> `state`, as a compare-and-set on the row: of two decisions made at the
    same moment only one changes it, on every database (SQLite takes no row lock on the
    read; the UPDATE waits for the other writer and then finds the state changed).
    `expected` None: from any state. `proposal` must come with its events loaded."""
    now = utcnow()
    query = update(Proposal).where(Proposal.id == proposal.id)
    if expected is not None:
        query = query.where(Proposal.state == expected.value)
    changed = await session.execute(
        query.values(state=state.value, updated_at=now).execution_options(
            synchronize_session=False
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(proposal, ["state", "events"])
        raise WrongState(proposal.state)
    # Written above already: the object follows without a second UPDATE.
    set_committed_value(proposal, "state", state.value)
    set_committed_value(proposal, "updated_at", now)
    proposal.events.append(
        ProposalEvent(
            state=state.value, actor_id=actor_id, actor_name=actor_name, at=now, note=note
        )
    )
