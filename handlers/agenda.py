"""My agenda: ☆ Save, /agenda, /now, /settings and reminders, change notices after /reload,
calendar files, inline mode and deep links. Thin: the logic is in bot/agenda.py,
bot/schedule.py and bot/calendar.py.

Every button acts for the person who pressed it (`query.from_user`), never for an id read from
the callback data; the admin's buttons re-check that the presser is an admin.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from telegram import Bot, Update
from telegram.error import BadRequest

from bot.broadcasts import BroadcastReport
from bot.calendar import calendar_file
from bot.content import Session
from bot.i18n import plain, t
from bot.models.broadcast import BroadcastKind
from handlers import callbacks, views
from handlers.agenda_views import (
    agenda_view,
    inline_results,
    notice_view,
    now_view,
    reminder_label,
    reminders_view,
    save_relabelled,
    settings_view,
)
from handlers.callbacks import Button
from handlers.common import edit_progress, personal_session_card, show
from handlers.context import FocusContext

DEEP_LINK: Final = re.compile(r"^(session|org)-([a-z0-9-]{1,32})$")


# -- ☆ Save and the session card ---------------------------------------------------------------


async def toggle_save(update: Update, context: FocusContext) -> None:
    """☆ Save / ★ Saved on a session card, for whoever pressed it."""
    query = update.callback_query
    assert query is not None
    (session_id,) = Button.fields(context)
    content = context.services.content.content
    session = content.session(session_id)
    if session is None:
        await query.answer(plain("button.expired", context.lang))
        return
    saved = await context.services.agenda.toggle_and_plan(query.from_user.id, session.id, content)
    await query.answer(
        plain("agenda.toast.saved" if saved else "agenda.toast.removed", context.lang)
    )
    await _relabel(update, session, saved, context.lang)


async def _relabel(update: Update, session: Session, saved: bool, lang: str) -> None:
    """Change only the Save button on the message (its other buttons stay as they were)."""
    query = update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query else None
    if query is None or markup is None:
        return
    try:
        await query.edit_message_reply_markup(save_relabelled(markup, session, saved, lang))
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


# -- /agenda ----------------------------------------------------------------------------------


async def agenda(update: Update, context: FocusContext) -> None:
    """/agenda and "⭐ My agenda"."""
    if update.callback_query:
        await update.callback_query.answer()
    await _show_agenda(update, context)


async def _show_agenda(update: Update, context: FocusContext) -> None:
    user = update.effective_user
    if user is None:
        return
    content = context.services.content.content
    service = context.services.agenda
    sessions, overlaps = await service.agenda(user.id, content)
    minutes = await service.reminders.minutes(user.id)
    await show(update, agenda_view(content, context.lang, sessions, overlaps, minutes))


# -- /now -------------------------------------------------------------------------------------


async def now(update: Update, context: FocusContext) -> None:
    """/now and "🕘 Now and next"."""
    if update.callback_query:
        await update.callback_query.answer()
    content = context.services.content.content
    await show(update, now_view(content, context.lang, context.now()))


# -- calendar files ---------------------------------------------------------------------------


async def send_calendar(update: Update, context: FocusContext) -> None:
    """📅 .ics of one session, of My agenda, or of the whole programme."""
    query = update.callback_query
    assert query is not None
    (which,) = Button.fields(context)
    content = context.services.content.content
    lang = context.lang
    if which == callbacks.ICS_AGENDA:
        sessions, _ = await context.services.agenda.agenda(query.from_user.id, content)
        name = "my-agenda.ics"
    elif which == callbacks.ICS_PROGRAMME:
        sessions, name = content.sessions, "programme.ics"
    else:
        found = content.session(which)
        if found is None:
            await query.answer(plain("button.expired", lang))
            return
        sessions, name = [found], f"{found.id}.ics"
    await query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    if content.event.date is None:
        await chat.send_message(t("ics.no_date", lang))
        return
    data = calendar_file(
        content,
        sessions,
        lang,
        sequences=await context.services.agenda.changes.sequences(),
        bot_username=context.bot.username,
    )
    await chat.send_document(data, filename=name, caption=t("ics.caption", lang))


# -- /settings and reminders --------------------------------------------------------------------


async def settings(update: Update, context: FocusContext) -> None:
    """/settings: language, the organizers' updates and reminders in one place."""
    if update.callback_query:
        await update.callback_query.answer()
    await _show_settings(update, context)


async def _show_settings(update: Update, context: FocusContext) -> None:
    user = update.effective_user
    if user is None:
        return
    subscribed = await context.services.users.is_subscribed(user.id)
    minutes = await context.services.agenda.reminders.minutes(user.id)
    await show(update, settings_view(context.lang, subscribed, minutes))


def _opened_from_settings(update: Update) -> bool:
    """Whether the pressed message is Settings, or the Reminders page opened from it (its
    Back goes there); else it is My agenda's. Read from the message's own buttons, so
    nothing is remembered between presses (like a session card's Back to its list page)."""
    query = update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query is not None else None
    if markup is None:
        return True
    data = {b.callback_data for row in markup.inline_keyboard for b in row}
    return bool(data & {callbacks.LANGUAGES.data(), callbacks.SETTINGS.data()})


