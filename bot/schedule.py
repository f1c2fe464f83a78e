"""My agenda in time: when sessions happen, now and next, reminders and change notices.

Nothing here knows Telegram, and nothing waits in memory: a reminder is a delivery row with a
due time (`not_before`) in the broadcast queue, drained by the one worker holding the sending
role at the bot's one pace (bot/broadcasts.py). `ReminderPlanner.sync` makes the rows match
what people saved and the programme says (idempotent: any worker may run it, at any time);
`ProgrammeTracker.record` compares the programme with the last one seen and keeps the change
for an admin to confirm.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content, Session
from bot.db import affected, insert_for
from bot.i18n import normalize_language, plain
from bot.models import Broadcast, Delivery, ProgrammeSnapshot, SavedSession, User
from bot.models.base import utcnow
from bot.models.broadcast import BroadcastKind, BroadcastStatus, DeliveryStatus

REMINDER_CHOICES = (10, 15, 30)  # minutes before; 0 = off
DEFAULT_REMINDER = 10
DRAFT = "draft"  # a change notice waiting for an admin's confirmation (Broadcast.status)
SNAPSHOT_ROW = 1
# The fan-out of N reminders starts N / rate seconds before they are due, stretched by this
# factor (replies to people go first and take part of the budget: the queue may get only 80%
# of BROADCAST_RATE) plus a few seconds of slack. Early by a few seconds is fine; late is not.
FAN_OUT_SHARE = 1.25
FAN_OUT_SLACK = 5.0
WallClock = Callable[[], dt.datetime]


# -- when ---------------------------------------------------------------------------------------


def zone(content: Content) -> ZoneInfo:
    return ZoneInfo(content.event.timezone)


def starts_at(content: Content, session: Session) -> dt.datetime | None:
    """When it starts (aware, in the event's zone), or None while the date is unknown."""
    if content.event.date is None:
        return None
    return dt.datetime.combine(content.event.date, session.start, tzinfo=zone(content))


def ends_at(content: Content, session: Session) -> dt.datetime | None:
    if content.event.date is None:
        return None
    return dt.datetime.combine(content.event.date, session.end, tzinfo=zone(content))


def overlapping(sessions: Iterable[Session]) -> set[str]:
    """Ids of the sessions that overlap another one of `sessions` (same day)."""
    ordered = sorted(sessions, key=lambda s: (s.start, s.end))
    found: set[str] = set()
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if second.start >= first.end:
                break
            found.update((first.id, second.id))
    return found


@dataclass(frozen=True)
class NowNext:
    """What is on at `now`: state is no_date, before, during or after."""

    state: str
    current: list[Session]
    upcoming: list[Session]
    day_starts: dt.datetime | None = None


def now_and_next(content: Content, now: dt.datetime) -> NowNext:
    sessions = content.sessions
    if content.event.date is None or not sessions:
        return NowNext("no_date", [], sessions)
    local = now.astimezone(zone(content))
    first = starts_at(content, sessions[0])
    last_end = max(ends_at(content, s) for s in sessions)  # type: ignore[type-var]
    assert first is not None and last_end is not None
    if local < first:
        return NowNext("before", [], [s for s in sessions if s.start == sessions[0].start], first)
    if local >= last_end:
        return NowNext("after", [], [])
    current = [s for s in sessions if starts_at(content, s) <= local < ends_at(content, s)]  # type: ignore[operator]
    later = [s for s in sessions if starts_at(content, s) > local]  # type: ignore[operator]
    upcoming = [s for s in later if s.start == later[0].start] if later else []
    return NowNext("during", current, upcoming)


def sessions_after(content: Content, session: Session) -> list[Session]:
    """What comes next once `session` ends: the sessions starting first after it."""
    later = [s for s in content.sessions if s.start >= session.end and s.id != session.id]
    return [s for s in later if s.start == later[0].start] if later else []


def session_time(content: Content, session: Session, lang: str) -> str:
    """ "09:30–10:30", marked (indicative) while the programme is a draft."""
    start, end = f"{session.start:%H:%M}", f"{session.end:%H:%M}"
    if content.draft:
        return plain("truth.time.indicative", lang, start=start, end=end)
    return f"{start}–{end}"


# -- reminders ----------------------------------------------------------------------------------


def reminder_text(content: Content, session: Session, lang: str, minutes: int) -> str:
    room = session.room.get(lang) if session.room else None
    text = plain(
        "agenda.reminder.text",
        lang,
        minutes=minutes,
        title=session.title.get(lang),
        when=session_time(content, session, lang),
    )
    if room:
        text += "\n" + plain("agenda.reminder.room", lang, room=room)
    return text


def fan_out_lead(recipients: int, rate: float) -> dt.timedelta:
    """How long before the due time a batch of `recipients` reminders starts going out."""
    if recipients <= 0:
        return dt.timedelta(0)
    return dt.timedelta(seconds=math.ceil(recipients / rate * FAN_OUT_SHARE + FAN_OUT_SLACK))


@dataclass(frozen=True)
class _Wanted:
    user_id: int
    batch_key: str
    once_key: str
    due: dt.datetime
    text: str
    title: str


class ReminderPlanner:
    """Reminder rows in the delivery queue that match saved sessions and the programme."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], rate: float, now: WallClock = utcnow
    ) -> None:
        self._sessions = sessions
        self.rate = rate
        self.now = now

    async def sync(self, content: Content, user_id: int | None = None) -> int:
        """Create, move or cancel reminders (everyone's, or one person's): rows now pending.

        Safe to run anywhere, any number of times: a reminder already sent is never queued
        again (its once-key is per person, session and session time).
        """
        now = self.now()
        async with self._sessions.begin() as session:
            wanted = await self._wanted(session, content, now, user_id)
            keep = {(w.user_id, w.batch_key) for w in wanted}
            await self._drop_unwanted(session, keep, user_id)
            batches = await self._batches(session, wanted, now)
            if wanted:
                await session.execute(
                    insert_for(session, Delivery).on_conflict_do_nothing(),
                    [
                        {
                            "broadcast_id": batches[w.batch_key],
                            "user_id": w.user_id,
                            "status": DeliveryStatus.PENDING.value,
                            "text": w.text,
                            "once_key": w.once_key,
                            "not_before": w.due,
                        }
                        for w in wanted
                    ],
                )
            dues = {w.batch_key: w.due for w in wanted}
            for key, broadcast_id in batches.items():
                await self._spread(session, broadcast_id, dues[key], now)
            pending = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
                .where(
                    Broadcast.kind == BroadcastKind.REMINDER,
                    Delivery.status == DeliveryStatus.PENDING,
                    *([Delivery.user_id == user_id] if user_id is not None else []),
                )
            )
        return int(pending or 0)

    async def _wanted(
        self, session: AsyncSession, content: Content, now: dt.datetime, user_id: int | None
    ) -> list[_Wanted]:
        if content.event.date is None:
            return []  # no date, no reminders: nothing honest to remind of
        query = (
            select(
                SavedSession.user_id,
                SavedSession.session_id,
                User.reminder_minutes,
                User.chosen_language,
                User.telegram_language,
            )
            .join(User, User.id == SavedSession.user_id)
            .where(User.reminder_minutes > 0, User.blocked_at.is_(None))
        )
        if user_id is not None:
            query = query.where(SavedSession.user_id == user_id)
        wanted = []
        for uid, session_id, minutes, chosen, telegram in await session.execute(query):
            item = content.session(session_id)
            start = starts_at(content, item) if item else None
            if item is None or start is None or start <= now:
                continue
            lang = chosen or normalize_language(telegram)
            start_utc = start.astimezone(dt.UTC)
            stamp = f"{start_utc:%Y%m%dT%H%MZ}"
            wanted.append(
                _Wanted(
                    user_id=uid,
                    batch_key=f"reminder:{session_id}:{stamp}:{minutes}",
                    once_key=f"reminder:{session_id}:{stamp}",
                    due=max(start_utc - dt.timedelta(minutes=minutes), now),
                    text=reminder_text(content, item, lang, minutes),
                    title=item.title.get("en"),
                )
            )
        return wanted

    async def _drop_unwanted(
        self, session: AsyncSession, keep: set[tuple[int, str]], user_id: int | None
    ) -> None:
        """Pending reminders nobody wants any more: unsaved, moved, cancelled, no date."""
        query = (
            select(Delivery.id, Delivery.user_id, Broadcast.key)
            .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
            .where(
                Broadcast.kind == BroadcastKind.REMINDER,
                Delivery.status == DeliveryStatus.PENDING,
            )
        )
        if user_id is not None:
            query = query.where(Delivery.user_id == user_id)
        stale = [i for i, uid, key in await session.execute(query) if (uid, key) not in keep]
        for start in range(0, len(stale), 500):
            await session.execute(
                delete(Delivery).where(Delivery.id.in_(stale[start : start + 500]))
            )

    async def _batches(
        self, session: AsyncSession, wanted: list[_Wanted], now: dt.datetime
    ) -> dict[str, int]:
        """The batch (a reminder broadcast row) of each key wanted, created once."""
        keys = {w.batch_key: w for w in wanted}
        if not keys:
            return {}
        await session.execute(
            insert_for(session, Broadcast).on_conflict_do_nothing(index_elements=["key"]),
            [
                {
                    "kind": BroadcastKind.REMINDER.value,
                    "key": key,
                    "text": f"⏰ {w.title} ({w.due:%Y-%m-%d %H:%M} UTC)",
                    "audience": "saved",
                    "language": "en",
                    "status": BroadcastStatus.SENDING.value,
                    "total": 0,
                    "created_at": now,
                }
                for key, w in keys.items()
            ],
        )
        rows = await session.execute(
            select(Broadcast.key, Broadcast.id).where(Broadcast.key.in_(list(keys)))
        )
        return {key: ident for key, ident in rows if key is not None}

    async def _spread(
        self, session: AsyncSession, broadcast_id: int, due: dt.datetime, now: dt.datetime
    ) -> None:
        """Start the batch early enough that its last reminder goes out by the due time."""
        pending = int(
            await session.scalar(
                select(func.count()).where(
                    Delivery.broadcast_id == broadcast_id,
                    Delivery.status == DeliveryStatus.PENDING,
                )
            )
            or 0
        )
        total = await session.scalar(
            select(func.count()).where(Delivery.broadcast_id == broadcast_id)
        )
        start = max(due - fan_out_lead(pending, self.rate), now)
        await session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.PENDING
            )
            .values(not_before=start)
        )
        values: dict[str, Any] = {"total": int(total or 0)}
        if pending:
            values.update(status=BroadcastStatus.SENDING, finished_at=None)
        await session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(**values)
        )

    async def set_minutes(self, user_id: int, minutes: int) -> int:
        """A person's reminder setting (10, 15, 30 or 0 = off); returns the one stored."""
        if minutes not in (0, *REMINDER_CHOICES):
            raise ValueError(f"reminders come 10, 15 or 30 minutes before, or never: {minutes}")
        async with self._sessions.begin() as session:
            await session.execute(
                update(User).where(User.id == user_id).values(reminder_minutes=minutes)
            )
        return minutes

    async def minutes(self, user_id: int) -> int:
        async with self._sessions() as session:
            value = await session.scalar(select(User.reminder_minutes).where(User.id == user_id))
        return DEFAULT_REMINDER if value is None else int(value)


# -- change notices ---------------------------------------------------------------------------


def snapshot_of(content: Content, session: Session) -> dict[str, Any]:
    return {
        "title": dict(session.title.root),
        "start": f"{session.start:%H:%M}",
        "end": f"{session.end:%H:%M}",
        "date": content.event.date.isoformat() if content.event.date else None,
        "room": dict(session.room.root) if session.room else None,
    }


@dataclass(frozen=True)
class SessionChange:
    """What changed in one session: any of time, room, title; or cancelled; or new."""

    session_id: str
    what: tuple[str, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.session_id,
            "what": list(self.what),
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionChange:
        return cls(data["id"], tuple(data["what"]), data["before"], data["after"])


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[SessionChange]:
    """The changes from one programme snapshot (id -> snapshot) to another, in `after`'s order
    (cancelled ones last)."""
    changes = []
    for ident, new in after.items():
        old = before.get(ident)
        if old is None:
            changes.append(SessionChange(ident, ("new",), None, new))
            continue
        what = []
        # The date is the event's (an EventChange), not each session's: a date set or moved
        # is told once, not as eleven sessions "changed" with no visible difference.
        if (old["start"], old["end"]) != (new["start"], new["end"]):
            what.append("time")
        if old["room"] != new["room"]:
            what.append("room")
        if old["title"] != new["title"]:
            what.append("title")
        if what:
            changes.append(SessionChange(ident, tuple(what), old, new))
    changes += [
        SessionChange(ident, ("cancelled",), old, None)
        for ident, old in before.items()
        if ident not in after
    ]
    return changes


EVENT_KEY = "@event"  # the event's date and venue, beside the sessions in the stored snapshot


def event_snapshot(content: Content) -> dict[str, Any]:
    event = content.event
    return {
        "date": event.date.isoformat() if event.date else None,
        "venue": dict(event.venue.root) if event.venue else None,
    }


@dataclass(frozen=True)
class EventChange:
    """The event's date or venue announced, moved or withdrawn (after /reload)."""

    what: tuple[str, ...]
    before: dict[str, Any]
    after: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"what": list(self.what), "before": self.before, "after": self.after}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> EventChange | None:
        if not data:
            return None
        return cls(tuple(data["what"]), data["before"], data["after"])


def compare_event(before: dict[str, Any], after: dict[str, Any]) -> EventChange | None:
    what = tuple(field for field in ("date", "venue") if before.get(field) != after.get(field))
    return EventChange(what, before, after) if what else None


def _stored_event(stored: dict[str, Any]) -> dict[str, Any]:
    """The event last seen; from a snapshot stored before it was kept, its sessions' date."""
    if EVENT_KEY in stored:
        return dict(stored[EVENT_KEY])
    dates = [v["snapshot"].get("date") for v in stored.values() if not v.get("cancelled")]
    return {"date": dates[0] if dates else None, "venue": None}


def _day(iso: str | None) -> str:
    return f"{dt.date.fromisoformat(iso):%d/%m/%Y}" if iso else "–"


def event_lines(change: EventChange, lang: str) -> list[str]:
    """ "The date is now announced: 05/12/2026.", "The venue has changed: A → B." ..."""
    lines = []
    for field in change.what:
        old, new = change.before.get(field), change.after.get(field)
        show = _day if field == "date" else (lambda value: _text(value, lang))
        state = "known" if old is None else "withdrawn" if new is None else "moved"
        lines.append(
            plain(f"agenda.change.{field}_{state}", lang, before=show(old), after=show(new))
        )
    return lines


def _text(value: dict[str, str] | None, lang: str) -> str:
    if not value:
        return "–"
    return value.get(lang) or value.get("en") or "–"


def _when(snapshot: dict[str, Any], lang: str, draft: bool) -> str:
    start, end = snapshot["start"], snapshot["end"]
    return (
        plain("truth.time.indicative", lang, start=start, end=end) if draft else f"{start}–{end}"
    )


def change_line(change: SessionChange, lang: str, draft: bool) -> str:
    """One line of a notice: "Title: time 09:30–10:30 → 10:00–11:00; room A → B"."""
    before, after = change.before, change.after
    title = _text((after or before or {}).get("title"), lang)
    if "cancelled" in change.what:
        return plain("agenda.change.cancelled", lang, title=title)
    if "new" in change.what:
        assert after is not None
        return plain("agenda.change.new", lang, title=title, when=_when(after, lang, draft))
    assert before is not None and after is not None
    parts = []
    if "time" in change.what:
        parts.append(
            plain(
                "agenda.change.time",
                lang,
                before=_when(before, lang, draft),
                after=_when(after, lang, draft),
            )
        )
    if "room" in change.what:
        parts.append(
            plain(
                "agenda.change.room",
                lang,
                before=_text(before["room"], lang),
                after=_text(after["room"], lang),
            )
        )
    if "title" in change.what:
        parts.append(plain("agenda.change.title", lang, before=_text(before["title"], lang)))
    return plain("agenda.change.line", lang, title=title, changes="; ".join(parts))


def notice_text(
    changes: list[SessionChange], lang: str, draft: bool, event: EventChange | None = None
) -> str:
    """One person's notice: the event's news (date, venue), then the sessions they saved
    that changed."""
    lines = [plain("agenda.change.header" if changes else "agenda.change.header_event", lang)]
    if event is not None:
        lines += [f"• {line}" for line in event_lines(event, lang)]
    lines += [f"• {change_line(c, lang, draft)}" for c in changes]
    lines.append(plain("agenda.change.footer", lang))
    return "\n".join(lines)


@dataclass(frozen=True)
class NoticePlan:
    """A change waiting for an admin: what changed, how many people are to be told, and the
    changed sessions the person with the most of them saved (their notice is the preview)."""

    broadcast_id: int
    revision: int
    changes: list[SessionChange]
    people: int
    draft: bool
    event: EventChange | None = None
    sample: tuple[str, ...] = ()
    affected: int = 0  # of `people`, those who saved a changed session

    def sample_changes(self) -> list[SessionChange]:
        return [c for c in self.changes if c.session_id in self.sample]


class ProgrammeTracker:
    """The last programme seen, and the changes found on each (re)load."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, content: Content) -> int | None:
        """Compare `content` with the last programme seen and keep it. When something changed,
        a change notice waits for an admin's confirmation: its broadcast id, else None.

        A compare-and-set on the revision: two workers reading the same change record it once.
        """
        current = {s.id: snapshot_of(content, s) for s in content.sessions}
        event_now = event_snapshot(content)
        for _attempt in range(5):
            async with self._sessions.begin() as session:
                row = await session.get(ProgrammeSnapshot, SNAPSHOT_ROW)
                if row is None:
                    await session.execute(
                        insert_for(session, ProgrammeSnapshot)
                        .values(
                            id=SNAPSHOT_ROW,
                            revision=1,
                            sessions=json.dumps(_stored(current, {}, event_now)),
                            updated_at=utcnow(),
                        )
                        .on_conflict_do_nothing(index_elements=["id"])
                    )
                    return None  # the first programme seen: nothing to compare with
                stored = json.loads(row.sessions)
                event_change = compare_event(_stored_event(stored), event_now)
                stored.pop(EVENT_KEY, None)
                before = {k: v["snapshot"] for k, v in stored.items() if not v.get("cancelled")}
                changes = compare(before, current)
                if not changes and event_change is None:
                    return None
                revision = row.revision + 1
                moved = await session.execute(
                    update(ProgrammeSnapshot)
                    .where(
                        ProgrammeSnapshot.id == SNAPSHOT_ROW,
                        ProgrammeSnapshot.revision == row.revision,
                    )
                    .values(
                        revision=revision,
                        sessions=json.dumps(_stored(current, stored, event_now)),
                        updated_at=utcnow(),
                    )
                )
                if not affected(moved):
                    continue  # another worker recorded a change meanwhile: compare again
                notice = Broadcast(
                    kind=BroadcastKind.CHANGE_NOTICE,
                    key=f"changes:{revision}",
                    text=json.dumps(
                        {
                            "draft": content.draft,
                            "changes": [c.as_json() for c in changes],
                            "event": event_change.as_json() if event_change else None,
                        }
                    ),
                    audience="saved",
                    language="en",
                    status=DRAFT,
                    total=0,
                    created_at=utcnow(),
                )
                session.add(notice)
                await session.flush()
                return notice.id
        raise RuntimeError("the programme snapshot kept changing under us")

    async def sequences(self) -> dict[str, int]:
        """Each session's change count: the SEQUENCE of its calendar event."""
        async with self._sessions() as session:
            row = await session.get(ProgrammeSnapshot, SNAPSHOT_ROW)
        if row is None:
            return {}
        stored = json.loads(row.sessions)
        return {k: int(v["sequence"]) for k, v in stored.items() if k != EVENT_KEY}

    async def waiting(self) -> list[NoticePlan]:
        """Change notices no admin has confirmed or dropped yet, oldest first."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(Broadcast)
                    .where(
                        Broadcast.kind == BroadcastKind.CHANGE_NOTICE, Broadcast.status == DRAFT
                    )
                    .order_by(Broadcast.id)
                )
            ).all()
            return [await self._plan(session, row) for row in rows]

    async def plan(self, broadcast_id: int) -> NoticePlan | None:
        async with self._sessions() as session:
            row = await session.get(Broadcast, broadcast_id)
            if row is None or row.kind != BroadcastKind.CHANGE_NOTICE or row.status != DRAFT:
                return None
            return await self._plan(session, row)

    async def _plan(self, session: AsyncSession, row: Broadcast) -> NoticePlan:
        data = json.loads(row.text)
        changes = [SessionChange.from_json(c) for c in data["changes"]]
        event = EventChange.from_json(data.get("event"))
        people = await self._recipients(session, changes, everyone=event is not None)
        revision = int((row.key or "changes:0").split(":")[1])
        # The preview is one real notice: that of the person told about the most sessions.
        sample = max(people.values(), key=lambda told: len(told[1]), default=("en", []))[1]
        return NoticePlan(
            row.id,
            revision,
            changes,
            len(people),
            bool(data.get("draft")),
            event,
            tuple(sample),
            sum(1 for _lang, saved in people.values() if saved),
        )

    @staticmethod
    async def _recipients(
        session: AsyncSession, changes: list[SessionChange], *, everyone: bool = False
    ) -> dict[int, tuple[str, list[str]]]:
        """Who saved a changed session (with `everyone`, a date or venue announced: who saved
        any session): id -> (language, the changed session ids they saved)."""
        ids = {c.session_id for c in changes}
        query = (
            select(
                SavedSession.user_id,
                SavedSession.session_id,
                User.chosen_language,
                User.telegram_language,
            )
            .join(User, User.id == SavedSession.user_id)
            .where(User.blocked_at.is_(None))
            .order_by(SavedSession.user_id, SavedSession.session_id)
        )
        if not everyone:
            query = query.where(SavedSession.session_id.in_(ids))
        people: dict[int, tuple[str, list[str]]] = {}
        for uid, session_id, chosen, telegram in await session.execute(query):
            lang = chosen or normalize_language(telegram)
            told = people.setdefault(uid, (lang, []))[1]
            if session_id in ids:
                told.append(session_id)
        return people

    async def confirm(
        self,
        broadcast_id: int,
        *,
        admin_id: int,
        language: str,
        progress_chat_id: int | None = None,
        progress_message_id: int | None = None,
    ) -> int | None:
        """Queue the notices (one per person, in their language): how many; None if it was
        already confirmed or dropped (a second press, on any worker, sends nothing)."""
        now = utcnow()
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.status == DRAFT)
                .values(status=BroadcastStatus.SENDING)
            )
            if affected(taken) != 1:
                return None
            row = await session.get(Broadcast, broadcast_id)
            assert row is not None
            data = json.loads(row.text)
            changes = [SessionChange.from_json(c) for c in data["changes"]]
            event = EventChange.from_json(data.get("event"))
            draft = bool(data.get("draft"))
            people = await self._recipients(session, changes, everyone=event is not None)
            by_id = {c.session_id: c for c in changes}
            if people:
                await session.execute(
                    insert_for(session, Delivery).on_conflict_do_nothing(),
                    [
                        {
                            "broadcast_id": broadcast_id,
                            "user_id": uid,
                            "status": DeliveryStatus.PENDING.value,
                            "text": notice_text([by_id[i] for i in saved], lang, draft, event),
                            "once_key": row.key,
                            "not_before": now,
                        }
                        for uid, (lang, saved) in people.items()
                    ],
                )
            row.admin_id = admin_id
            row.language = language
            row.text = notice_text(changes, language, draft, event)
            row.total = len(people)
            row.progress_chat_id = progress_chat_id
            row.progress_message_id = progress_message_id
            row.created_at = now
            if not people:
                row.status = BroadcastStatus.DONE
                row.finished_at = now
        return len(people)

    async def drop(self, broadcast_id: int) -> bool:
        """An admin chose not to send them (the programme change itself stays recorded)."""
        async with self._sessions.begin() as session:
            dropped = await session.execute(
                delete(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == DRAFT)
            )
        return bool(affected(dropped))


def _stored(
    current: dict[str, dict[str, Any]], stored: dict[str, Any], event: dict[str, Any]
) -> dict[str, Any]:
    """The new stored programme: sequences grow where something changed (a session's date
    too: its calendar event moves); cancelled ones kept; the event's date and venue."""
    result: dict[str, Any] = {EVENT_KEY: event}
    for ident, snap in current.items():
        old = stored.get(ident)
        sequence = int(old["sequence"]) if old else 0
        if old and (old.get("cancelled") or old["snapshot"] != snap):
            sequence += 1
        result[ident] = {"snapshot": snap, "sequence": sequence}
    for ident, old in stored.items():
        if ident not in current:
            sequence = int(old["sequence"]) + (0 if old.get("cancelled") else 1)
            result[ident] = {"snapshot": old["snapshot"], "sequence": sequence, "cancelled": True}
    return result
