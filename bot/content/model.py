"""The event content as a validated, typed model (Event, Session, Organization, Faq)."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


class Text(RootModel[dict[str, str]]):
    """Text with optional translations: a plain string (English) or {en: .., es: .., ca: ..}."""

    @model_validator(mode="before")
    @classmethod
    def _accept_plain_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {DEFAULT_LANGUAGE: value}
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(LANGUAGES))
            if unknown:
                raise PydanticCustomError(
                    "content_unknown_language",
                    "unknown language {languages}: use en, es or ca",
                    {"languages": ", ".join(map(str, unknown))},
                )
            if not str(value.get(DEFAULT_LANGUAGE) or "").strip():
                raise PydanticCustomError(
                    "content_english_required", "the English text (en) is required"
                )
            return {lang: str(text).strip() for lang, text in value.items() if text}
        raise PydanticCustomError(
            "content_text_type", "should be a text, or translations like en/es/ca"
        )

    def get(self, lang: str) -> str:
        return self.root.get(lang) or self.root[DEFAULT_LANGUAGE]

    def all(self) -> list[str]:
        return list(self.root.values())


def _parse_time(value: Any) -> Any:
    """Times such as "09:30", "9:30", "09.30" or "9h30" -> 09:30; others are refused."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 9:30 as the sexagesimal number 570.
        value = f"{value // 60}:{value % 60:02d}"
    elif isinstance(value, float):
        # An unquoted 09.30 is the number 9.3: its minutes lost their trailing zero.
        hours, _, minutes = repr(value).partition(".")
        value = f"{hours}.{minutes:0<2}" if len(minutes) <= 2 else repr(value)
    if isinstance(value, str):
        match = _TIME.match(value.strip())
        if match:
            return dt.time(int(match.group(1)), int(match.group(2)))
    if isinstance(value, dt.time):
        return value
    raise PydanticCustomError(
        "content_time",
        '{value} is not a valid time: write it as HH:MM, for example "09:30"',
        {"value": repr(value)},
    )


ClockTime = Annotated[dt.time, BeforeValidator(_parse_time)]


def _check_timezone(value: Any) -> Any:
    """An IANA name such as "Europe/Madrid"; anything else is refused with a hint."""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise PydanticCustomError(
            "content_timezone",
            '{value} is not a time zone: write one such as "Europe/Madrid"',
            {"value": repr(value)},
        ) from error
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionKind(StrEnum):
    OPENING = "opening"
    PANEL = "panel"
    SIDE_EVENT = "side_event"
    BREAK = "break"
    CLOSING = "closing"


class OrganizationRole(StrEnum):
    PARTNER = "partner"
    SIDE_EVENT_ORGANIZER = "side_event_organizer"


class Event(_Strict):
    name: str
    series: str | None = None
    series_tagline: Text | None = None
    tagline: Text
    description: Text
    theme: Text | None = None
    date: dt.date | None = None
    # The IANA time zone the programme's times are in (now and next, reminders, calendars).
    timezone: Annotated[str, BeforeValidator(_check_timezone)] = "UTC"
    venue: Text | None = None
    floor_call: Text | None = None
    # How long the bot keeps personal data, completing "Your data is kept ...": one promise,
    # shown by /privacy and by the consent step of a speaking-slot request.
    data_retention: Text | None = None


class ProposalFormat(_Strict):
    id: Slug
    label: Text


class Session(_Strict):
    id: Slug
    kind: SessionKind
    title: Text
    start: ClockTime
    end: ClockTime
    description: Text | None = None
    speakers: list[str] = Field(default_factory=list)
    host: Slug | None = None
    topics: list[str] = Field(default_factory=list)
    open_for_contributions: bool = False
    room: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Session:
        if self.end == self.start:
            raise PydanticCustomError(
                "content_ends_when_starts",
                "the session starts and ends at the same time ({start})",
                {"start": f"{self.start:%H:%M}"},
            )
        if self.end < self.start:
            raise PydanticCustomError(
                "content_ends_before_start",
                "the session ends ({end}) before it starts ({start})",
                {"end": f"{self.end:%H:%M}", "start": f"{self.start:%H:%M}"},
            )
        return self


class Organization(_Strict):
    id: Slug
    name: str
    # The name as it is written in Spanish or Catalan, where it differs ("Àrea Metropolitana
    # de Barcelona (AMB)"); `name` is shown otherwise.
    local_name: Text | None = None
    role: OrganizationRole
    aliases: list[str] = Field(default_factory=list)
    # The card's two or three lines of key facts; `description` is the rest ("More about").
    summary: Text | None = None
    description: Text | None = None
    more_info_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None

    def display_name(self, lang: str) -> str:
        """The name in `lang` where the content gives one ("Àrea Metropolitana de Barcelona
        (AMB)" in Catalan), else `name`."""
        if self.local_name is not None and lang in self.local_name.root:
            return self.local_name.root[lang]
        return self.name


class AnswerFrom(StrEnum):
    """A fact an answer is built from, so that it follows the content: the event's date or
    venue (event.yaml), the day's times or the speakers named (programme.yaml)."""

    DATE = "date"
    VENUE = "venue"
    TIMES = "times"
    SPEAKERS = "speakers"


class Faq(_Strict):
    id: Slug
    question: Text
    alternatives: list[str] = Field(default_factory=list)
    # A fixed answer; with `answer_from`, an optional addition shown after the built one.
    answer: Text | None = None
    answer_from: AnswerFrom | None = None
    related: list[Slug] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_an_answer(self) -> Faq:
        if self.answer is None and self.answer_from is None:
            raise PydanticCustomError(
                "content_faq_no_answer",
                "it has no answer: write `answer`, or `answer_from` (date, venue, times or "
                "speakers) to build it from the content",
            )
        return self


class EventFile(_Strict):
    event: Event
    proposal_formats: list[ProposalFormat] = Field(default_factory=list)


class ProgrammeFile(_Strict):
    draft: bool = False
    draft_note: Text | None = None
    sessions: list[Session]


class OrganizationsFile(_Strict):
    organizations: list[Organization]


class FaqFile(_Strict):
    faqs: list[Faq]


class Content(BaseModel):
    """Everything the bot knows about the event, with lookups by id."""

    model_config = ConfigDict(frozen=True)

    event: Event
    proposal_formats: list[ProposalFormat]
    draft: bool
    draft_note: Text | None
    sessions: list[Session]
    organizations: list[Organization]
    faqs: list[Faq]

    def model_post_init(self, context: Any, /) -> None:
        ordered = sorted(self.sessions, key=lambda s: (s.start, s.end, s.id))
        object.__setattr__(self, "sessions", ordered)

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    def organization(self, org_id: str) -> Organization | None:
        return next((o for o in self.organizations if o.id == org_id), None)

    def faq(self, faq_id: str) -> Faq | None:
        return next((f for f in self.faqs if f.id == faq_id), None)

    def proposal_format(self, format_id: str) -> ProposalFormat | None:
        return next((f for f in self.proposal_formats if f.id == format_id), None)

    def organizations_with_role(self, role: OrganizationRole) -> list[Organization]:
        return [o for o in self.organizations if o.role == role]

    def sessions_of_kind(self, *kinds: SessionKind) -> list[Session]:
        return [s for s in self.sessions if s.kind in kinds]

    def sessions_hosted_by(self, org_id: str) -> list[Session]:
        return [s for s in self.sessions if s.host == org_id]
