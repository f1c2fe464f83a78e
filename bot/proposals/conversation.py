"""The speaking-slot request conversation: the person's draft, one step at a time.

The conversation's state is the person's draft row: each answer is validated here, by the
step's declaration (bot/proposal_flow.py), and saved at once with the next step, so the
handlers hold nothing in memory and a restart resumes the conversation where the person
left it. Each use case is one transaction, and nothing slow runs while it holds the draft's
row: a typed text is read (fuzzy matching, the answer engine) before the row is locked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import outbox
from bot.best_spot import SpotIndex
from bot.content import Content, Session
from bot.models import Proposal, ProposalDraft, ProposalEvent
from bot.models.base import utcnow
from bot.proposal_errors import DormantDraft, InvalidAnswer, NoDraft, StaleButton, TooManyOpen
from bot.proposal_flow import FLOW, KEEP, SKIP, Flow, FlowStep, Kind, Step, clean_text
from bot.proposals.states import MAX_OPEN_PER_PERSON, ProposalState, open_count
from bot.textmatch import fold


class Outcome(StrEnum):
    """What a typed message did to the draft."""

    ANSWERED = "answered"  # saved as the step's answer; the draft moved on
    BACK = "back"  # "back", "atrás", "enrere": the previous step
    FIRST = "first"  # "back" at the first question: nothing before it, nothing changed
    REPEATED = "repeated"  # this very update was applied already: nothing changed again
    QUESTION = "question"  # a question about the event: answered elsewhere, kept aside


# A draft untouched for longer is dormant: the person's next text is a question again.
ACTIVE_WINDOW: Final = dt.timedelta(hours=12)
HELD_MAX_LENGTH: Final = 300
# Typed (or sent as /back) instead of an answer, in en / es / ca, folded (no accents).
BACK_WORDS: Final = frozenset(
    {"back", "go back", "previous", "atras", "volver", "anterior", "enrere", "tornar"}
)


class ContentSource(Protocol):
    @property
    def content(self) -> Content: ...


@dataclass(frozen=True)
class StepSource:
    """What a step's view reads, as plain values (a view never reaches the service): the
    content, the flow, and the sessions that fit the draft, at the step that offers them."""

    content: Content
    flow: Flow
    spots: tuple[Session, ...] = ()

    def suggestions(self, draft: ProposalDraft) -> list[Session]:
        return list(self.spots)


@dataclass(frozen=True)
class Reading:
    """A typed text, read against the draft as it was before its row was locked: whether it
    is "back", a question to answer aside, or names one of the step's buttons."""

    seen: tuple[int, str, bool, str | None, str | None]  # what the reading depends on
    back: bool = False
    question: bool = False
    button: str | None = None


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


def is_active(draft: ProposalDraft, now: dt.datetime | None = None) -> bool:
    """Touched recently enough, and not left for the menu: the person's next text answers
    it."""
    return not draft.paused and (now or utcnow()) - draft.updated_at <= ACTIVE_WINDOW


def _state_read(draft: ProposalDraft) -> tuple[int, str, bool, str | None, str | None]:
    """What reading a typed text depends on: the step (its buttons, whether a question is
    taken aside) and the title and summary (the sessions offered at the spot step)."""
    return draft.id, draft.step, bool(draft.editing), draft.title, draft.summary


