"""Rendering content as Telegram messages: HTML text plus an inline keyboard.

Pure functions of (content, language): the handlers decide when to send them. Being pure,
the views of content are built once per content load and language (`per_content`): a menu
press costs a dictionary lookup, not a page of text and a dozen buttons. Views are
immutable (python-telegram-bot's objects are frozen), so sharing them is safe.
"""

from __future__ import annotations

import functools
import html
import re
import urllib.parse
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answers import Nav
from bot.content import Content, Organization, OrganizationRole, Session, SessionKind
from bot.content.facts import faq_answer
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, Html, catalog, plain, t
from bot.live import takes_questions
from bot.schedule import sessions_after
from handlers import callbacks

MESSAGE_LIMIT = 4096
BUTTON_TEXT_LIMIT = 60
PAGE_SIZE = 8
Item = TypeVar("Item")
PageData = Callable[[int], str]
P = ParamSpec("P")
R = TypeVar("R")


def _key(value: object) -> Hashable:
    """Sessions and organizations by their id (unique within one content load)."""
    ident = getattr(value, "id", None)
    return ident if isinstance(ident, str) else value  # type: ignore[return-value]


def per_content(render: Callable[P, R]) -> Callable[P, R]:
    """Memoize a view of (content, ...): kept until another content is loaded (/reload)."""
    views: dict[tuple[Hashable, ...], Any] = {}
    loaded: list[object] = [None]  # the content the views were made from (a strong ref)

    @functools.wraps(render)
    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        content = args[0]
        if content is not loaded[0]:
            views.clear()
            loaded[0] = content
        key = tuple(_key(a) for a in args[1:]) + tuple(sorted(kwargs.items()))
        if key not in views:
            views[key] = render(*args, **kwargs)
        return views[key]  # type: ignore[no-any-return]

    return cached


@dataclass(frozen=True)
class View:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def button(text: str, data: str) -> InlineKeyboardButton:
    if len(text) > BUTTON_TEXT_LIMIT:
        text = text[: BUTTON_TEXT_LIMIT - 1] + "…"
    return InlineKeyboardButton(text, callback_data=data)


_HTML_TOKEN = re.compile(r"(<[^>]*>|&#?\w+;)")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z-]+)")


def visible_length(text: str) -> int:
    """What Telegram counts against its limit: the text once tags are parsed away."""
    return sum(
        (0 if token.startswith("<") else 1) if _HTML_TOKEN.fullmatch(token) else len(token)
        for token in _HTML_TOKEN.split(text)
        if token
    )


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Keep an HTML message within Telegram's limit, counted as Telegram counts it (the
    visible text): cut never inside a tag or an entity, with the tags left open closed."""
    if visible_length(text) <= limit:
        return text
    budget = limit - 1  # room for "…"
    kept: list[str] = []
    open_tags: list[str] = []
    for token in _HTML_TOKEN.split(text):
        if not token:
            continue
        if _HTML_TOKEN.fullmatch(token) and token.startswith("<"):
            name_match = _TAG_NAME.match(token)
            name = name_match.group(1).lower() if name_match else ""
            if token.startswith("</"):
                if name in open_tags:
                    open_tags.remove(name)
            elif name:
                open_tags.append(name)
            kept.append(token)
            continue
        size = 1 if _HTML_TOKEN.fullmatch(token) else len(token)
        if size > budget:
            if not _HTML_TOKEN.fullmatch(token):
                kept.append(token[:budget])
            break
        budget -= size
        kept.append(token)
    closing = "".join(f"</{name}>" for name in reversed(open_tags))
    return "".join(kept).rstrip() + "…" + closing


def back_row(lang: str, back: str | None = None) -> list[InlineKeyboardButton]:
    row = [button(plain("menu.back", lang), back)] if back else []
    return [*row, button(plain("menu.main", lang), callbacks.MENU.data())]


# "The floor is yours": starts (or resumes) a speaking-slot request (handlers/propose.py,
# which routes it; it is here because the main menu shows it, and propose.py imports views).


@functools.cache
def main_menu(lang: str) -> InlineKeyboardMarkup:
    partners = callbacks.ORGANIZATIONS.data(OrganizationRole.PARTNER.value, 0)
    organizers = callbacks.ORGANIZATIONS.data(OrganizationRole.SIDE_EVENT_ORGANIZER.value, 0)
    rows = [
        [
            button(plain("menu.programme", lang), callbacks.PROGRAMME.data(0)),
            button(plain("menu.side_events", lang), callbacks.SIDE_EVENTS.data(0)),
        ],
        [
            button(plain("menu.partners", lang), partners),
            button(plain("menu.organizers", lang), organizers),
        ],
        [button(plain("menu.ask", lang), callbacks.ASK.data())],
        [
            button(plain("menu.agenda", lang), callbacks.AGENDA.data()),
            button(plain("menu.now", lang), callbacks.NOW.data()),
        ],
    ]
    rows.append([button(plain("menu.propose", lang), callbacks.PROPOSE_START.data())])
    rows.append(
        [
            button(plain("menu.language", lang), callbacks.LANGUAGES.data()),
            button(plain("menu.updates", lang), callbacks.UPDATES.data()),
        ]
    )
    return InlineKeyboardMarkup(rows)


def event_date(content: Content, lang: str) -> Html:
    event = content.event
    if event.date is None:
        return t("start.date_tba", lang)
    venue = f" · {event.venue.get(lang)}" if event.venue else ""
    return t("start.date", lang, date=f"{event.date:%d/%m/%Y}{venue}")


@per_content
def greeting(content: Content, lang: str) -> str:
    event = content.event
    text = t("start.greeting", lang, event=event.name, tagline=event.tagline.get(lang))
    return f"{text}\n\n{event_date(content, lang)}"


def _paginate(items: Sequence[Item], page: int) -> tuple[Sequence[Item], int, int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page, pages


def _pager(lang: str, page: int, pages: int, data: PageData) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(button(plain("page.previous", lang), data(page - 1)))
    if page < pages - 1:
        row.append(button(plain("page.next", lang), data(page + 1)))
    return row


def topic_label(topic: str, lang: str) -> str:
    """A topic tag in the person's language (as written in the content if not translated)."""
    key = f"topic.{topic.lower()}"
    return plain(key, lang) if key in catalog() else topic


