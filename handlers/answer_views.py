"""The views of answers to typed questions: an answer key's card or list, several answers in
one reply, "did you mean" buttons, the one-tap language switch (handlers/ask.py sends them)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answers import Answer, Match, Nav
from bot.content import Content, OrganizationRole, SessionKind
from bot.content.facts import faq_answer, repeats
from bot.i18n import plain, t
from handlers import callbacks, views

# Answers that point to the speaking-slot request get its button too ("speakers": not
# announced yet, but you can ask to speak).
PROPOSE_BUTTON_KEYS = frozenset(
    {"faq:speakers", "faq:registration", "faq:propose-slot", "faq:contact", "faq:event-audience"}
)


def render_answer(
    content: Content, key: str, lang: str, viewer: views.Viewer | None = None
) -> views.View | None:
    """The card or list an answer key points to, or None if it no longer exists. A session
    is the same card as everywhere (☆ Save, Share, .ics) for `viewer`."""
    kind, _, ident = key.partition(":")
    if kind == "org" and (org := content.organization(ident)):
        return views.organization_card(content, org, lang)
    if kind == "session" and (session := content.session(ident)):
        viewer = viewer or views.Viewer()
        return views.session_card_for(
            content,
            session,
            lang,
            saved=session.id in viewer.saved,
            bot_username=viewer.bot_username,
        )
    if kind == "faq":
        card = views.faq_card(content, ident, lang)
        if card is not None and key in PROPOSE_BUTTON_KEYS:
            return with_propose_button(card, lang)
        return card
    if kind == "nav" and ident in Nav._value2member_map_:
        return render_nav(content, Nav(ident), lang)
    return None


def with_propose_button(view: views.View, lang: str) -> views.View:
    rows = list(view.keyboard.inline_keyboard) if view.keyboard else []
    start_request = views.button(
        plain("proposals.button.start", lang), callbacks.PROPOSE_START.data()
    )
    return views.View(view.text, InlineKeyboardMarkup([[start_request], *rows]))


def panels(content: Content, lang: str) -> views.View:
    """The expert panels only: "what panels are there" is not a question about the whole day."""
    sessions = content.sessions_of_kind(SessionKind.PANEL)
    if not sessions:
        return views.View(t("answers.panels.empty", lang), views.main_menu(lang))
    title = t("answers.panels.title", lang, count=len(sessions))
    return views.session_list(content, lang, sessions, 0, title, callbacks.PROGRAMME.data)


def answer_label(content: Content, key: str, lang: str) -> str | None:
    """A "did you mean" button label, including the destinations views.py does not name."""
    if key == f"nav:{Nav.PANELS.value}":
        return plain("answers.panels.button", lang)
    return views.answer_label(content, key, lang)


def _opens(key: str) -> str | None:
    """The callback data of the button that opens the card of an answer key."""
    kind, _, ident = key.partition(":")
    if kind == "org":
        return callbacks.ORGANIZATION.data(ident)
    if kind == "session":
        return callbacks.SESSION.data(ident)
    return None


def _said_by_a_card(
    content: Content, key: str, views_of: dict[str, views.View | None], lang: str
) -> bool:
    """A FAQ about an organization whose card is in the same reply, and says nothing more."""
    kind, _, ident = key.partition(":")
    faq = content.faq(ident) if kind == "faq" else None
    if faq is None:
        return False
    answer = faq_answer(content, faq, lang)
    for ref in faq.related:
        card = views_of.get(f"org:{ref}")
        if card is not None and repeats(answer, card.text):
            return True
    return False


def combined(
    content: Content, result: Answer, lang: str, viewer: views.Viewer | None = None
) -> views.View | None:
    """One reply for a message that asked several things: the answers one after the other,
    their buttons together (none to a card already in the reply), one way back to the menu."""
    views_of = {key: render_answer(content, key, lang, viewer) for key in result.keys}
    shown = [
        view
        for key, view in views_of.items()
        if view is not None and not _said_by_a_card(content, key, views_of, lang)
    ]
    if len(shown) < 2:
        return shown[0] if shown else None
    rows: list[list[InlineKeyboardButton]] = []
    seen: set[str] = {data for key in result.keys if (data := _opens(key))}
    for view in shown:
        for row in view.keyboard.inline_keyboard if view.keyboard else ():
            if any(button.callback_data == callbacks.MENU.data() for button in row):
                continue  # the "main menu" row: added once, at the end
            kept = []
            for button in row:
                ident = str(button.callback_data or button.url)
                if ident not in seen:
                    seen.add(ident)
                    kept.append(button)
            if kept:
                rows.append(kept)
    rows.append(views.back_row(lang))
    text = "\n\n".join(view.text for view in shown)
    return views.View(views.fit(text), InlineKeyboardMarkup(rows))


def did_you_mean(content: Content, suggestions: Sequence[Match], lang: str) -> views.View:
    """Close candidates for a question with no sure answer, one button each."""
    rows = []
    for match in suggestions:
        label = answer_label(content, match.key, lang)
        if label:
            rows.append([views.button(label, callbacks.ANSWER.data(match.key))])
    rows.append(views.back_row(lang))
    return views.View(t("ask.did_you_mean", lang), InlineKeyboardMarkup(rows))


def offer_language(view: views.View, lang: str) -> views.View:
    """Add the one-tap switch to `lang` (the language the question was written in)."""
    rows = list(view.keyboard.inline_keyboard) if view.keyboard else []
    switch = views.button(plain("answers.switch_language", lang), callbacks.LANGUAGE.data(lang))
    return views.View(view.text, InlineKeyboardMarkup([*rows, [switch]]))


def render_nav(content: Content, nav: Nav, lang: str) -> views.View:
    if nav is Nav.PROGRAMME:
        return views.programme(content, lang)
    if nav is Nav.PANELS:
        return panels(content, lang)
    if nav is Nav.SIDE_EVENTS:
        return views.side_events(content, lang)
    if nav is Nav.PARTNERS:
        return views.organizations(content, lang, OrganizationRole.PARTNER)
    if nav is Nav.ORGANIZERS:
        return views.organizations(content, lang, OrganizationRole.SIDE_EVENT_ORGANIZER)
    if nav is Nav.LANGUAGE:
        return views.languages(lang)
    if nav is Nav.GREETING:
        return views.View(views.greeting(content, lang), views.main_menu(lang))
    if nav is Nav.THANKS:
        return views.View(t("ask.thanks", lang), views.main_menu(lang))
    if nav is Nav.ACK:
        return views.View(t("ask.ack", lang), views.main_menu(lang))
    if nav is Nav.PROPOSE:
        start_request = views.button(
            plain("proposals.button.start", lang), callbacks.PROPOSE_START.data()
        )
        keyboard = InlineKeyboardMarkup([[start_request], views.back_row(lang)])
        return views.View(t("proposals.nav", lang), keyboard)
    return views.View(t("help.text", lang), views.main_menu(lang))
