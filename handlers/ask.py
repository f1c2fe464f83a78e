"""Free-text questions answered from the content, and the "did you mean" buttons."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.answers import Nav
from bot.content import Content, OrganizationRole
from bot.i18n import plain, t
from bot.services import FocusContext
from handlers import callbacks, views
from handlers.common import show, strip_mention

MAX_QUESTION_LENGTH = 500


def render_answer(content: Content, key: str, lang: str) -> views.View | None:
    """The card or list an answer key points to, or None if it no longer exists."""
    kind, _, ident = key.partition(":")
    if kind == "org" and (org := content.organization(ident)):
        return views.organization_card(content, org, lang)
    if kind == "session" and (session := content.session(ident)):
        return views.session_card(content, session, lang)
    if kind == "faq":
        return views.faq_card(content, ident, lang)
    if kind == "nav" and ident in Nav._value2member_map_:
        return render_nav(content, Nav(ident), lang)
    return None


def render_nav(content: Content, nav: Nav, lang: str) -> views.View:
    if nav is Nav.PROGRAMME:
        return views.programme(content, lang)
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
    if nav is Nav.PROPOSE:
        start_request = views.button(plain("proposals.button.start", lang), views.PROPOSE_START)
        keyboard = InlineKeyboardMarkup([[start_request], views.back_row(lang)])
        return views.View(t("proposals.nav", lang), keyboard)
    return views.View(t("help.text", lang), views.main_menu(lang))


async def ask_prompt(update: Update, context: FocusContext) -> None:
    """The "Ask a question" button: invite the person to type."""
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.View(t("ask.prompt", context.lang)), edit=False)


async def question(update: Update, context: FocusContext) -> None:
    """Answer a typed question, offer close candidates, or say kindly that we don't know."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    lang = context.lang
    text = strip_mention(message.text, context.bot.username)
    if len(text) > MAX_QUESTION_LENGTH:
        await message.reply_text(t("ask.too_long", lang), parse_mode=ParseMode.HTML)
        return
    store = context.services.content
    result = store.index.answer(text)
    view = render_answer(store.content, result.best.key, lang) if result.best else None
    if view is None and result.suggestions:
        rows = []
        for match in result.suggestions:
            label = views.answer_label(store.content, match.key, lang)
            if label:
                rows.append([views.button(label, callbacks.answer(match.key))])
        rows.append(views.back_row(lang))
        view = views.View(t("ask.did_you_mean", lang), InlineKeyboardMarkup(rows))
    if view is None:
        view = views.View(t("ask.no_match", lang, question=text[:100]), views.main_menu(lang))
    await show(update, view, edit=False)


async def chosen_answer(update: Update, context: FocusContext) -> None:
    """A "did you mean" button: show that answer in place."""
    query = update.callback_query
    assert query is not None
    match = callbacks.ANSWER_PATTERN.match(query.data or "")
    store = context.services.content
    view = render_answer(store.content, match.group(1), context.lang) if match else None
    if view is None:
        await query.answer(plain("button.expired", context.lang))
        view = views.View(t("menu.title", context.lang), views.main_menu(context.lang))
    else:
        await query.answer()
    await show(update, view)


async def not_text(update: Update, context: FocusContext) -> None:
    """A photo, sticker or voice note where we can only read text."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            t("ask.not_text", context.lang), reply_markup=views.main_menu(context.lang)
        )
