"""ProposalService: speaking-slot requests from draft to decision, free of Telegram types.

The conversation's state is the person's draft row: each answer is validated here, by the
step's declaration (bot/proposal_flow.py), and saved at once with the next step, so the
handlers hold nothing in memory and a restart resumes the conversation where the person
left it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Final, Protocol

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bot import outbox
from bot.best_spot import SpotIndex
from bot.content import Content, Session
from bot.models import Proposal, ProposalDraft, ProposalEvent
from bot.models.base import utcnow
from bot.models.proposal import DecisionPrompt, reference_of
from bot.proposal_errors import (
    ERROR_CODES,
    AlreadyDecided,
    DormantDraft,
    EmptyNote,
    InvalidAnswer,
    NoDraft,
    ProposalError,
    ProposalNotFound,
    StaleButton,
    TooLate,
    TooManyOpen,
    WrongState,
)
from bot.proposal_flow import FLOW, KEEP, SKIP, Flow, FlowStep, Kind, Step, clean_text
from bot.textmatch import fold


class Outcome(StrEnum):
    """What a typed message did to the draft."""

    ANSWERED = "answered"  # saved as the step's answer; the draft moved on
    BACK = "back"  # "back", "atrás", "enrere": the previous step
    FIRST = "first"  # "back" at the first question: nothing before it, nothing changed
    REPEATED = "repeated"  # this very update was applied already: nothing changed again
    QUESTION = "question"  # a question about the event: answered elsewhere, kept aside


class ProposalState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_STATES: Final = (ProposalState.SUBMITTED, ProposalState.ACCEPTED)
MAX_OPEN_PER_PERSON: Final = 5
# A draft untouched for longer is dormant: the person's next text is a question again.
ACTIVE_WINDOW: Final = dt.timedelta(hours=12)
HELD_MAX_LENGTH: Final = 300
NOTE_MAX_LENGTH: Final = 1000
# A decision can be undone this long after it was made (the speaker gets a correction).
UNDO_WINDOW: Final = dt.timedelta(minutes=5)
# An organizer's pending "type the reason" lasts this long; later text is text again.
PROMPT_WINDOW: Final = dt.timedelta(minutes=30)
DECLINE: Final = "decline"
MESSAGE: Final = "message"
PROMPT_ACTIONS: Final = (DECLINE, MESSAGE)
# Typed (or sent as /back) instead of an answer, in en / es / ca, folded (no accents).
BACK_WORDS: Final = frozenset(
    {"back", "go back", "previous", "atras", "volver", "anterior", "enrere", "tornar"}
)
# Spreadsheets run cells starting with these as formulas (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


class ContentSource(Protocol):
    @property
    def content(self) -> Content: ...


def is_back_word(text: str) -> bool:
    """ "back", "Atrás", "enrere!" or "/back": go back a step, never an answer."""
    return fold(text.removeprefix("/")) in BACK_WORDS


def step_of(draft: ProposalDraft) -> Step:
    return Step(draft.step)


def has_answers(draft: ProposalDraft, flow: Flow = FLOW) -> bool:
    """Something was answered: cancelling would throw it away, so it is confirmed first."""
    return bool(draft.editing) or any(entry.answer(draft) for entry in flow.questions)


def repeated(draft: ProposalDraft, update_id: int | None) -> bool:
    """This update was applied to the draft already: it is the same update handled again,
    after the worker that applied it died before marking it done.

    The last one is enough: a chat's updates are run one after the other (bot/inbox.py), so
    the one taken over is always the latest applied. Equality, not "<=": Telegram may start
    its update ids again from a random number after a quiet week.
    """
    return update_id is not None and draft.last_update_id == update_id


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


class ProposalService:
    """Drafts, validation, submission, decisions, withdrawal, listing and export."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        source: ContentSource,
        flow: Flow = FLOW,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self.flow = flow  # the conversation's steps, in order (bot/proposal_flow.py)
        # Built from the content (not from anyone's data), rebuilt when a /reload brings new
        # content: which sessions fit which topics.
        self._spots: tuple[Content, SpotIndex] | None = None

    @property
    def content(self) -> Content:
        return self._source.content

    # -- the conversation -------------------------------------------------------------------
    # The draft row is read and written in each step's own transaction: any worker can take
    # any step, and nothing about a person is kept in this process between two updates.

    @asynccontextmanager
    async def _draft_session(
        self, user_id: int
    ) -> AsyncIterator[tuple[AsyncSession, ProposalDraft | None]]:
        """A transaction with the person's draft row, locked until the commit (None if none)."""
        async with self._sessions.begin() as session:
            yield session, await self._draft(session, user_id, lock=True)

    async def open_draft(self, user_id: int, update_id: int | None = None) -> ProposalDraft:
        """Start a draft, or resume the person's open one (refused at the open-request limit)."""
        async with self._draft_session(user_id) as (session, draft):
            if draft is None:
                if await self._open_count(session, user_id) >= MAX_OPEN_PER_PERSON:
                    raise TooManyOpen(limit=MAX_OPEN_PER_PERSON)
                draft = ProposalDraft(
                    user_id=user_id,
                    step=self.flow.first.value,
                    editing=False,
                    last_update_id=update_id,
                )
                session.add(draft)
            draft.updated_at, draft.paused = utcnow(), False
            await session.flush()
        return draft

    async def pause(self, user_id: int) -> bool:
        """The person went elsewhere (/start, the menu): their text is a question again until
        /propose or one of the draft's buttons. False if they had no draft being filled in."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ProposalDraft)
                .where(ProposalDraft.user_id == user_id, ProposalDraft.paused.is_(False))
                .values(paused=True)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def draft_of(self, user_id: int) -> ProposalDraft | None:
        async with self._sessions() as session:
            return await self._draft(session, user_id)

    async def active_draft(
        self, user_id: int, now: dt.datetime | None = None
    ) -> ProposalDraft | None:
        """The person's draft if they were working on it recently (their text is an answer)."""
        draft = await self.draft_of(user_id)
        return draft if draft is not None and self.is_active(draft, now) else None

    @staticmethod
    def is_active(draft: ProposalDraft, now: dt.datetime | None = None) -> bool:
        """Touched recently enough, and not left for the menu: the person's next text answers
        it."""
        return not draft.paused and (now or utcnow()) - draft.updated_at <= ACTIVE_WINDOW

    async def answer(self, user_id: int, text: str, update_id: int | None = None) -> ProposalDraft:
        """A typed answer to the current step: validated, saved, and the step moves on."""
        async with self._draft_session(user_id) as (_, draft):
            if draft is None:
                raise NoDraft()
            if not repeated(draft, update_id):
                self._save_answer(draft, text)
                draft.last_update_id = update_id
        return draft

    async def reply_if_active(
        self,
        user_id: int,
        text: str,
        is_question: Callable[[Step], bool] | None = None,
        update_id: int | None = None,
    ) -> tuple[ProposalDraft, Outcome] | None:
        """Any text the person types while their draft is open, in one transaction.

        "back" (and its translations) goes back a step; a text `is_question` recognizes is kept
        aside (not saved as the answer); anything else answers the step. None without a draft
        (or with one left for the menu: the text is a question), DormantDraft if it was left a
        while ago, InvalidAnswer if the answer does not fit. `update_id` applied already:
        nothing changes (Outcome.REPEATED), the same transaction that saved it says so.
        """
        async with self._draft_session(user_id) as (_, draft):
            if draft is None or draft.paused:
                return None
            if repeated(draft, update_id):
                return draft, Outcome.REPEATED
            if not self.is_active(draft):
                raise DormantDraft()
            outcome = self._reply(draft, text, is_question)
            draft.last_update_id = update_id
            return draft, outcome

    def _reply(
        self, draft: ProposalDraft, text: str, is_question: Callable[[Step], bool] | None
    ) -> Outcome:
        if is_back_word(text):
            return Outcome.BACK if self._step_back(draft) else Outcome.FIRST
        step = step_of(draft)
        entry = self.flow[step]
        if is_question is not None and is_question(step):
            # Kept aside at a typed step, if the step would take it: one tap makes it the
            # answer if it was meant as one.
            keep = entry.typed and entry.accepts(text)
            draft.held = clean_text(text)[:HELD_MAX_LENGTH] if keep else None
            draft.updated_at = utcnow()
            return Outcome.QUESTION
        self._save_answer(draft, text)
        return Outcome.ANSWERED

    def _save_answer(self, draft: ProposalDraft, text: str) -> None:
        """A typed answer, validated and kept by its step's declaration; at a step answered
        with buttons, a text naming one of them ("Company", "sí", "skip") is that button."""
        entry = self.flow[draft.step]
        if entry.field is None:
            raise InvalidAnswer("use_buttons")
        value = entry.typed_value(self, draft, text)
        if value is not None:
            self._apply_choice(draft, entry, value)
        elif entry.validate is not None:
            setattr(draft, entry.field, entry.validate(text))
        else:
            raise InvalidAnswer("use_buttons")
        self._advance(draft)

    async def back_if_active(
        self, user_id: int, *, only_active: bool = True, update_id: int | None = None
    ) -> tuple[ProposalDraft, bool] | None:
        """/back: the previous step (or the summary while changing a field); with whether it
        moved (False at the first question, or for an update applied already).

        None if the person has no draft; DormantDraft if it was left a while ago (unless
        `only_active` is False).
        """
        async with self._draft_session(user_id) as (_, draft):
            if draft is None:
                return None
            if only_active and not self.is_active(draft):
                raise DormantDraft()
            if repeated(draft, update_id):
                return draft, True
            draft.paused, draft.last_update_id = False, update_id
            return draft, self._step_back(draft)

    async def choose(
        self, user_id: int, step: str, value: str, update_id: int | None = None
    ) -> ProposalDraft:
        """A button answer (`step` is the step the button belongs to; stale ones are refused)."""
        async with self._draft_session(user_id) as (_, draft):
            if draft is None:
                raise NoDraft()
            if repeated(draft, update_id):
                return draft
            if draft.step != step:
                raise StaleButton()
            self._apply_choice(draft, self.flow[step], value)
            self._advance(draft)
            draft.last_update_id = update_id
        return draft

    async def back(self, user_id: int, step: str, update_id: int | None = None) -> ProposalDraft:
        """Return to the previous step (or to the summary while changing one field)."""
        async with self._draft_session(user_id) as (_, draft):
            if draft is None:
                raise NoDraft()
            if repeated(draft, update_id):
                return draft
            if draft.step != step:
                raise StaleButton()
            self._step_back(draft)
            draft.last_update_id = update_id
        return draft

    async def edit(self, user_id: int, step: str, update_id: int | None = None) -> ProposalDraft:
        """From the summary, ask one field again; its answer returns to the summary."""
        async with self._draft_session(user_id) as (_, draft):
            if draft is None:
                raise NoDraft()
            if repeated(draft, update_id):
                return draft
            if draft.step != Step.REVIEW.value or not self.flow.is_editable(step):
                raise StaleButton()
            draft.step, draft.editing, draft.updated_at = step, True, utcnow()
            draft.held, draft.paused, draft.last_update_id = None, False, update_id
        return draft

    async def cancel(self, user_id: int, draft_id: int | None = None) -> bool:
        """Delete the person's draft and everything typed in it; False if there was none.

        With `draft_id` (a confirmation button), only that draft: an old button never deletes
        a newer one.
        """
        query = delete(ProposalDraft).where(ProposalDraft.user_id == user_id)
        if draft_id is not None:
            query = query.where(ProposalDraft.id == draft_id)
        async with self._sessions.begin() as session:
            result = await session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def submit(self, user_id: int, draft_id: int, language: str) -> Proposal:
        """Turn the draft into a request, consuming the draft in the same transaction.

        A second press (or the same press handled again) finds the draft consumed and returns
        the request it made; a stale summary button finds another draft and is refused: there
        is never a second request for one draft.
        """
        async with self._draft_session(user_id) as (session, draft):
            if draft is None:
                # Submitted already (the same press handled again after a worker died before
                # answering, or pressed twice): that request, and nothing new.
                earlier = await session.scalar(
                    select(Proposal).where(
                        Proposal.user_id == user_id, Proposal.draft_id == draft_id
                    )
                )
                if earlier is None:
                    raise NoDraft()
                return earlier
            if draft.id != draft_id or draft.step != Step.REVIEW.value:
                raise StaleButton()
            if not self.flow.complete(draft):
                raise StaleButton()
            if await self._open_count(session, user_id) >= MAX_OPEN_PER_PERSON:
                raise TooManyOpen(limit=MAX_OPEN_PER_PERSON)
            # The delete takes the row lock: a concurrent submit of the same draft waits here
            # and then deletes nothing, so it stops before inserting.
            consumed = await session.execute(
                delete(ProposalDraft).where(ProposalDraft.id == draft.id)
            )
            if consumed.rowcount != 1:  # type: ignore[attr-defined]
                raise NoDraft()
            now = utcnow()
            proposal = Proposal(
                user_id=user_id,
                draft_id=draft.id,
                language=language,
                name=draft.name,
                organization=draft.organization,
                sector=draft.sector,
                email=draft.email,
                format_id=draft.format_id,
                title=draft.title,
                summary=draft.summary,
                link=draft.link,
                session_id=draft.session_id,
                state=ProposalState.SUBMITTED.value,
                created_at=now,
                updated_at=now,
            )
            proposal.events = [
                ProposalEvent(state=ProposalState.SUBMITTED.value, actor_id=user_id, at=now)
            ]
            session.add(proposal)
            await session.flush()
            # The organizers' card goes out after the commit, even if this worker dies then.
            outbox.add(session, outbox.CARD, proposal_id=proposal.id)
        return proposal

    def suggestions(self, draft: ProposalDraft) -> list[Session]:
        """The three sessions that fit the draft's title and summary best."""
        content = self.content
        if self._spots is None or self._spots[0] is not content:
            self._spots = (content, SpotIndex.build(content))  # a /reload brings new content
        return self._spots[1].rank(f"{draft.title or ''}\n{draft.summary or ''}")

    # -- after submission -------------------------------------------------------------------

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
            proposal = await self._proposal(session, proposal_id)
            try:
                await self._change_state(
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
            proposal = await self._proposal(session, proposal_id)
            decision = last_decision(proposal)
            if decision is None:
                raise WrongState(proposal.state)
            if not undoable(proposal, now):
                raise TooLate(minutes=int(UNDO_WINDOW.total_seconds() // 60))
            await self._change_state(
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
            proposal = await self._proposal(session, proposal_id)
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
            proposal = await self._proposal(session, proposal_id)
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
            proposal = await self._proposal(session, proposal_id)
            if proposal.organizer_message_id is not None:
                outbox.add(session, outbox.CARD, proposal_id=proposal.id)

    async def withdraw(self, proposal_id: int, user_id: int) -> Proposal:
        """The person withdraws their own request while it is still only submitted."""
        async with self._sessions.begin() as session:
            proposal = await self._proposal(session, proposal_id)
            if proposal.user_id != user_id:
                # Someone else's request: as if it did not exist.
                raise ProposalNotFound()
            await self._change_state(
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

    async def forget_person(self, user_id: int) -> list[str]:
        """Withdraw the person's open requests and erase their personal data and drafts.

        Returns the references of the requests that were open, so organizers can be told.
        """
        now = utcnow()
        async with self._sessions.begin() as session:
            await session.execute(delete(ProposalDraft).where(ProposalDraft.user_id == user_id))
            await session.execute(delete(DecisionPrompt).where(DecisionPrompt.actor_id == user_id))
            result = await session.scalars(
                select(Proposal)
                .where(Proposal.user_id == user_id)
                .options(selectinload(Proposal.events))
            )
            withdrawn = []
            for proposal in result:
                if proposal.state in OPEN_STATES:
                    # Whatever it became meanwhile: the person's wish to be forgotten wins.
                    await self._change_state(
                        session, proposal, None, ProposalState.WITHDRAWN, None, None
                    )
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

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    async def _draft(
        session: AsyncSession, user_id: int, *, lock: bool = False
    ) -> ProposalDraft | None:
        """The person's draft; `lock` holds its row until the commit (PostgreSQL), so two
        workers handling two quick answers of one person take them one after the other."""
        query = select(ProposalDraft).where(ProposalDraft.user_id == user_id)
        return await session.scalar(query.with_for_update() if lock else query)

    @staticmethod
    async def _proposal(session: AsyncSession, proposal_id: int) -> Proposal:
        proposal = await session.scalar(
            select(Proposal)
            .where(Proposal.id == proposal_id)
            .options(selectinload(Proposal.events))
            .with_for_update()
        )
        if proposal is None:
            raise ProposalNotFound()
        return proposal

    @staticmethod
    async def _open_count(session: AsyncSession, user_id: int) -> int:
        count = await session.scalar(_OPEN_COUNT, {"user_id": user_id})
        return int(count or 0)

    def _apply_choice(self, draft: ProposalDraft, entry: FlowStep, value: str) -> None:
        """Set the field a button answers, as its step declares; forged values are refused."""
        if entry.field is None:
            raise StaleButton()
        if entry.skippable and value == SKIP:
            kept: object = None
        elif entry.kind is Kind.TEXT and entry.validate and value == KEEP and draft.held:
            # The text typed earlier (taken for a question) was the answer after all.
            kept = entry.validate(draft.held)
        elif entry.accept is not None:
            kept = entry.accept(self.content, value)
        else:
            raise StaleButton()
        setattr(draft, entry.field, kept)

    def _advance(self, draft: ProposalDraft) -> None:
        """The next step, or straight back to the summary after changing one field."""
        target = Step.REVIEW if draft.editing else self.flow.next_step(step_of(draft))
        draft.step, draft.editing, draft.updated_at = target.value, False, utcnow()
        draft.held, draft.paused = None, False

    def _step_back(self, draft: ProposalDraft) -> bool:
        """The previous step, or the summary while changing one field (answers are kept);
        False at the first question, where there is nothing before."""
        step = step_of(draft)
        target = Step.REVIEW if draft.editing else self.flow.previous_step(step)
        moved = target is not step
        draft.step, draft.editing, draft.updated_at = target.value, False, utcnow()
        draft.held, draft.paused = None, False
        return moved

    @staticmethod
    async def _change_state(
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
        `expected` None: from any state."""
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


__all__ = [
    "ERROR_CODES",
    "MAX_OPEN_PER_PERSON",
    "AlreadyDecided",
    "DormantDraft",
    "EmptyNote",
    "InvalidAnswer",
    "NoDraft",
    "Outcome",
    "ProposalError",
    "ProposalNotFound",
    "ProposalService",
    "ProposalState",
    "StaleButton",
    "Step",
    "TooLate",
    "TooManyOpen",
    "WrongState",
    "clean_text",
    "reference_of",
]
