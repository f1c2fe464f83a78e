"""The Mini App's JSON API, free of Telegram and of HTTP: plain dicts in the person's language.

handlers/webapp_http.py turns requests into these calls. Nothing is kept between requests but
what is built from the content: who a person is comes from checked initData on each call,
and their saved sessions from the database (the same rows as the chat's My agenda).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from bot.agenda import AgendaService
from bot.answers import Nav
from bot.content import Content, Organization, OrganizationRole, Session, SessionKind
from bot.content.facts import faq_answer
from bot.content.versions import SharedContent
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, plain
from bot.live import takes_questions
from bot.users import UserService
from bot.visits import known_language
from bot.webapp.auth import WebAppUser, check_init_data

JSON = dict[str, Any]
UI_PREFIX: Final = "webapp.ui."
MAX_QUERY_LENGTH: Final = 300
SESSION_ID: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# Sessions whose card names speakers, or says they are to be announced (as the chat does).
WITH_SPEAKERS: Final = (SessionKind.PANEL, SessionKind.SIDE_EVENT)
# Answer-engine destinations the page can show: a filter of the timeline, or a list of cards.
NAV_TARGETS: Final = {
    Nav.PROGRAMME: ("filter", "all"),
    Nav.PANELS: ("filter", SessionKind.PANEL.value),
    Nav.SIDE_EVENTS: ("filter", SessionKind.SIDE_EVENT.value),
    Nav.PARTNERS: ("organizations", OrganizationRole.PARTNER.value),
    Nav.ORGANIZERS: ("organizations", OrganizationRole.SIDE_EVENT_ORGANIZER.value),
}


class UnknownSession(LookupError):
    """A save for a session the programme does not have."""


def calendar_path(session_id: str, lang: str) -> str:
    """Relative to the page (/app/): the session's calendar file."""
    return f"calendar/{session_id}.ics?lang={lang}"


def ui_strings(lang: str) -> dict[str, str]:
    """Every `webapp.ui.*` catalog string, keyed without the prefix."""
    return {
        key.removeprefix(UI_PREFIX): plain(key, lang)
        for key in catalog()
        if key.startswith(UI_PREFIX)
    }


def boot_strings() -> dict[str, dict[str, str]]:
    """What the page says when even the programme cannot be loaded, in every language."""
    return {
        lang: {name: plain(f"{UI_PREFIX}{name}", lang) for name in ("load_failed", "retry")}
        for lang in LANGUAGES
    }


def ask_link(session: Session, bot_username: str | None) -> str | None:
    """The chat's "❓ Ask the panel" as a deep link (/start ask-<session>), for a session that
    takes live questions; None without the bot's username (not known before it started)."""
    if not bot_username or not takes_questions(session):
        return None
    return f"https://t.me/{bot_username}?start=ask-{session.id}"


def session_when(content: Content, session: Session, lang: str) -> str:
    start, end = f"{session.start:%H:%M}", f"{session.end:%H:%M}"
    if content.draft:
        return plain("truth.time.indicative", lang, start=start, end=end)
    return f"{start}–{end}"


def session_json(
    content: Content, session: Session, lang: str, bot_username: str | None = None
) -> JSON:
    host = content.organization(session.host) if session.host else None
    return {
        "id": session.id,
        "kind": session.kind.value,
        "kind_label": plain(f"session.kind.{session.kind.value}", lang),
        "title": session.title.get(lang),
        "start": f"{session.start:%H:%M}",
        "end": f"{session.end:%H:%M}",
        "when": session_when(content, session, lang),
        "description": session.description.get(lang) if session.description else None,
        "topics": list(session.topics),
        "speakers": list(session.speakers),
        "shows_speakers": session.kind in WITH_SPEAKERS,
        "host": {"id": host.id, "name": host.name} if host else None,
        "room": session.room.get(lang) if session.room else None,
        "open": session.open_for_contributions,
        "calendar": calendar_path(session.id, lang),
        "ask": ask_link(session, bot_username),
    }


def organization_json(content: Content, org: Organization, lang: str) -> JSON:
    return {
        "id": org.id,
        "name": org.name,
        "role": org.role.value,
        "role_label": plain(f"org.role.{org.role.value}", lang),
        "summary": org.summary.get(lang) if org.summary else None,
        "description": org.description.get(lang) if org.description else None,
        "url": org.more_info_url,
        "sessions": [s.id for s in content.sessions_hosted_by(org.id)],
    }


def programme_json(content: Content, lang: str, bot_username: str | None = None) -> JSON:
    """Everything the page shows, the same for everyone who reads `lang`."""
    event = content.event
    note = content.draft_note.get(lang) if content.draft_note else plain("webapp.ui.draft", lang)
    return {
        "lang": lang,
        "strings": ui_strings(lang),
        "kinds": {kind.value: plain(f"session.kind.{kind.value}", lang) for kind in SessionKind},
        "event": {
            "name": event.name,
            "tagline": event.tagline.get(lang),
            "date": f"{event.date:%d/%m/%Y}" if event.date else None,
        },
        "draft": content.draft,
        "draft_note": note if content.draft else None,
        "sessions": [session_json(content, s, lang, bot_username) for s in content.sessions],
        "organizations": [organization_json(content, o, lang) for o in content.organizations],
    }