def session_when(content: Content, session: Session, lang: str) -> str:
    """ "09:30–10:30", or "09:30–10:30 (indicative)" while the programme is a draft."""
    start, end = f"{session.start:%H:%M}", f"{session.end:%H:%M}"
    if content.draft:
        return plain("truth.time.indicative", lang, start=start, end=end)
    return f"{start}–{end}"


def session_line(session: Session, lang: str) -> str:
    """A line of a list whose heading carries the draft note (see `session_list`)."""
    return f"{session.start:%H:%M}–{session.end:%H:%M} · {session.title.get(lang)}"


def session_line_marked(content: Content, session: Session, lang: str) -> str:
    """A line shown without the draft note nearby: its time says if it is indicative."""
    return f"🕘 {session_when(content, session, lang)} · {session.title.get(lang)}"


def draft_note(content: Content, lang: str) -> str | None:
    """The programme's draft note (HTML), while it is a draft."""
    if not content.draft:
        return None
    if content.draft_note:
        return f"<i>{html.escape(content.draft_note.get(lang))}</i>"
    return t("programme.draft", lang)


def session_list(
    content: Content, lang: str, sessions: list[Session], page: int, title: Html, data: PageData
) -> View:
    shown, page, pages = _paginate(sessions, page)
    lines: list[str] = [title]
    note = draft_note(content, lang)
    if note:
        lines.append(note)
    lines.append("")
    lines += [html.escape(session_line(s, lang)) for s in shown]
    if pages > 1:
        lines.append(t("page.indicator", lang, page=page + 1, pages=pages))
    lines.append(t("programme.pick", lang))
    rows = [
        [button(f"{s.start:%H:%M} · {s.title.get(lang)}", callbacks.SESSION.data(s.id))]
        for s in shown
    ]
    pager = _pager(lang, page, pages, data)
    if pager:
        rows.append(pager)
    rows.append(back_row(lang))
    return View(fit("\n".join(lines)), InlineKeyboardMarkup(rows))


def programme_ics_button(content: Content, lang: str) -> list[InlineKeyboardButton]:
    """The whole programme as a calendar file, in the chat (once the date is known)."""
    if content.event.date is None:
        return []
    data = callbacks.ICS.data(callbacks.ICS_PROGRAMME)
    return [button(plain("agenda.button.programme_ics", lang), data)]


