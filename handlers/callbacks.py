"""Callback-data formats (at most 64 bytes) and the patterns that route them.

Callback data comes back from the client and can be forged: every handler re-validates what
it parses (ids must exist in the content, pages are clamped, roles are re-checked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from telegram.ext import CallbackContext

MAX_BYTES: Final = 64  # Telegram's limit for a button's callback data


@dataclass(frozen=True)
class Button:
    """One kind of button: its callback data is built by `data` and routed by `pattern`.

    `Button("ses", r"[a-z0-9-]{1,32}")` builds "ses:panel-1" and matches ^ses:([a-z0-9-]{1,32})$;
    the handler registered with `pattern=kind.pattern` reads the fields from the match
    python-telegram-bot already made (`Button.fields(context)`), never parsing the data again.
    """

    prefix: str
    field_patterns: tuple[str, ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __init__(self, prefix: str, *field_patterns: str) -> None:
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "field_patterns", field_patterns)
        groups = "".join(f":({p})" for p in field_patterns)
        object.__setattr__(self, "pattern", re.compile(f"^{re.escape(prefix)}{groups}$"))

    def data(self, *values: object) -> str:
        """The callback data of one button of this kind."""
        if len(values) != len(self.field_patterns):
            raise TypeError(f"{self.prefix}: {len(self.field_patterns)} fields, got {values!r}")
        return ":".join([self.prefix, *(str(value) for value in values)])

    @staticmethod
    def fields(context: CallbackContext) -> tuple[str, ...]:  # type: ignore[type-arg]
        """The fields of the pressed button, from the match of its handler's pattern."""
        return context.matches[0].groups() if context.matches else ()


MENU: Final = "menu"
ASK: Final = "ask"
LANGUAGES: Final = "langs"


def programme(page: int = 0) -> str:
    return f"prog:{page}"


def side_events(page: int = 0) -> str:
    return f"side:{page}"


def organizations(role: str, page: int = 0) -> str:
    return f"orgs:{role}:{page}"


def session(session_id: str) -> str:
    return f"ses:{session_id}"


def organization(org_id: str) -> str:
    return f"org:{org_id}"


def answer(key: str) -> str:
    return f"ans:{key}"


def language(code: str) -> str:
    return f"lang:{code}"


PROGRAMME_PATTERN: Final = re.compile(r"^prog:(\d{1,3})$")
SIDE_EVENTS_PATTERN: Final = re.compile(r"^side:(\d{1,3})$")
ORGANIZATIONS_PATTERN: Final = re.compile(r"^orgs:(partner|side_event_organizer):(\d{1,3})$")
SESSION_PATTERN: Final = re.compile(r"^ses:([a-z0-9-]{1,32})$")
ORGANIZATION_PATTERN: Final = re.compile(r"^org:([a-z0-9-]{1,32})$")
ANSWER_PATTERN: Final = re.compile(r"^ans:((?:org|session|faq|nav):[a-z0-9_-]{1,32})$")
LANGUAGE_PATTERN: Final = re.compile(r"^lang:([a-z]{2})$")


# -- My agenda (handlers/agenda.py) ------------------------------------------------------------
AGENDA: Final = "agenda"
NOW: Final = "now"
SETTINGS: Final = "settings"
REMINDERS: Final = "rem"
AGENDA_ICS: Final = "ics:@agenda"
PROGRAMME_ICS: Final = "ics:@programme"


def save(session_id: str) -> str:
    return f"sv:{session_id}"


def session_ics(session_id: str) -> str:
    return f"ics:{session_id}"


def reminder(minutes: int) -> str:
    return f"rem:{minutes}"


def notice(action: str, broadcast_id: int) -> str:
    return f"ntc:{action}:{broadcast_id}"


SAVE_PATTERN: Final = re.compile(r"^sv:([a-z0-9-]{1,32})$")
ICS_PATTERN: Final = re.compile(r"^ics:([a-z0-9-]{1,32}|@agenda|@programme)$")
REMINDER_PATTERN: Final = re.compile(r"^rem:(0|10|15|30)$")
NOTICE_PATTERN: Final = re.compile(r"^ntc:(send|drop):(\d{1,9})$")
