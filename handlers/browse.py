"""Browsing: programme, side events, partners, organizers and their cards (edited in place)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.content import OrganizationRole
from bot.i18n import LANGUAGES, plain
from handlers import agenda, callbacks, views
from handlers.callbacks import Button
from handlers.common import show
from handlers.context import FocusContext
from handlers.start import main_menu_view


def _page(context: FocusContext) -> int:
    """The page a list's button asked for (its last field); the first for a command."""
    fields = Button.fields(context)
    return int(fields[-1]) if fields else 0


async def programme(update: Update, context: FocusContext) -> None:
    """The programme in time order, a page at a time."""
    page = _page(context)
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.programme(context.services.content.content, context.lang, page))


async def side_events(update: Update, context: FocusContext) -> None:
    """The side events only."""
    page = _page(context)
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.side_events(context.services.content.content, context.lang, page))


async def organizations(update: Update, context: FocusContext) -> None:
    """Partners or side-event organizers as buttons."""
    fields = Button.fields(context)
    role = OrganizationRole(fields[0]) if fields else OrganizationRole.PARTNER
    page = _page(context)
    if update.callback_query:
        await update.callback_query.answer()
    content = context.services.content.content
    await show(update, views.organizations(content, context.lang, role, page))


async def session_card(update: Update, context: FocusContext) -> None:
    """One session's card; a stale id (content reloaded) falls back to the menu."""
    (session_id,) = Button.fields(context)
    content = context.services.content.content
    session = content.session(session_id)
    if session is None:
        await expired(update, context)
        return
    await update.callback_query.answer()  # type: ignore[union-attr]
    view = await agenda.personal_session_card(update, context, session)
    await show(update, _back_to_page(update, view))


_LISTS = (callbacks.PROGRAMME, callbacks.SIDE_EVENTS)  # the lists a session card is opened from
_PREVIOUS = frozenset(plain("page.previous", lang) for lang in LANGUAGES)


def _list_page(button: InlineKeyboardButton) -> tuple[Button, int] | None:
    """The list and page a button of a session list opens, if it is one."""
    data = str(button.callback_data or "")
    for kind in _LISTS:
        if found := kind.pattern.match(data):
            return kind, int(found.group(1))
    return None


def _back_to_page(update: Update, view: views.View) -> views.View:
    """The card's Back returns to the list and page it was opened from, not page 1.

    The list and page are read from the list's own pager buttons (Previous n-1 / Next n+1),
    which came with the message from Telegram: nothing is remembered between the two presses.
    """
    query = update.callback_query
    message = query.message if query is not None else None
    markup = getattr(message, "reply_markup", None)
    if markup is None or view.keyboard is None:
        return view
    for button in (b for row in markup.inline_keyboard for b in row):
        if found := _list_page(button):
            kind, number = found
            page = number + 1 if button.text in _PREVIOUS else max(number - 1, 0)
            return _with_back(view, kind.data(page))
    return view


def _with_back(view: views.View, source: str) -> views.View:
    """The view with its Back to a list going to `source` (a list's page) instead."""
    assert view.keyboard is not None
    rows = [
        [InlineKeyboardButton(b.text, callback_data=source) if _list_page(b) else b for b in row]
        for row in view.keyboard.inline_keyboard
    ]
    return views.View(view.text, InlineKeyboardMarkup(rows))


async def organization_card(update: Update, context: FocusContext) -> None:
    """One organization's card with its sessions and "more info" link."""
    (org_id,) = Button.fields(context)
    content = context.services.content.content
    org = content.organization(org_id)
    if org is None:
        await expired(update, context)
        return
    await update.callback_query.answer()  # type: ignore[union-attr]
    await show(update, views.organization_card(content, org, context.lang))


async def organization_more(update: Update, context: FocusContext) -> None:
    """The rest of an organization's description, under its card."""
    (org_id,) = Button.fields(context)
    content = context.services.content.content
    org = content.organization(org_id)
    if org is None:
        await expired(update, context)
        return
    await update.callback_query.answer()  # type: ignore[union-attr]
    await show(update, views.organization_more(content, org, context.lang))


async def expired(update: Update, context: FocusContext) -> None:
    """Any button we do not (or no longer) know: say so, and offer the menu in private.

    The message it was on is left alone: it may be a request card in the organizers' group.
    """
    query = update.callback_query
    if query is not None:
        await query.answer(plain("button.expired", context.lang))
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await show(update, main_menu_view(context), edit=False)
