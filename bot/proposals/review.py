"""After submission: the organizers' decisions and their undo, their pending "type the reason"
prompts, the speaker's withdrawal, and what the outbox sender records back (the card posted,
the speaker told). Each change writes its notices to the outbox in its own transaction."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import outbox
from bot.models import Proposal, ProposalEvent
from bot.models.base import utcnow
from bot.models.proposal import DecisionPrompt
from bot.proposal_errors import AlreadyDecided, ProposalNotFound, StaleButton, TooLate, WrongState
from bot.proposals.states import (
    UNDO_WINDOW,
    ProposalState,
    change_state,
    last_decision,
    locked_proposal,
    undoable,
)

NOTE_MAX_LENGTH: Final = 1000
# An organizer's pending "type the reason" lasts this long; later text is text again.
PROMPT_WINDOW: Final = dt.timedelta(minutes=30)
DECLINE: Final = "decline"
MESSAGE: Final = "message"
PROMPT_ACTIONS: Final = (DECLINE, MESSAGE)


class ProposalReview:
    """Accept, decline, undo, withdraw; the organizers' pending prompts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def decide(
        self,
        proposal_id: int,
        actor_id: int,
        actor_name: str | None,
        *,
        accept: bool,
        note: str | None = None,
    ) -> Proposal:
        """Accept or decline a submitted request (the caller has checked who is deciding);
        `note` is what the organizer tells the speaker (a decline's reason)."""
        state = ProposalState.ACCEPTED if accept else ProposalState.DECLINED
        async with self._sessions.begin() as session:
            proposal = await locked_proposal(session, proposal_id)
            try:
                await change_state(
                    session, proposal, ProposalState.SUBMITTED, state, actor_id, actor_name, note
                )
            except WrongState:
                made = last_decision(proposal)
                if made is not None and (made.actor_id, made.state) == (actor_id, state.value):
                    # Their own decision, made already (the same press handled again after a
                    # worker died): done, and nothing is written or told twice.
                    return proposal
                if made is not None and made.actor_name:
                    raise AlreadyDecided(proposal.state, made.actor_name) from None
                raise
            await session.flush()
            decision = proposal.events[-1]
            # In the same transaction: the card shows the decision and the speaker is told,
            # whatever happens to this worker after the commit.
            outbox.add(session, outbox.CARD, proposal_id=proposal.id)
            key = f"proposals.notify.{state.value}" + ("_note" if note else "")
            values = {"note": note} if note else {}
            outbox.add(
                session,
                outbox.SPEAKER,
                proposal_id=proposal.id,
                key=key,
                decision_event_id=decision.id,
                **values,
            )
            return proposal

    async def undo(
        self,
        proposal_id: int,
        actor_id: int,
        actor_name: str | None,
        now: dt.datetime | None = None,
    ) -> tuple[Proposal, ProposalEvent]:
        """Return a request decided within UNDO_WINDOW to submitted.

        Returns the request and the decision undone (its `told_at` says whether the speaker
        needs a correction).
        """
        async with self._sessions.begin() as session:
            proposal = await locked_proposal(session, proposal_id)
            decision = last_decision(proposal)
            if decision is None:
                raise WrongState(proposal.state)
            if not undoable(proposal, now):
                raise TooLate(minutes=int(UNDO_WINDOW.total_seconds() // 60))
            await change_state(
                session,
                proposal,
                ProposalState(decision.state),
                ProposalState.SUBMITTED,
                actor_id,
                actor_name,
            )
            await session.flush()
            outbox.add(session, outbox.CARD, proposal_id=proposal.id)
            # Not told yet: the notice is withdrawn. Told: a correction follows it.
            withdrawn = await outbox.cancel_pending(session, proposal.id, outbox.SPEAKER)
            if not withdrawn and decision.told_at is not None:
                outbox.add(
                    session,
                    outbox.SPEAKER,
                    proposal_id=proposal.id,
                    key="proposals.notify.correction",
                    state=decision.state,
                )
            return proposal, decision

    async def mark_told(self, event_id: int) -> None:
        """The speaker has been told of this change."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(ProposalEvent).where(ProposalEvent.id == event_id).values(told_at=utcnow())
            )

    # -- organizers' pending prompts ----------------------------------------------------------

    async def await_text(
        self, actor_id: int, proposal_id: int, action: str, chat_id: int
    ) -> Proposal:
        """The organizer's next message in `chat_id` will be a decline's reason, or a message
        for the speaker. One pending prompt per organizer: a new one replaces the old."""
        if action not in PROMPT_ACTIONS:
            raise StaleButton()
        async with self._sessions.begin() as session:
            proposal = await locked_proposal(session, proposal_id)
            if action == DECLINE and proposal.state != ProposalState.SUBMITTED.value:
                raise WrongState(proposal.state)
            if action == MESSAGE and proposal.user_id is None:
                raise ProposalNotFound()
            await session.execute(
                delete(DecisionPrompt).where(DecisionPrompt.actor_id == actor_id)
            )
            session.add(
                DecisionPrompt(
                    actor_id=actor_id,
                    proposal_id=proposal_id,
                    action=action,
                    chat_id=chat_id,
                    created_at=utcnow(),
                )
            )
            return proposal

    async def drop_prompt(self, actor_id: int, proposal_id: int | None = None) -> bool:
        """Forget the organizer's pending prompt (of that request, if given)."""
        query = delete(DecisionPrompt).where(DecisionPrompt.actor_id == actor_id)
        if proposal_id is not None:
            query = query.where(DecisionPrompt.proposal_id == proposal_id)
        async with self._sessions.begin() as session:
            result = await session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def take_prompt(
        self, actor_id: int, chat_id: int, now: dt.datetime | None = None
    ) -> DecisionPrompt | None:
        """The organizer's pending prompt for this chat, consumed (None if none or too old)."""
        async with self._sessions.begin() as session:
            prompt = await session.scalar(
                select(DecisionPrompt).where(DecisionPrompt.actor_id == actor_id).with_for_update()
            )
            if prompt is None or prompt.chat_id != chat_id:
                return None
            await session.delete(prompt)
            if (now or utcnow()) - prompt.created_at > PROMPT_WINDOW:
                return None
            return prompt

    async def message_speaker(self, proposal_id: int, note: str) -> Proposal:
        """An organizer's message to the request's author, queued in the outbox (sent in
        their language when it leaves); ProposalNotFound if they asked to be forgotten."""
        async with self._sessions.begin() as session:
            proposal = await locked_proposal(session, proposal_id)
            if proposal.user_id is None:
                raise ProposalNotFound()
            outbox.add(
                session,
                outbox.SPEAKER,
                proposal_id=proposal.id,
                key="proposals.notify.message",
                note=note,
            )
            return proposal

    async def refresh_card(self, proposal_id: int) -> None:
        """Queue an edit of the organizers' card to the request's state (a card out of date:
        decided by someone else, or an undo refused)."""
        async with self._sessions.begin() as session:
            proposal = await locked_proposal(session, proposal_id)
            if proposal.organizer_message_id is not None:
                outbox.add(session, outbox.CARD, proposal_id=proposal.id)

    async def withdraw(self, proposal_id: int, user_id: int) -> Proposal:
        """The person withdraws their own request while it is still only submitted."""
        async with self._sessions.begin() as session:
            proposal = await locked_proposal(session, proposal_id)
            if proposal.user_id != user_id:
                # Someone else's request: as if it did not exist.
                raise ProposalNotFound()
            await change_state(
                session, proposal, ProposalState.SUBMITTED, ProposalState.WITHDRAWN, user_id, None
            )
            outbox.add(session, outbox.CARD, proposal_id=proposal.id)
            outbox.add(
                session,
                outbox.GROUP,
                proposal_id=proposal.id,
                key="proposals.withdrawn_notice",
                reply_to_card=True,
            )
            return proposal

    async def set_organizer_message(self, proposal_id: int, chat_id: int, message_id: int) -> None:
        """Remember the organizers' card so later changes can edit it."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Proposal)
                .where(Proposal.id == proposal_id)
                .values(organizer_chat_id=chat_id, organizer_message_id=message_id)
            )