@dataclass
class _Cached:
    content: Content | None = None
    by_language: dict[str, JSON] | None = None


class WebAppApi:
    """The calls the page makes. `person` is None for a reader without (valid) initData.
    `bot_username` (the running bot's, without "@") makes the sessions' "Ask the panel"
    links; without it the page shows none."""

    def __init__(
        self,
        content: SharedContent,
        users: UserService,
        agenda: AgendaService,
        bot_token: str,
        bot_username: str | None = None,
    ) -> None:
        self._content = content
        self._users = users
        self._agenda = agenda
        self._token = bot_token
        self._bot_username = bot_username
        self._cache = _Cached()

    def authenticate(self, init_data: str) -> WebAppUser:
        """The person behind initData (InitDataInvalid when it is forged, old or missing)."""
        return check_init_data(init_data, self._token)

    async def current_content(self) -> Content:
        """The content version every worker follows (a /reload elsewhere reaches this one)."""
        await self._content.follow()
        return self._content.store.content

    async def language(self, person: WebAppUser | None, asked: str | None) -> str:
        """The bot's setting first (/language), then Telegram's language_code, else `asked`."""
        if person is not None:
            user = await self._users.get(person.id)
            if user is not None and user.chosen_language in LANGUAGES:
                return user.chosen_language
            if telegram := known_language(person.language_code):
                return telegram
            if user is not None:
                return user.language
        return known_language(asked) or DEFAULT_LANGUAGE

    def _programme(self, content: Content, lang: str) -> JSON:
        if self._cache.content is not content or self._cache.by_language is None:
            self._cache = _Cached(content, {})
        by_language = self._cache.by_language
        assert by_language is not None
        if lang not in by_language:
            by_language[lang] = programme_json(content, lang, self._bot_username)
        return by_language[lang]

    async def programme(self, person: WebAppUser | None, asked: str | None) -> JSON:
        content = await self.current_content()
        lang = await self.language(person, asked)
        saved = await self._agenda.saved(person.id) if person else set()
        known = [s.id for s in content.sessions if s.id in saved]
        return {
            **self._programme(content, lang),
            "authenticated": person is not None,
            "saved": known,
        }

    async def search(self, query: str, asked: str | None) -> JSON:
        """The answer engine's verdict: answers it is sure of, else close candidates."""
        content = await self.current_content()
        lang = known_language(asked) or DEFAULT_LANGUAGE
        query = query.strip()[:MAX_QUERY_LENGTH]
        if not query:
            return {"query": "", "answers": [], "suggestions": []}
        result = self._content.store.index.answer(query)
        answers = [r for key in result.keys if (r := self.result(content, key, lang))]
        suggestions = [
            r for match in result.suggestions if (r := self.result(content, match.key, lang))
        ]
        return {"query": query, "answers": answers, "suggestions": suggestions}

    @staticmethod
    def result(content: Content, key: str, lang: str) -> JSON | None:
        """One search result the page can show, or None (small talk, a removed entry)."""
        kind, _, ident = key.partition(":")
        if kind == "session" and (session := content.session(ident)):
            return {
                "type": "session",
                "id": session.id,
                "title": session.title.get(lang),
                "detail": session_when(content, session, lang),
            }
        if kind == "org" and (org := content.organization(ident)):
            role = plain(f"org.role.{org.role.value}", lang)
            return {"type": "organization", "id": org.id, "title": org.name, "detail": role}
        if kind == "faq" and (faq := content.faq(ident)):
            return {
                "type": "faq",
                "id": faq.id,
                "title": faq.question.get(lang),
                "detail": faq_answer(content, faq, lang),
            }
        if kind == "nav" and ident in Nav._value2member_map_ and Nav(ident) in NAV_TARGETS:
            action, target = NAV_TARGETS[Nav(ident)]
            if action == "filter":
                label = (
                    plain("webapp.ui.tab_programme", lang)
                    if target == "all"
                    else plain(f"session.kind.{target}", lang)
                )
            else:
                label = plain(
                    "webapp.ui.partners" if target == "partner" else "webapp.ui.organizers", lang
                )
            return {"type": action, "id": target, "title": label, "detail": None}
        return None

    async def set_saved(self, person: WebAppUser, session_id: str, saved: bool) -> JSON:
        """Save or remove a session in the person's My agenda (the chat's rows)."""
        if not SESSION_ID.match(session_id):
            raise UnknownSession(session_id)
        content = await self.current_content()
        if saved:
            if content.session(session_id) is None:
                raise UnknownSession(session_id)
            await self._agenda.save(person.id, session_id)
        else:
            await self._agenda.unsave(person.id, session_id)
        await self._agenda.reminders.sync(content, person.id)  # the chat's reminders follow
        return {"id": session_id, "saved": saved}
