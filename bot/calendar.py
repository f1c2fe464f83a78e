"""Calendar files (.ics) of sessions, made with icalendar.

Each session is one VEVENT with a stable UID (the session id and the bot's domain), so that
importing the file again updates the event instead of adding a copy, and a SEQUENCE that
grows each time the session changes (bot/schedule.py keeps the count). Times carry the
event's zone (TZID) with its VTIMEZONE. While the programme is a draft, the description says
its time is indicative. LOCATION is the room and the venue, as far as they are known. With no
date announced there is nothing honest to put in a calendar: the file has no events (a
subscribed calendar fills in once the date is known).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from icalendar import Calendar, Event

from bot.content import Content, Session
from bot.i18n import plain
from bot.schedule import ends_at, starts_at

PRODID = "-//Focus Bot//Focus Sessions agenda//EN"
UID_DOMAIN = "focus-bot.agenda"


def session_uid(session_id: str) -> str:
    return f"session-{session_id}@{UID_DOMAIN}"


def deep_link(bot_username: str | None, session_id: str) -> str | None:
    """https://t.me/<bot>?start=session-<id>: opens the session's card in the bot."""
    return f"https://t.me/{bot_username}?start=session-{session_id}" if bot_username else None


def calendar_file(
    content: Content,
    sessions: Iterable[Session],
    lang: str,
    *,
    sequences: dict[str, int] | None = None,
    bot_username: str | None = None,
    stamp: dt.datetime | None = None,
) -> bytes:
    """An iCalendar file with one event per session (none while the date is unknown)."""
    sequences = sequences or {}
    stamp = stamp or dt.datetime.now(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", content.event.name)
    calendar.add("x-wr-timezone", content.event.timezone)
    for session in sessions:
        start, end = starts_at(content, session), ends_at(content, session)
        if start is None or end is None:
            continue
        event = Event()
        event.add("uid", session_uid(session.id))
        event.add("sequence", sequences.get(session.id, 0))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", session.title.get(lang))
        location = _location(content, session, lang)
        if location:
            event.add("location", location)
        link = deep_link(bot_username, session.id)
        if link:
            event.add("url", link)
        event.add("description", _description(content, session, lang, link))
        if content.draft:
            event.add("status", "TENTATIVE")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _location(content: Content, session: Session, lang: str) -> str | None:
    """Where: "room, venue", or whichever of the two is known; None if neither is."""
    venue = content.event.venue
    parts = [text.get(lang) for text in (session.room, venue) if text is not None]
    return ", ".join(parts) or None


def _description(content: Content, session: Session, lang: str, link: str | None) -> str:
    parts = []
    if content.draft:
        parts.append(plain("ics.draft", lang))
    if session.description:
        parts.append(session.description.get(lang))
    if link:
        parts.append(plain("ics.open", lang, link=link))
    return "\n\n".join(parts)