async def reminders_menu(update: Update, context: FocusContext) -> None:
    """⏰ Reminders: 10, 15 or 30 minutes before, or none; Back to where it was opened."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    user = update.effective_user
    if user is None:
        return
    minutes = await context.services.agenda.reminders.minutes(user.id)
    back = callbacks.SETTINGS if _opened_from_settings(update) else callbacks.AGENDA
    dated = context.services.content.content.event.date is not None
    await show(update, reminders_view(context.lang, minutes, back.data(), dated=dated))


async def choose_reminder(update: Update, context: FocusContext) -> None:
    """A reminder choice, for the person who pressed it; their reminders move with it. Then
    back to the page the Reminders were opened from (My agenda or Settings)."""
    query = update.callback_query
    assert query is not None
    (choice,) = Button.fields(context)
    planner = context.services.agenda.reminders
    minutes = await planner.set_minutes(query.from_user.id, int(choice))
    await planner.sync(context.services.content.content, query.from_user.id)
    await query.answer(
        plain("reminders.changed", context.lang, choice=reminder_label(minutes, context.lang))
    )
    if _opened_from_settings(update):
        await _show_settings(update, context)
    else:
        await _show_agenda(update, context)


# -- change notices (after /reload) -----------------------------------------------------------


def _is_admin(update: Update, context: FocusContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.services.settings.admin_ids


async def after_reload(update: Update, context: FocusContext) -> None:
    """After /reload (handlers/admin.py, among the areas): record what changed in the
    programme, move or cancel its reminders, and show the admin the notices waiting for a
    confirmation."""
    if not _is_admin(update, context):
        return
    content = context.services.content.content
    service = context.services.agenda
    await service.changes.record(content)
    await service.reminders.sync(content)
    for plan in await service.changes.waiting():
        if not plan.people:
            await service.changes.drop(plan.broadcast_id)  # nobody to tell: nothing to ask
            continue
        await show(update, notice_view(plan, context.lang), edit=False)


async def answer_notice(update: Update, context: FocusContext) -> None:
    """📣 Send the notices / Don't send: admins only, once (any worker, any number of presses)."""
    query = update.callback_query
    assert query is not None
    lang = context.lang
    if not _is_admin(update, context):
        await query.answer(plain("button.expired", lang))
        return
    action, number = Button.fields(context)
    broadcast_id = int(number)
    changes = context.services.agenda.changes
    message = query.message
    if action == "drop":
        done = await changes.drop(broadcast_id)
        await query.answer()
        await show(update, views.View(t("notices.dropped" if done else "notices.gone", lang)))
        return
    count = await changes.confirm(
        broadcast_id,
        admin_id=query.from_user.id,
        language=lang,
        progress_chat_id=message.chat.id if message else None,
        progress_message_id=message.message_id if message else None,
    )
    await query.answer()
    if count is None:
        await show(update, views.View(t("notices.gone", lang)))
        return
    await show(update, views.View(t("notices.queued", lang, count=count)))
    if context.services.broadcasts.on_queued is not None:
        context.services.broadcasts.on_queued()


def progress_reporter(
    bot: Bot, announcements: Callable[[BroadcastReport], Awaitable[None]]
) -> Callable[[BroadcastReport], Awaitable[None]]:
    """The sender's progress: change notices in their own words; announcements as before."""

    async def report(progress: BroadcastReport) -> None:
        if progress.kind == BroadcastKind.ANNOUNCEMENT:
            await announcements(progress)
            return
        text = t(
            "notices.progress",
            progress.language,
            number=progress.broadcast_id,
            handled=progress.handled,
            total=progress.total,
            delivered=progress.delivered,
            blocked=progress.blocked,
            failed=progress.failed,
        )
        await edit_progress(bot, progress, text)

    return report


async def privacy_addendum(update: Update, context: FocusContext) -> None:
    """After /privacy (handlers/subscription.py): what My agenda stores too."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(t("agenda.privacy", context.lang))


# -- sharing: deep links and inline mode --------------------------------------------------------


async def open_deep_link(update: Update, context: FocusContext, argument: str) -> bool:
    """/start session-<id> or org-<id>: that card; False if the argument is not one of ours."""
    match = DEEP_LINK.match(argument)
    if match is None:
        return False
    content = context.services.content.content
    kind, ident = match.groups()
    view: views.View | None = None
    if kind == "session" and (session := content.session(ident)):
        view = await personal_session_card(update, context, session)
    elif kind == "org" and (org := content.organization(ident)):
        view = views.organization_card(content, org, context.lang)
    if view is None:
        view = views.View(t("agenda.link_unknown", context.lang), views.main_menu(context.lang))
    await show(update, view, edit=False)
    return True


async def inline_query(update: Update, context: FocusContext) -> None:
    """`@bot digital` in any chat: matching sessions and partners, in the person's language."""
    query = update.inline_query
    if query is None:
        return
    content = context.services.content.content
    results: list[Any] = inline_results(content, query.query, context.lang, context.bot.username)
    await query.answer(results, cache_time=30, is_personal=True)