@per_content
def programme(content: Content, lang: str, page: int = 0) -> View:
    title = t("programme.title", lang, count=len(content.sessions), date=event_date(content, lang))
    view = session_list(content, lang, content.sessions, page, title, callbacks.PROGRAMME.data)
    calendar = programme_ics_button(content, lang)
    if not calendar or view.keyboard is None:
        return view
    rows = [list(row) for row in view.keyboard.inline_keyboard]
    return View(view.text, InlineKeyboardMarkup([*rows[:-1], calendar, rows[-1]]))


@per_content
def side_events(content: Content, lang: str, page: int = 0) -> View:
    sessions = content.sessions_of_kind(SessionKind.SIDE_EVENT)
    if not sessions:
        return View(t("side_events.empty", lang), InlineKeyboardMarkup([back_row(lang)]))
    title = t("side_events.title", lang, count=len(sessions))
    return session_list(content, lang, sessions, page, title, callbacks.SIDE_EVENTS.data)


@per_content
def organizations(content: Content, lang: str, role: OrganizationRole, page: int = 0) -> View:
    shown, page, pages = _paginate(content.organizations_with_role(role), page)
    rows = [[button(o.display_name(lang), callbacks.ORGANIZATION.data(o.id))] for o in shown]
    pager = _pager(lang, page, pages, lambda p: callbacks.ORGANIZATIONS.data(role.value, p))
    if pager:
        rows.append(pager)
    rows.append(back_row(lang))
    key = "partners.title" if role is OrganizationRole.PARTNER else "organizers.title"
    return View(t(key, lang), InlineKeyboardMarkup(rows))


@per_content
def session_card(content: Content, session: Session, lang: str) -> View:
    """A session's text and its own buttons; people see it through `session_card_for`."""
    lines: list[str] = [
        t(
            "session.header",
            lang,
            title=session.title.get(lang),
            when=session_when(content, session, lang),
            kind=plain(f"session.kind.{session.kind.value}", lang),
        )
    ]
    if session.room:
        lines.append(t("session.room", lang, room=session.room.get(lang)))
    host = content.organization(session.host) if session.host else None
    if host:
        lines.append(t("session.host", lang, host=host.display_name(lang)))
    if session.kind in (SessionKind.PANEL, SessionKind.SIDE_EVENT):
        lines.append(
            t("session.speakers", lang, speakers=", ".join(session.speakers))
            if session.speakers
            else t("session.speakers_tba", lang)
        )
    if session.description:
        lines += ["", html.escape(session.description.get(lang))]
    if session.topics:
        topics = ", ".join(topic_label(topic, lang) for topic in session.topics)
        lines += ["", t("session.topics", lang, topics=topics)]
    if session.open_for_contributions:
        lines.append(t("session.open", lang))
    after = sessions_after(content, session)
    if after:
        lines += ["", t("session.then", lang)]
        lines += [html.escape(session_line_marked(content, s, lang)) for s in after]
    rows = []
    if host:
        rows.append(
            [
                button(
                    plain("session.host_button", lang, host=host.display_name(lang)),
                    callbacks.ORGANIZATION.data(host.id),
                )
            ]
        )
    back = (
        callbacks.SIDE_EVENTS.data(0)
        if session.kind is SessionKind.SIDE_EVENT
        else callbacks.PROGRAMME.data(0)
    )
    rows.append(back_row(lang, back))
    return View(fit("\n".join(lines)), InlineKeyboardMarkup(rows))


def share_url(link: str, text: str) -> str:
    """Telegram's share sheet with the session's deep link."""
    query = urllib.parse.urlencode({"url": link, "text": text})
    return f"https://t.me/share/url?{query}"


@dataclass(frozen=True)
class Viewer:
    """Who a card is for: the sessions they saved (☆ / ★) and the bot's name (Share)."""

    saved: frozenset[str] = frozenset()
    bot_username: str | None = None


