"""Answers built from the content's fields, so that they follow it: a FAQ entry with
`answer_from: date | venue | times | speakers` says what event.yaml and programme.yaml say
today (and "not announced" only while the field is empty), in every language.

Plain text (no HTML): the views escape it. `check_faq_truth` is the other side: a fixed
answer that says a date, venue or speakers are "not announced" goes stale the day they are
announced, so check-content (and /reload) refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.content.model import AnswerFrom, Content, Faq, Session, SessionKind
from bot.i18n import plain


def short_name(content: Content) -> str:
    """The event's name without its subtitle: "Focus Sessions #1"."""
    return content.event.name.split(" – ")[0].strip() or content.event.name


def event_day(content: Content) -> str | None:
    """The event's date as the bot writes it (05/12/2026), or None while not announced."""
    date = content.event.date
    return f"{date:%d/%m/%Y}" if date is not None else None


def clock(content: Content, start: str, end: str, lang: str) -> str:
    """ "09:00–18:00", marked (indicative) while the programme is a draft."""
    if content.draft:
        return plain("truth.time.indicative", lang, start=start, end=end)
    return f"{start}–{end}"


def session_clock(content: Content, session: Session, lang: str) -> str:
    return clock(content, f"{session.start:%H:%M}", f"{session.end:%H:%M}", lang)


def day_hours(content: Content, lang: str) -> str | None:
    """The day's span, first start to last end ("09:00–18:00 (indicative)")."""
    if not content.sessions:
        return None
    start = min(s.start for s in content.sessions)
    end = max(s.end for s in content.sessions)
    return clock(content, f"{start:%H:%M}", f"{end:%H:%M}", lang)


def date_answer(content: Content, lang: str) -> str:
    name, day = short_name(content), event_day(content)
    hours = day_hours(content, lang)
    if day is None:
        text = plain("facts.date.unknown", lang, event=name)
    else:
        text = plain("facts.date.known", lang, event=name, date=day)
    if hours:
        text += " " + plain("facts.date.hours", lang, hours=hours)
    return text


def venue_answer(content: Content, lang: str) -> str:
    venue, name = content.event.venue, short_name(content)
    if venue is None:
        return plain("facts.venue.unknown", lang, event=name)
    return plain("facts.venue.known", lang, event=name, venue=venue.get(lang))


def times_answer(content: Content, lang: str) -> str:
    """The day's hours and every session's, breaks first named (lunch, coffee)."""
    hours = day_hours(content, lang)
    if hours is None:
        return plain("facts.times.none", lang)
    day = event_day(content)
    lines = [
        plain("facts.date.hours", lang, hours=hours)
        + " "
        + (
            plain("facts.times.on_date", lang, date=day)
            if day
            else plain("facts.times.no_date", lang)
        )
    ]
    breaks = content.sessions_of_kind(SessionKind.BREAK)
    for session in breaks:
        lines.append(f"{session.title.get(lang)}: {session_clock(content, session, lang)}")
    lines += ["", plain("facts.times.programme", lang)]
    lines += [f"{session_clock(content, s, lang)} · {s.title.get(lang)}" for s in content.sessions]
    return "\n".join(lines)


def speakers_answer(content: Content, lang: str) -> str:
    named = [s for s in content.sessions if s.speakers]
    if not named:
        return plain("facts.speakers.none", lang)
    lines = [plain("facts.speakers.some", lang)]
    lines += [f"• {s.title.get(lang)}: {', '.join(s.speakers)}" for s in named]
    waiting = [
        s
        for s in content.sessions_of_kind(SessionKind.PANEL, SessionKind.SIDE_EVENT)
        if not s.speakers
    ]
    if waiting:
        lines.append(plain("facts.speakers.rest", lang))
    return "\n".join(lines)


BUILDERS: dict[AnswerFrom, Callable[[Content, str], str]] = {
    AnswerFrom.DATE: date_answer,
    AnswerFrom.VENUE: venue_answer,
    AnswerFrom.TIMES: times_answer,
    AnswerFrom.SPEAKERS: speakers_answer,
}


def faq_answer(content: Content, faq: Faq, lang: str) -> str:
    """A FAQ's answer in `lang`: built from its field, then its fixed text, if any."""
    parts = []
    if faq.answer_from is not None:
        parts.append(BUILDERS[faq.answer_from](content, lang))
    if faq.answer is not None:
        parts.append(faq.answer.get(lang))
    return "\n\n".join(parts)


# -- one reply, each fact once ----------------------------------------------------------------

_WORD = re.compile(r"\w{3,}")


def repeats(text: str, within: str, share: float = 0.7) -> bool:
    """Whether `text` says little that `within` does not already say: most of its words
    (of three letters or more) are there. "How many inhabitants does the AMB have?" asked
    with "what is the AMB?" is answered by the AMB's card: the FAQ would say it again."""
    words = {w.lower() for w in _WORD.findall(text)}
    if not words:
        return False
    known = {w.lower() for w in _WORD.findall(within)}
    return len(words & known) >= share * len(words)


# -- check-content: fixed text that says a field is not announced ---------------------------

_NOT_ANNOUNCED = re.compile(
    r"not (?:yet )?(?:been )?announced|to be announced|not (?:yet )?(?:been )?confirmed|"
    r"no se ha(?:n)? anunciado|por anunciar|aún no se ha|todav[ií]a no se ha|"
    r"no s'ha(?:n)? anunciat|per anunciar|encara no s'ha",
    re.IGNORECASE,
)
_FIELD_WORDS: dict[AnswerFrom, re.Pattern[str]] = {
    AnswerFrom.DATE: re.compile(r"\b(?:date|fecha|data|d[ií]a|day)\b", re.IGNORECASE),
    AnswerFrom.VENUE: re.compile(r"\b(?:venue|lugar|lloc|location|sede|seu)\b", re.IGNORECASE),
    AnswerFrom.SPEAKERS: re.compile(r"\b(?:speakers?|ponentes?|ponents?)\b", re.IGNORECASE),
}


def field_is_set(content: Content, field: AnswerFrom) -> bool:
    if field is AnswerFrom.DATE:
        return content.event.date is not None
    if field is AnswerFrom.VENUE:
        return content.event.venue is not None
    if field is AnswerFrom.SPEAKERS:
        return any(s.speakers for s in content.sessions)
    return bool(content.sessions)


def stale_fields(content: Content, faq: Faq) -> list[tuple[AnswerFrom, bool]]:
    """The fields a FAQ's fixed text says are not announced: (field, is it set now?)."""
    if faq.answer is None:
        return []
    found = []
    for field, words in _FIELD_WORDS.items():
        for text in faq.answer.all():
            for sentence in re.split(r"(?<=[.;!?])\s+", text):
                if _NOT_ANNOUNCED.search(sentence) and words.search(sentence):
                    found.append((field, field_is_set(content, field)))
                    break
            else:
                continue
            break
    return found
