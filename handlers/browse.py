"""Browsing: programme, side events, partners, organizers and their cards (edited in place)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.content import OrganizationRole
from bot.i18n import plain
from handlers import views
from handlers.callbacks import Button
from handlers.common import main_menu_view, personal_session_card, show
from handlers.context import FocusContext


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
    if update.callback_query:
        await update.callback_query.answer()
    view = await personal_session_card(update, context, session)
    await show(update, _back_to_page(update, view))


def _back_to_page(update: Update, view: views.View) -> views.View:
    """The card's Back returns to the list and page it was opened from, not page 1 (read
    from the pressed message's buttons: nothing is remembered between the two presses)."""
    query = update.callback_query
    message = query.message if query is not None else None
    return views.back_to_list_page(view, getattr(message, "reply_markup", None))


async def organization_card(update: Update, context: FocusContext) -> None:
    """One organization's card with its sessions and "more info" link."""
    (org_id,) = Button.fields(context)
    content = context.services.content.content
    org = content.organization(org_id)
    if org is None:
        await expired(update, context)
        return
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.organization_card(content, org, context.lang))


async def organization_more(update: Update, context: FocusContext) -> None:
    """The rest of an organization's description, under its card."""
    (org_id,) = Button.fields(context)
    content = context.services.content.content
    org = content.organization(org_id)
    if org is None:
        await expired(update, context)
        return
    if update.callback_query:
        await update.callback_query.answer()
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