async def pause_draft(session: AsyncSession, user_id: int) -> bool:
    """In the caller's transaction: the person's draft waits for /propose or its own buttons.
    False if they had no draft being filled in."""
    result = await session.execute(
        update(ProposalDraft)
        .where(ProposalDraft.user_id == user_id, ProposalDraft.paused.is_(False))
        .values(paused=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def read_draft(
    session: AsyncSession, user_id: int, *, lock: bool = False
) -> ProposalDraft | None:
    """The person's draft; `lock` holds its row until the commit (PostgreSQL), so two
    workers handling two quick answers of one person take them one after the other."""
    query = select(ProposalDraft).where(ProposalDraft.user_id == user_id)
    return await session.scalar(query.with_for_update() if lock else query)


class DraftConversation:
    """Start or resume a draft, take its answers (typed or pressed), back, edit, cancel, and
    submit it as a request."""

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

    # The draft row is read and written in each step's own transaction: any worker can take
    # any step, and nothing about a person is kept in this process between two updates.

    @asynccontextmanager
    async def _draft_session(
        self, user_id: int
    ) -> AsyncIterator[tuple[AsyncSession, ProposalDraft | None]]:
        """A transaction with the person's draft row, locked until the commit (None if none)."""
        async with self._sessions.begin() as session:
            yield session, await read_draft(session, user_id, lock=True)

    async def start_or_resume(
        self, user_id: int, update_id: int | None = None
    ) -> tuple[ProposalDraft, bool]:
        """/propose: start a draft, or resume the person's open one (refused at the
        open-request limit), in one transaction; with whether it was resumed."""
        async with self._draft_session(user_id) as (session, draft):
            resumed = draft is not None
            if draft is None:
                if await open_count(session, user_id) >= MAX_OPEN_PER_PERSON:
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
        return draft, resumed

    async def draft_of(self, user_id: int) -> ProposalDraft | None:
        async with self._sessions() as session:
            return await read_draft(session, user_id)

    async def active_draft(
        self, user_id: int, now: dt.datetime | None = None
    ) -> ProposalDraft | None:
        """The person's draft if they were working on it recently (their text is an answer)."""
        draft = await self.draft_of(user_id)
        return draft if draft is not None and is_active(draft, now) else None

    def source(self, draft: ProposalDraft) -> StepSource:
        """What the view of the draft's step reads: plain values, the sessions that fit only
        at the spot step (the one whose question and buttons name them)."""
        at_spot = draft.step == Step.SPOT.value
        spots = tuple(self.suggestions(draft)) if at_spot else ()
        return StepSource(self.content, self.flow, spots)

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

        The text is read (`is_question`, the buttons it may name) before the draft's row is
        locked; if the draft changed in between, it is read again against the new one.
        """
        while True:
            # Ends: each further pass follows a change another transaction committed within
            # this one's few milliseconds, and a chat's updates run one at a time.
            seen = await self.draft_of(user_id)
            if seen is None or seen.paused:
                return None
            reading = (
                self._read(seen, text, is_question)
                if is_active(seen) and not repeated(seen, update_id)
                else None
            )
            async with self._draft_session(user_id) as (_, draft):
                if draft is None or draft.paused:
                    return None
                if repeated(draft, update_id):
                    return draft, Outcome.REPEATED
                if not is_active(draft):
                    raise DormantDraft()
                if reading is not None and reading.seen == _state_read(draft):
                    outcome = self._reply(draft, text, reading)
                    draft.last_update_id = update_id
                    return draft, outcome

    def _read(
        self, draft: ProposalDraft, text: str, is_question: Callable[[Step], bool] | None
    ) -> Reading:
        """What `text` is at the draft's step: no lock is held (matching takes a while)."""
        seen = _state_read(draft)
        if is_back_word(text):
            return Reading(seen, back=True)
        if is_question is not None and is_question(step_of(draft)):
            return Reading(seen, question=True)
        entry = self.flow[draft.step]
        button = entry.typed_value(self.source(draft), draft, text) if entry.field else None
        return Reading(seen, button=button)

    def _reply(self, draft: ProposalDraft, text: str, reading: Reading) -> Outcome:
        if reading.back:
            return Outcome.BACK if self._step_back(draft) else Outcome.FIRST
        entry = self.flow[draft.step]
        if reading.question:
            # Kept aside at a typed step, if the step would take it: one tap makes it the
            # answer if it was meant as one.
            keep = entry.typed and entry.accepts(text)
            draft.held = clean_text(text)[:HELD_MAX_LENGTH] if keep else None
            draft.updated_at = utcnow()
            return Outcome.QUESTION
        self._save_answer(draft, entry, text, reading.button)
        return Outcome.ANSWERED

    def _save_answer(
        self, draft: ProposalDraft, entry: FlowStep, text: str, button: str | None
    ) -> None:
        """A typed answer, validated and kept by its step's declaration; at a step answered
        with buttons, a text naming one of them ("Company", "sí", "skip") is that button."""
        if entry.field is None:
            raise InvalidAnswer("use_buttons")
        if button is not None:
            self._apply_choice(draft, entry, button)
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
            if only_active and not is_active(draft):
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
                    select(Proposal)
                    .where(Proposal.user_id == user_id, Proposal.draft_id == draft_id)
                    .options(selectinload(Proposal.events))
                )
                if earlier is None:
                    raise NoDraft()
                return earlier
            if draft.id != draft_id or draft.step != Step.REVIEW.value:
                raise StaleButton()
            if not self.flow.complete(draft):
                raise StaleButton()
            if await open_count(session, user_id) >= MAX_OPEN_PER_PERSON:
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

    # -- internals --------------------------------------------------------------------------

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