def session_card_for(
    content: Content, session: Session, lang: str, *, saved: bool, bot_username: str | None
) -> View:
    """THE session card, whatever path leads to it (a list, a typed question, "did you
    mean", a deep link, an organization's card): ☆ Save / ★ Saved, Share (its deep link)
    and, once the date is known, its calendar file, above the card's own buttons."""
    card = session_card(content, session, lang)
    save_key = "agenda.button.saved" if saved else "agenda.button.save"
    first = [button(plain(save_key, lang), callbacks.SAVE.data(session.id))]
    if bot_username:
        link = f"https://t.me/{bot_username}?start=session-{session.id}"
        text = plain("share.text", lang, title=session.title.get(lang))
        first.append(
            InlineKeyboardButton(plain("agenda.button.share", lang), url=share_url(link, text))
        )
    rows = [first]
    if takes_questions(session):  # live questions to the panel (handlers/live.py)
        rows.append([button(plain("live.button.ask", lang), callbacks.LIVE_ROOM.data(session.id))])
    if content.event.date is not None:
        rows.append([button(plain("agenda.button.ics", lang), callbacks.ICS.data(session.id))])
    rows += [list(row) for row in card.keyboard.inline_keyboard] if card.keyboard else []
    return View(card.text, InlineKeyboardMarkup(rows))


def _has_more(org: Organization) -> bool:
    return org.summary is not None and org.description is not None


def _website_row(org: Organization, lang: str) -> list[list[InlineKeyboardButton]]:
    if not org.more_info_url:
        return []
    return [[InlineKeyboardButton(plain("org.more_info", lang), url=org.more_info_url)]]


@per_content
def organization_card(content: Content, org: Organization, lang: str) -> View:
    """A few lines of key facts (the summary), its sessions, then "More about" for the rest."""
    role = plain(f"org.role.{org.role.value}", lang)
    lines = [t("org.header", lang, name=org.display_name(lang), role=role), ""]
    facts = org.summary or org.description
    lines.append(html.escape(facts.get(lang)) if facts else t("org.no_description", lang))
    hosted = content.sessions_hosted_by(org.id)
    if hosted:
        lines += ["", t("org.hosts", lang)]
        lines += [html.escape(session_line_marked(content, s, lang)) for s in hosted]
    rows = [[button(s.title.get(lang), callbacks.SESSION.data(s.id))] for s in hosted]
    if _has_more(org):
        more = plain("truth.org.more_button", lang, name=org.display_name(lang))
        rows.append([button(more, callbacks.ORGANIZATION_MORE.data(org.id))])
    rows += _website_row(org, lang)
    rows.append(back_row(lang, callbacks.ORGANIZATIONS.data(org.role.value, 0)))
    return View(fit("\n".join(lines)), InlineKeyboardMarkup(rows))


@per_content
def organization_more(content: Content, org: Organization, lang: str) -> View:
    """The rest of an organization's description, with the way back to its card."""
    role = plain(f"org.role.{org.role.value}", lang)
    lines = [t("org.header", lang, name=org.display_name(lang), role=role), ""]
    rest = org.description if _has_more(org) else None
    lines.append(html.escape(rest.get(lang)) if rest else t("org.no_description", lang))
    rows = _website_row(org, lang)
    back = plain("truth.org.back_button", lang, name=org.display_name(lang))
    rows.append([button(back, callbacks.ORGANIZATION.data(org.id))])
    rows.append(back_row(lang))
    return View(fit("\n".join(lines)), InlineKeyboardMarkup(rows))


@per_content
def faq_card(content: Content, faq_id: str, lang: str) -> View | None:
    faq = content.faq(faq_id)
    if faq is None:
        return None
    answer = faq_answer(content, faq, lang)
    text = t("faq.card", lang, question=faq.question.get(lang), answer=answer)
    rows = []
    for ref in faq.related:
        org = content.organization(ref)
        session = content.session(ref)
        if org:
            rows.append([button(org.display_name(lang), callbacks.ORGANIZATION.data(org.id))])
        elif session:
            rows.append([button(session.title.get(lang), callbacks.SESSION.data(session.id))])
    rows.append(back_row(lang))
    return View(fit(text), InlineKeyboardMarkup(rows))


def language_changed(content: Content, lang: str) -> View:
    """The language was changed to `lang`: said in it, with the greeting and the menu."""
    text = f"{t('language.changed', lang)}\n\n{greeting(content, lang)}"
    return View(text, main_menu(lang))


@functools.cache
def languages(lang: str) -> View:
    rows = [[button(LANGUAGE_NAMES[code], callbacks.LANGUAGE.data(code))] for code in LANGUAGES]
    rows.append(back_row(lang))
    return View(t("language.choose", lang), InlineKeyboardMarkup(rows))


