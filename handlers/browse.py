"""Browsing: programme, side events, partners, organizers and their cards (edited in place)."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.content import OrganizationRole
from bot.i18n import LANGUAGES, plain
from handlers import agenda, callbacks, views
from handlers.common import show
from handlers.context import FocusContext
from handlers.start import main_menu_view


def _match(update: Update, pattern: re.Pattern[str]) -> re.Match[str] | None:
    query = update.callback_query
    return pattern.match(query.data) if query is not None and query.data else None


async def programme(update: Update, context: FocusContext) -> None:
    """The programme in time order, a page at a time."""
    match = _match(update, callbacks.PROGRAMME_PATTERN)
    page = int(match.group(1)) if match else 0
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.programme(context.services.content.content, context.lang, page))


async def side_events(update: Update, context: FocusContext) -> None:
    """The side events only."""
    match = _match(update, callbacks.SIDE_EVENTS_PATTERN)
    page = int(match.group(1)) if match else 0
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.side_events(context.services.content.content, context.lang, page))


async def organizations(update: Update, context: FocusContext) -> None:
    """Partners or side-event organizers as buttons."""
    match = _match(update, callbacks.ORGANIZATIONS_PATTERN)
    role = OrganizationRole(match.group(1)) if match else OrganizationRole.PARTNER
    page = int(match.group(2)) if match else 0
    if update.callback_query:
        await update.callback_query.answer()
    content = context.services.content.content
    await show(update, views.organizations(content, context.lang, role, page))


async def session_card(update: Update, context: FocusContext) -> None:
    """One session's card; a stale id (content reloaded) falls back to the menu."""
    match = _match(update, callbacks.SESSION_PATTERN)
    content = context.services.content.content
    session = content.session(match.group(1)) if match else None
    if session is None:
        await expired(update, context)
        return
    await update.callback_query.answer()  # type: ignore[union-attr]
    view = await agenda.personal_session_card(update, context, session)
    await show(update, _back_to_page(update, view))


_LIST_PAGE = re.compile(r"^(prog|side):(\d{1,3})$")
_PREVIOUS = frozenset(plain("page.previous", lang) for lang in LANGUAGES)


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
    source = None
    for button in (b for row in markup.inline_keyboard for b in row):
        found = _LIST_PAGE.match(str(button.callback_data or ""))
        if found:
            number = int(found.group(2))
            page = number + 1 if button.text in _PREVIOUS else max(number - 1, 0)
            source = f"{found.group(1)}:{page}"
            break
    if source is None:
        return view
    rows = [
        [
            InlineKeyboardButton(b.text, callback_data=source)
            if _LIST_PAGE.match(str(b.callback_data or ""))
            else b
            for b in row
        ]
        for row in view.keyboard.inline_keyboard
    ]
    return views.View(view.text, InlineKeyboardMarkup(rows))


async def organization_card(update: Update, context: FocusContext) -> None:
    """One organization's card with its sessions and "more info" link."""
    match = _match(update, callbacks.ORGANIZATION_PATTERN)
    content = context.services.content.content
    org = content.organization(match.group(1)) if match else None
    if org is None:
        await expired(update, context)
        return
    await update.callback_query.answer()  # type: ignore[union-attr]
    await show(update, views.organization_card(content, org, context.lang))


# "More about X" (handlers/views.py): the rest of an organization's description.
ORGANIZATION_MORE_PATTERN = re.compile(rf"^{views.ORGANIZATION_MORE}:([a-z0-9-]{{1,32}})$")


async def organization_more(update: Update, context: FocusContext) -> None:
    """The rest of an organization's description, under its card."""
    match = _match(update, ORGANIZATION_MORE_PATTERN)
    content = context.services.content.content
    org = content.organization(match.group(1)) if match else None
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
