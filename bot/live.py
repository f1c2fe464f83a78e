"""LiveService: the room's voice. Questions to a panel, votes, moderation, the projector's
screen and one-tap feedback after each session. No Telegram types: handlers/live.py renders.

    ask      a person's next typed text is their question (a `live_inputs` row says so)
    vote     a (question, person) row: the primary key counts it once, on any worker
    moderate approve / hide (reason to the author through the outbox) / answered / pin,
             re-checked: the question must belong to the session, the presser moderate it
    open     by a moderator's button, else while the session is on (once the event has a date)
    feedback when a session ends or its questions close, one outbox notice per person who
             saved it or asked in it; 1-5 stars and an optional comment

Every refusal is a `LiveRefused` whose code is a catalog key (`live.refused.<code>`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import outbox
from bot.content import Content, Session, SessionKind
from bot.content.store import ContentStore
from bot.db import insert_for
from bot.models import (
    LiveBoard,
    LiveFeedback,
    LiveInput,
    LiveInvite,
    LiveModerator,
    LiveQuestion,
    LiveRoom,
    LiveVote,
    OutboxNotice,
    SavedSession,
    User,
)
from bot.models.base import utcnow
from bot.models.live import OPEN_STATES
from bot.schedule import ends_at, starts_at
from bot.settings import Settings

MAX_QUESTION: Final = 280  # characters: a question, not a speech
MAX_COMMENT: Final = 1000
MAX_REASON: Final = 300
MAX_NAME: Final = 64
INPUT_EXPIRES: Final = dt.timedelta(minutes=15)  # a prompt left unanswered stops waiting
OPENS_BEFORE: Final = dt.timedelta(minutes=30)  # questions open this long before the start
FEEDBACK_WINDOW: Final = dt.timedelta(hours=3)  # sessions ended longer ago get no request
FEEDBACK_KIND: Final = "live_feedback"
HIDDEN_KIND: Final = "live_hidden"
BOARD_KIND: Final = "live_board"  # moderators' lists of a session to edit (key: the session)
LIVE_KINDS: Final = frozenset(kind for kind in SessionKind if kind is not SessionKind.BREAK)
# Statuses, and what a moderator's button does.
PENDING, APPROVED, HIDDEN, ANSWERED = "pending", "approved", "hidden", "answered"
ACTIONS: Final = ("approve", "hide", "answered", "pin")
Clock = Callable[[], dt.datetime]


def takes_questions(session: Session) -> bool:
    """Whether a session has live questions: THE rule behind every "❓ Ask the panel" (the
    chat's session card, the Mini App's) and the room itself."""
    return session.kind in LIVE_KINDS


class LiveRefused(Exception):
    """What the service refuses; `code` names the message (`live.refused.<code>`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Room:
    session_id: str
    open: bool
    moderated: bool
    pinned_id: int | None
    feedback_asked: bool


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    author_name: str  # moderators only: the screen and people read `public_name`
    anonymous: bool
    status: str
    votes: int
    user_id: int

    @property
    def public_name(self) -> str | None:
        return None if self.anonymous else self.author_name


@dataclass(frozen=True)
class Board:
    """A session's questions as one viewer sees them, best first (the pinned one on top)."""

    room: Room
    questions: list[Question]
    pinned: Question | None = None
    mine: Question | None = None
    my_rank: int | None = None  # among the approved ones
    voted: frozenset[int] = frozenset()
    waiting: int = 0  # questions awaiting approval (moderators' view)


@dataclass(frozen=True)
class Voted:
    counted: bool  # the person's vote is there now (False: taken back)
    lists_changed: bool  # moderators' lists wait to be edited (the outbox has work)


@dataclass(frozen=True)
class Pending:
    purpose: str  # question | comment | reason
    session_id: str
    question_id: int | None
    anonymous: bool


@dataclass(frozen=True)
class FeedbackSummary:
    session_id: str
    ratings: int
    average: float | None
    comments: list[str] = field(default_factory=list)


def clean_text(text: str | None, limit: int) -> str:
    """The text as it will be kept, or LiveRefused: empty, too long, or no word at all."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise LiveRefused("empty")
    if len(cleaned) > limit:
        raise LiveRefused("too_long")
    if not any(unicodedata.category(char)[0] in "LN" for char in cleaned):
        raise LiveRefused("no_words")  # emoji or punctuation only
    return cleaned


def default_moderated(session: Session) -> bool:
    return session.kind is SessionKind.PANEL


class LiveService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: ContentStore,
        settings: Settings,
        now: Clock = utcnow,
    ) -> None:
        self._sessions = sessions
        self._content = content
        self._settings = settings
        self.now = now

    @property
    def content(self) -> Content:
        return self._content.content

    def session(self, session_id: str) -> Session:
        """The session of the content, if it takes questions; else LiveRefused."""
        found = self.content.session(session_id)
        if found is None or not takes_questions(found):
            raise LiveRefused("unknown_session")
        return found

    # -- rooms ----------------------------------------------------------------------------

    def _opened(self, row: LiveRoom | None, session: Session) -> bool:
        state = row.state if row is not None else "auto"
        if state != "auto":
            return state == "open"
        start, end = starts_at(self.content, session), ends_at(self.content, session)
        if start is None or end is None:
            return False  # no date: a moderator opens them
        return start - OPENS_BEFORE <= self.now() < end

    def _room(self, row: LiveRoom | None, session: Session) -> Room:
        moderated = row.moderated if row is not None and row.moderated is not None else None
        return Room(
            session_id=session.id,
            open=self._opened(row, session),
            moderated=default_moderated(session) if moderated is None else moderated,
            pinned_id=row.pinned_id if row is not None else None,
            feedback_asked=row is not None and row.feedback_at is not None,
        )

    async def room(self, session_id: str) -> Room:
        session = self.session(session_id)
        async with self._sessions() as db:
            return self._room(await db.get(LiveRoom, session_id), session)

    @staticmethod
    async def _ensure_room(db: AsyncSession, session_id: str) -> None:
        await db.execute(
            insert_for(db, LiveRoom)
            .values(session_id=session_id, state="auto")
            .on_conflict_do_nothing(index_elements=["session_id"])
        )

    @staticmethod
    async def _changed(db: AsyncSession, session_id: str) -> bool:
        """The session's questions changed: its moderators' lists are edited (one notice
        waiting per session at most, so a burst of votes is one edit per list)."""
        watched = exists().where(LiveBoard.session_id == session_id)
        waiting = exists().where(
            OutboxNotice.kind == BOARD_KIND,
            OutboxNotice.key == session_id,
            OutboxNotice.status == outbox.PENDING,
        )
        queued = await db.execute(
            insert(OutboxNotice).from_select(
                ["kind", "key", "status", "attempts", "created_at"],
                select(
                    literal(BOARD_KIND),
                    literal(session_id),
                    literal(outbox.PENDING),
                    literal(0),
                    literal(utcnow(), OutboxNotice.created_at.type),
                ).where(watched, ~waiting),
            )
        )
        return bool(getattr(queued, "rowcount", 0))

    async def watch(self, session_id: str, chat_id: int, message_id: int, language: str) -> None:
        """A moderator's list was shown in this chat: keep it up to date there."""
        values = {"message_id": message_id, "language": language}
        async with self._sessions.begin() as db:
            await db.execute(
                insert_for(db, LiveBoard)
                .values(session_id=session_id, chat_id=chat_id, **values)
                .on_conflict_do_update(index_elements=["session_id", "chat_id"], set_=values)
            )

    async def unwatch(self, session_id: str, chat_id: int) -> None:
        async with self._sessions.begin() as db:
            await db.execute(
                delete(LiveBoard).where(
                    LiveBoard.session_id == session_id, LiveBoard.chat_id == chat_id
                )
            )

    async def watchers(self, session_id: str) -> list[tuple[int, int, str]]:
        """(chat, message, language) of each moderator's list of this session."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(LiveBoard.chat_id, LiveBoard.message_id, LiveBoard.language).where(
                    LiveBoard.session_id == session_id
                )
            )
            return [(int(c), int(m), str(lang)) for c, m, lang in rows.all()]

    # -- who moderates ---------------------------------------------------------------------

    async def is_moderator(self, user_id: int, session_id: str) -> bool:
        if self._settings.is_organizer(user_id):
            return True
        async with self._sessions() as db:
            return await db.get(LiveModerator, (session_id, user_id)) is not None

    async def _require_moderator(self, user_id: int, session_id: str) -> Session:
        session = self.session(session_id)
        if not await self.is_moderator(user_id, session_id):
            raise LiveRefused("not_moderator")
        return session

    async def moderated_sessions(self, user_id: int) -> list[str]:
        """The sessions this person moderates, in programme order."""
        ids = [s.id for s in self.content.sessions if s.kind in LIVE_KINDS]
        if self._settings.is_organizer(user_id):
            return ids
        async with self._sessions() as db:
            mine = set(
                await db.scalars(
                    select(LiveModerator.session_id).where(LiveModerator.user_id == user_id)
                )
            )
        return [i for i in ids if i in mine]

    async def add_moderator(self, by: int, session_id: str, user_id: int) -> None:
        """/moderator <session> <id>: organizers only."""
        self.session(session_id)
        if not self._settings.is_organizer(by):
            raise LiveRefused("organizers_only")
        async with self._sessions.begin() as db:
            await db.execute(
                insert_for(db, LiveModerator)
                .values(session_id=session_id, user_id=user_id, added_at=utcnow())
                .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
            )

    async def invite(self, by: int, session_id: str) -> str:
        """A one-time token: whoever opens its link first moderates the session."""
        self.session(session_id)
        if not self._settings.is_organizer(by):
            raise LiveRefused("organizers_only")
        token = secrets.token_urlsafe(16)
        async with self._sessions.begin() as db:
            db.add(LiveInvite(token=token, session_id=session_id, created_by=by))
        return token

    async def accept_invite(self, user_id: int, token: str) -> str:
        """The session the invitation was for; LiveRefused when used or unknown."""
        async with self._sessions.begin() as db:
            used = await db.execute(
                update(LiveInvite)
                .where(LiveInvite.token == token, LiveInvite.used_by.is_(None))
                .values(used_by=user_id)
                .returning(LiveInvite.session_id)
            )
            session_id = used.scalar_one_or_none()
            if session_id is None:
                raise LiveRefused("invite_used")
            await db.execute(
                insert_for(db, LiveModerator)
                .values(session_id=session_id, user_id=user_id, added_at=utcnow())
                .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
            )
        return str(session_id)

    # -- what the next typed text is for ---------------------------------------------------

    async def pending(self, user_id: int) -> Pending | None:
        async with self._sessions() as db:
            row = await db.get(LiveInput, user_id)
        if row is None:
            return None
        if row.started_at < utcnow() - INPUT_EXPIRES:
            await self.cancel_input(user_id)
            return None
        return Pending(row.purpose, row.session_id, row.question_id, row.anonymous)

    async def cancel_input(self, user_id: int) -> None:
        async with self._sessions.begin() as db:
            await db.execute(delete(LiveInput).where(LiveInput.user_id == user_id))

    async def _expect(
        self, db: AsyncSession, user_id: int, purpose: str, session_id: str, **values: object
    ) -> None:
        fields: dict[str, object] = {"purpose": purpose, "session_id": session_id}
        fields["question_id"] = None
        fields |= {"anonymous": False, "started_at": utcnow(), **values}
        await db.execute(
            insert_for(db, LiveInput)
            .values(user_id=user_id, **fields)
            .on_conflict_do_update(index_elements=["user_id"], set_=fields)
        )

    # -- questions -------------------------------------------------------------------------

    async def begin_question(self, user_id: int, session_id: str) -> None:
        """ "❓ Ask the panel": the next text is the question (refused while closed, or while
        the person's previous question waits)."""
        session = self.session(session_id)
        async with self._sessions.begin() as db:
            if not self._opened(await db.get(LiveRoom, session_id), session):
                raise LiveRefused("closed")
            if await self._open_question(db, user_id, session_id) is not None:
                raise LiveRefused("one_open")
            await self._expect(db, user_id, "question", session_id)

    @staticmethod
    async def _open_question(db: AsyncSession, user_id: int, session_id: str) -> int | None:
        found = await db.scalar(
            select(LiveQuestion.id).where(
                LiveQuestion.session_id == session_id,
                LiveQuestion.user_id == user_id,
                LiveQuestion.status.in_(OPEN_STATES),
            )
        )
        return int(found) if found is not None else None

    async def toggle_anonymous(self, user_id: int) -> bool:
        """Ask anonymously (or not): whether it is anonymous now."""
        async with self._sessions.begin() as db:
            row = await db.get(LiveInput, user_id)
            if row is None or row.purpose != "question":
                raise LiveRefused("nothing_pending")
            row.anonymous = not row.anonymous
            return row.anonymous

    async def ask(self, user_id: int, name: str, text: str | None) -> Question:
        """The typed question, kept if it is a question and the room still takes it."""
        cleaned = clean_text(text, MAX_QUESTION)
        pending = await self.pending(user_id)
        if pending is None or pending.purpose != "question":
            raise LiveRefused("nothing_pending")
        session = self.session(pending.session_id)
        if not (await self.room(session.id)).open:
            await self.cancel_input(user_id)  # closed meanwhile: the next text is not for it
            raise LiveRefused("closed")
        try:
            async with self._sessions.begin() as db:
                room = self._room(await db.get(LiveRoom, session.id), session)
                question = LiveQuestion(
                    session_id=session.id,
                    user_id=user_id,
                    author_name=(" ".join(name.split()) or "?")[:MAX_NAME],
                    anonymous=pending.anonymous,
                    text=cleaned,
                    status=PENDING if room.moderated else APPROVED,
                    created_at=utcnow(),
                )
                db.add(question)
                await db.execute(delete(LiveInput).where(LiveInput.user_id == user_id))
                await db.flush()
                await self._changed(db, session.id)
        except IntegrityError:
            raise LiveRefused("one_open") from None  # two texts at once: the first counts
        return Question(
            question.id,
            question.text,
            question.author_name,
            question.anonymous,
            question.status,
            0,
            user_id,
        )

    async def vote(self, user_id: int, session_id: str, question_id: int) -> Voted:
        """👍, or its removal when pressed again: whether the person's vote is there now, and
        whether moderators' lists wait to be edited."""
        session = self.session(session_id)
        async with self._sessions.begin() as db:
            question = await db.get(LiveQuestion, question_id)
            if question is None or question.session_id != session_id:
                raise LiveRefused("unknown_question")
            if question.status != APPROVED:
                raise LiveRefused("not_votable")
            if question.user_id == user_id:
                raise LiveRefused("own_question")
            if not self._opened(await db.get(LiveRoom, session_id), session):
                raise LiveRefused("closed")
            removed = await db.execute(
                delete(LiveVote).where(
                    LiveVote.question_id == question_id, LiveVote.user_id == user_id
                )
            )
            lists = await self._changed(db, session_id)
            if getattr(removed, "rowcount", 0):
                return Voted(False, lists)
            try:
                await db.execute(
                    insert_for(db, LiveVote)
                    .values(question_id=question_id, user_id=user_id)
                    .on_conflict_do_nothing(index_elements=["question_id", "user_id"])
                )
            except IntegrityError:  # the question was erased (/forget) a moment ago
                raise LiveRefused("unknown_question") from None
            return Voted(True, lists)

    async def moderate(
        self, user_id: int, session_id: str, question_id: int, action: str
    ) -> Question:
        """approve | hide | answered | pin, by a moderator of this question's session."""
        if action not in ACTIONS:
            raise LiveRefused("unknown_question")
        await self._require_moderator(user_id, session_id)
        async with self._sessions.begin() as db:
            question = await db.get(LiveQuestion, question_id)
            if question is None or question.session_id != session_id:
                raise LiveRefused("unknown_question")
            await self._ensure_room(db, session_id)
            room = await db.get(LiveRoom, session_id)
            assert room is not None
            if action == "approve":
                question.status = APPROVED
            elif action == "hide":
                question.status = HIDDEN
                await self._expect(db, user_id, "reason", session_id, question_id=question_id)
            elif action == "answered":
                question.status = ANSWERED
            elif action == "pin":
                question.status = APPROVED
                room.pinned_id = question_id
            if action != "pin" and room.pinned_id == question_id:
                room.pinned_id = None
            await self._changed(db, session_id)
            votes = await db.scalar(
                select(func.count()).where(LiveVote.question_id == question_id)
            )
            return Question(
                question.id,
                question.text,
                question.author_name,
                question.anonymous,
                question.status,
                int(votes or 0),
                question.user_id,
            )

    async def tell_hidden(self, moderator_id: int, reason: str | None) -> Question:
        """The hidden question's author is told, with the moderator's reason if one is
        given (None: without one). The notice goes through the outbox."""
        pending = await self.pending(moderator_id)
        if pending is None or pending.purpose != "reason" or pending.question_id is None:
            raise LiveRefused("nothing_pending")
        cleaned = clean_text(reason, MAX_REASON) if reason is not None else None
        async with self._sessions.begin() as db:
            await db.execute(delete(LiveInput).where(LiveInput.user_id == moderator_id))
            question = await db.get(LiveQuestion, pending.question_id)
            if question is None or question.status != HIDDEN:
                raise LiveRefused("unknown_question")
            outbox.add(
                db,
                HIDDEN_KIND,
                key=f"{question.user_id}:{question.session_id}",
                question=question.text[:80],
                reason=cleaned,
            )
            return Question(
                question.id,
                question.text,
                question.author_name,
                question.anonymous,
                question.status,
                0,
                question.user_id,
            )

    async def set_state(self, user_id: int, session_id: str, state: str) -> bool:
        """A moderator opens or closes the questions; closing asks for feedback (once).
        Whether feedback requests were queued."""
        if state not in ("open", "closed"):
            raise LiveRefused("unknown_session")
        await self._require_moderator(user_id, session_id)
        async with self._sessions.begin() as db:
            await self._ensure_room(db, session_id)
            await db.execute(
                update(LiveRoom).where(LiveRoom.session_id == session_id).values(state=state)
            )
            await self._changed(db, session_id)
            if state == "closed":
                return await self._ask_feedback(db, session_id) > 0
        return False

    async def set_moderated(self, user_id: int, session_id: str, moderated: bool) -> None:
        await self._require_moderator(user_id, session_id)
        async with self._sessions.begin() as db:
            await self._ensure_room(db, session_id)
            await db.execute(
                update(LiveRoom)
                .where(LiveRoom.session_id == session_id)
                .values(moderated=moderated)
            )
            await self._changed(db, session_id)

    # -- reading ---------------------------------------------------------------------------

    async def board(self, session_id: str, viewer: int | None, *, moderator: bool) -> Board:
        """The ranked questions: moderators see all awaiting or approved, others (and the
        screen) only the approved ones; `viewer`'s own question and rank."""
        session = self.session(session_id)
        votes = func.count(LiveVote.user_id).label("votes")
        async with self._sessions() as db:
            room = self._room(await db.get(LiveRoom, session_id), session)
            rows = (
                await db.execute(
                    select(LiveQuestion, votes)
                    .outerjoin(LiveVote, LiveVote.question_id == LiveQuestion.id)
                    .where(LiveQuestion.session_id == session_id)
                    .group_by(LiveQuestion.id)
                    .order_by(votes.desc(), LiveQuestion.id)
                )
            ).all()
            voted: frozenset[int] = frozenset()
            if viewer is not None:
                voted = frozenset(
                    await db.scalars(
                        select(LiveVote.question_id)
                        .join(LiveQuestion, LiveQuestion.id == LiveVote.question_id)
                        .where(LiveVote.user_id == viewer, LiveQuestion.session_id == session_id)
                    )
                )
        every = [
            Question(q.id, q.text, q.author_name, q.anonymous, q.status, int(n), q.user_id)
            for q, n in rows
        ]
        approved = [q for q in every if q.status == APPROVED]
        pinned = next((q for q in approved if q.id == room.pinned_id), None)
        shown = [q for q in every if q.status in OPEN_STATES] if moderator else approved
        mine = next((q for q in every if q.user_id == viewer and q.status in OPEN_STATES), None)
        rank = next((i for i, q in enumerate(approved, 1) if mine and q.id == mine.id), None)
        return Board(
            room=room,
            questions=[q for q in shown if pinned is None or q.id != pinned.id],
            pinned=pinned,
            mine=mine,
            my_rank=rank,
            voted=voted,
            waiting=sum(1 for q in every if q.status == PENDING),
        )

    async def screen_key(self, user_id: int, session_id: str) -> str:
        """The projector page's secret for this session (made on first use): moderators."""
        await self._require_moderator(user_id, session_id)
        async with self._sessions.begin() as db:
            await self._ensure_room(db, session_id)
            await db.execute(
                update(LiveRoom)
                .where(LiveRoom.session_id == session_id, LiveRoom.screen_key.is_(None))
                .values(screen_key=secrets.token_urlsafe(24))
            )
            key = await db.scalar(
                select(LiveRoom.screen_key).where(LiveRoom.session_id == session_id)
            )
        return str(key)

    async def screen(self, session_id: str, key: str) -> Board | None:
        """The screen's board, or None when the key is not this session's."""
        try:
            self.session(session_id)
        except LiveRefused:
            return None
        async with self._sessions() as db:
            stored = await db.scalar(
                select(LiveRoom.screen_key).where(LiveRoom.session_id == session_id)
            )
        if not stored or not key or not secrets.compare_digest(stored, key):
            return None
        return await self.board(session_id, None, moderator=False)

    # -- feedback --------------------------------------------------------------------------

    async def _ask_feedback(self, db: AsyncSession, session_id: str) -> int:
        """Queue one request per person who saved the session or asked in it (once per
        session: a compare-and-set on `feedback_at`). How many were queued."""
        await self._ensure_room(db, session_id)
        claimed = await db.execute(
            update(LiveRoom)
            .where(LiveRoom.session_id == session_id, LiveRoom.feedback_at.is_(None))
            .values(feedback_at=utcnow())
        )
        if not getattr(claimed, "rowcount", 0):
            return 0
        people = select(SavedSession.user_id).where(SavedSession.session_id == session_id)
        askers = select(LiveQuestion.user_id).where(LiveQuestion.session_id == session_id)
        recipients = await db.scalars(
            select(User.id)
            .where(or_(User.id.in_(people), User.id.in_(askers)), User.blocked_at.is_(None))
            .order_by(User.id)
        )
        count = 0
        for user_id in recipients:
            outbox.add(db, FEEDBACK_KIND, key=f"{user_id}:{session_id}")
            count += 1
        return count

    async def due_feedback(self) -> int:
        """Sessions that ended lately and were not asked about yet: ask (any worker may run
        this at any time; each session is asked about once). How many requests were queued."""
        now = self.now()
        queued = 0
        for session in self.content.sessions:
            end = ends_at(self.content, session)
            if session.kind not in LIVE_KINDS or end is None:
                continue
            if not end <= now < end + FEEDBACK_WINDOW:
                continue
            async with self._sessions.begin() as db:
                queued += await self._ask_feedback(db, session.id)
        return queued

    async def rate(self, user_id: int, session_id: str, stars: int) -> None:
        self.session(session_id)
        if not 1 <= stars <= 5:
            raise LiveRefused("unknown_session")
        async with self._sessions.begin() as db:
            room = await db.get(LiveRoom, session_id)
            if room is None or room.feedback_at is None:
                raise LiveRefused("no_feedback_yet")
            values = {"stars": stars, "updated_at": utcnow()}
            await db.execute(
                insert_for(db, LiveFeedback)
                .values(session_id=session_id, user_id=user_id, **values)
                .on_conflict_do_update(index_elements=["session_id", "user_id"], set_=values)
            )

    async def begin_comment(self, user_id: int, session_id: str) -> None:
        self.session(session_id)
        async with self._sessions.begin() as db:
            room = await db.get(LiveRoom, session_id)
            if room is None or room.feedback_at is None:
                raise LiveRefused("no_feedback_yet")
            await self._expect(db, user_id, "comment", session_id)

    async def comment(self, user_id: int, text: str | None) -> str:
        """The typed comment on the session the person was asked about: its id."""
        cleaned = clean_text(text, MAX_COMMENT)
        pending = await self.pending(user_id)
        if pending is None or pending.purpose != "comment":
            raise LiveRefused("nothing_pending")
        values = {"comment": cleaned, "updated_at": utcnow()}
        async with self._sessions.begin() as db:
            await db.execute(
                insert_for(db, LiveFeedback)
                .values(session_id=pending.session_id, user_id=user_id, **values)
                .on_conflict_do_update(index_elements=["session_id", "user_id"], set_=values)
            )
            await db.execute(delete(LiveInput).where(LiveInput.user_id == user_id))
        return pending.session_id

    async def feedback(self, session_ids: list[str] | None = None) -> list[FeedbackSummary]:
        """Per session (programme order): ratings, their average, the comments."""
        async with self._sessions() as db:
            query = select(LiveFeedback).order_by(LiveFeedback.updated_at)
            if session_ids is not None:
                query = query.where(LiveFeedback.session_id.in_(session_ids))
            rows = list(await db.scalars(query))
        out = []
        for session in self.content.sessions:
            mine = [r for r in rows if r.session_id == session.id]
            if not mine:
                continue
            stars = [r.stars for r in mine if r.stars is not None]
            out.append(
                FeedbackSummary(
                    session.id,
                    len(stars),
                    round(sum(stars) / len(stars), 2) if stars else None,
                    [r.comment for r in mine if r.comment],
                )
            )
        return out

    async def feedback_csv(self) -> bytes | None:
        """Every rating and comment, one row each, without who gave it (None: none yet)."""
        async with self._sessions() as db:
            rows = list(
                await db.scalars(
                    select(LiveFeedback).order_by(LiveFeedback.session_id, LiveFeedback.updated_at)
                )
            )
        if not rows:
            return None
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["session", "stars", "comment", "updated_at"])
        for row in rows:
            writer.writerow(
                [row.session_id, row.stars or "", row.comment or "", row.updated_at.isoformat()]
            )
        return buffer.getvalue().encode("utf-8")


async def forget_person(db: AsyncSession, user_id: int) -> None:
    """/forget, in its transaction: the person's questions (and the votes they had), their
    votes (others' counts drop), feedback, moderator roles, prompts and notices on their way."""
    theirs = select(LiveQuestion.id).where(LiveQuestion.user_id == user_id)
    await db.execute(update(LiveRoom).where(LiveRoom.pinned_id.in_(theirs)).values(pinned_id=None))
    await db.execute(
        delete(LiveVote).where(or_(LiveVote.user_id == user_id, LiveVote.question_id.in_(theirs)))
    )
    await db.execute(delete(LiveQuestion).where(LiveQuestion.user_id == user_id))
    await db.execute(delete(LiveFeedback).where(LiveFeedback.user_id == user_id))
    await db.execute(delete(LiveModerator).where(LiveModerator.user_id == user_id))
    await db.execute(delete(LiveBoard).where(LiveBoard.chat_id == user_id))
    await db.execute(delete(LiveInput).where(LiveInput.user_id == user_id))
    await db.execute(
        update(LiveInvite)
        .where(or_(LiveInvite.created_by == user_id, LiveInvite.used_by == user_id))
        .values(created_by=None, used_by=-1)
    )
    await db.execute(
        delete(OutboxNotice).where(
            and_(
                OutboxNotice.kind.in_((FEEDBACK_KIND, HIDDEN_KIND)),
                OutboxNotice.key.like(f"{user_id}:%"),
            )
        )
    )


LIVE_TABLES: Final = (
    "live_questions",
    "live_votes",
    "live_feedback",
    "live_moderators",
    "live_boards",
    "live_inputs",
    "live_invites",
    "live_rooms",
    "outbox",
)