def answer_label(content: Content, key: str, lang: str) -> str | None:
    """A short button label for an answer key ("did you mean" buttons)."""
    kind, _, ident = key.partition(":")
    if kind == "org" and (org := content.organization(ident)):
        return org.display_name(lang)
    if kind == "session" and (session := content.session(ident)):
        if content.draft:  # no room on a button to say the time is indicative
            return session.title.get(lang)
        return f"{session.start:%H:%M} · {session.title.get(lang)}"
    if kind == "faq" and (faq := content.faq(ident)):
        return faq.question.get(lang)
    if kind == "nav" and ident in Nav._value2member_map_:
        return plain(NAV_LABELS[Nav(ident)], lang)
    return None


NAV_LABELS = {
    Nav.PROGRAMME: "menu.programme",
    Nav.SIDE_EVENTS: "menu.side_events",
    Nav.PARTNERS: "menu.partners",
    Nav.ORGANIZERS: "menu.organizers",
    Nav.PROPOSE: "menu.propose",
    Nav.HELP: "command.help",
    Nav.LANGUAGE: "menu.language",
    Nav.NOW: "menu.now",
    Nav.GREETING: "menu.main",
    Nav.THANKS: "menu.main",
    Nav.ACK: "menu.main",
}


# -- the organizers' updates and /forget ---------------------------------------------------------


def updates_view(subscribed: bool, lang: str) -> View:
    """Whether this person gets the organizers' updates, and the button to change it."""
    if subscribed:
        text, label, choice = "subscription.status_on", "subscription.stop_button", "off"
    else:
        text, label, choice = "subscription.status_off", "subscription.start_button", "on"
    rows = [[button(plain(label, lang), callbacks.SUBSCRIBE.data(choice))], back_row(lang)]
    return View(t(text, lang), InlineKeyboardMarkup(rows))


def forget_confirm_view(lang: str) -> View:
    """/forget: delete everything about you? Yes / No."""
    keyboard = InlineKeyboardMarkup(
        [
            [button(plain("forget.yes_button", lang), callbacks.FORGET.data("yes"))],
            [button(plain("forget.no_button", lang), callbacks.FORGET.data("no"))],
        ]
    )
    return View(t("forget.confirm", lang), keyboard)


def forgotten_view(withdrawn: Sequence[str], lang: str, *, told: bool) -> View:
    """Everything about the person is deleted; their requests `withdrawn` (by reference) are
    named, and whether the organizers are told (`told`: there is a group to tell them in)."""
    text = t("forget.done", lang)
    if withdrawn:
        key = "forget.withdrawn" if told else "forget.withdrawn_stored"
        text = Html(f"{text}\n\n{t(key, lang, references=', '.join(withdrawn))}")
    return View(text)


# -- a session card's Back to the list page it was opened from --------------------------------

_LISTS = (callbacks.PROGRAMME, callbacks.SIDE_EVENTS)  # the lists a session card is opened from
_PREVIOUS = frozenset(plain("page.previous", lang) for lang in LANGUAGES)


def _list_page(button: InlineKeyboardButton) -> tuple[callbacks.Button, int] | None:
    """The list and page a button of a session list opens, if it is one."""
    data = str(button.callback_data or "")
    for kind in _LISTS:
        if found := kind.pattern.match(data):
            return kind, int(found.group(1))
    return None


def _with_back(view: View, source: str) -> View:
    """The view with its Back to a list going to `source` (a list's page) instead."""
    assert view.keyboard is not None
    rows = [
        [InlineKeyboardButton(b.text, callback_data=source) if _list_page(b) else b for b in row]
        for row in view.keyboard.inline_keyboard
    ]
    return View(view.text, InlineKeyboardMarkup(rows))


def back_to_list_page(view: View, markup: InlineKeyboardMarkup | None) -> View:
    """The card with its Back to the list and page it was opened from, not page 1.

    The list and page are read from the list's own pager buttons (Previous n-1 / Next n+1) in
    `markup`, the keyboard of the message pressed, which came with it from Telegram.
    """
    if markup is None or view.keyboard is None:
        return view
    for pager in (b for row in markup.inline_keyboard for b in row):
        if found := _list_page(pager):
            kind, number = found
            page = number + 1 if pager.text in _PREVIOUS else max(number - 1, 0)
            return _with_back(view, kind.data(page))
    return view
