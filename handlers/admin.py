"""Admins only: /broadcast (compose, audience, preview, confirm), /broadcasts, /stats, /reload.

Every handler re-checks `settings.is_admin` on the numeric id of whoever sent the message or
pressed the button: a button can be forwarded, replayed or forged.

The announcement being composed is a row in the database (text, then audience): any worker
takes the admin's next step, and a restart loses nothing. "Send" turns it into a queued
broadcast in one transaction.
"""

from __future__ import annotations

from typing import Final

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.ext import filters

from bot.broadcast_sender import Progress
from bot.broadcasts import MESSAGE_LIMIT, BroadcastReport, is_valid_audience, text_problem
from bot.content import ContentInvalid
from bot.i18n import plain, t
from handlers import update_log
from handlers.admin_views import (
    ask_text_view,
    audience_label,
    confirm_view,
    recent_view,
    reload_refused_view,
    reloaded_view,
    report_text,
    stats_view,
)
from handlers.admin_views import audience_view as audience_buttons
from handlers.callbacks import Button
from handlers.common import edit_progress, show
from handlers.context import FocusContext
from handlers.views import View

RECENT_LIMIT: Final = 10


# -- who may do this ---------------------------------------------------------------------------


async def refuse_unless_admin(update: Update, context: FocusContext) -> bool:
    """True for an admin; anyone else gets a short refusal and nothing happens."""
    user = update.effective_user
    if user is not None and context.services.settings.is_admin(user.id):
        return False
    refusal = plain("admin.refused", context.lang)
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(refusal, parse_mode=None)
    return True


def composing_filter(admin_ids: frozenset[int]) -> filters.BaseFilter:
    """An admin's private text that may be the announcement they were asked for."""
    return (
        filters.UpdateType.MESSAGE
        & filters.ChatType.PRIVATE
        & filters.TEXT
        & ~filters.COMMAND
        & filters.User(user_id=admin_ids)
    )


def composing_cancel_filter(admin_ids: frozenset[int]) -> filters.BaseFilter:
    return filters.ChatType.PRIVATE & filters.User(user_id=admin_ids)


# -- the audiences, counted now -------------------------------------------------------------


async def audience_view(context: FocusContext) -> View:
    """The audiences to choose from, each with how many people it reaches now."""
    broadcasts = context.services.broadcasts
    counts = [(audience, await broadcasts.count(audience)) for audience in broadcasts.audiences()]
    return audience_buttons(counts, context.lang)


# -- composing ---------------------------------------------------------------------------------


async def broadcast_command(update: Update, context: FocusContext) -> None:
    """/broadcast [TEXT]: take the text inline or ask for it."""
    if await refuse_unless_admin(update, context) or update.effective_user is None:
        return
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await chat.send_message(t("broadcast.private_only", context.lang))
        return
    message = update.effective_message
    text = (message.text or "").partition(" ")[2].strip() if message else ""
    if not text:
        await context.services.broadcasts.compose(update.effective_user.id)
        await show(update, ask_text_view(context.lang))
        return
    await take_text(update, context, text)


async def broadcast_text(update: Update, context: FocusContext) -> None:
    """An admin's private text: the announcement, if they were asked for one.

    Runs in its own group before the others: when the text is the announcement, the other
    handlers are skipped (update_log.stop); otherwise it is a question or an answer
    like anyone's.
    """
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or not context.services.settings.is_admin(user.id):
        return
    composition = await context.services.broadcasts.composition(user.id)
    if composition is None or not composition.awaiting_text:
        return
    await take_text(update, context, message.text or "")
    await update_log.stop(update, context)


async def take_text(update: Update, context: FocusContext, text: str) -> None:
    """Validate the text, keep it in the composition, ask for the audience."""
    assert update.effective_user is not None
    admin_id = update.effective_user.id
    problem = text_problem(text)
    if problem:
        await context.services.broadcasts.compose(admin_id)  # still waiting for a text
        key = "broadcast.text_empty" if problem == "empty" else "broadcast.text_too_long"
        await show(update, View(t(key, context.lang, limit=MESSAGE_LIMIT, length=len(text))))
        return
    await context.services.broadcasts.compose(admin_id, text=text)
    await show(update, await audience_view(context), edit=False)


async def choose_audience(update: Update, context: FocusContext) -> None:
    """An audience was picked: show the preview exactly as it will arrive, and the count."""
    query = update.callback_query
    assert query is not None
    if await refuse_unless_admin(update, context) or update.effective_user is None:
        return
    broadcasts = context.services.broadcasts
    (audience,) = Button.fields(context)
    composition = await broadcasts.composition(update.effective_user.id)
    if composition is None or not composition.text or not is_valid_audience(audience):
        await query.answer(plain("broadcast.nothing_to_confirm", context.lang), show_alert=True)
        return
    await query.answer()
    count = await broadcasts.count(audience)
    if count == 0:
        await show(
            update,
            View(
                t("broadcast.no_recipients", context.lang), (await audience_view(context)).keyboard
            ),
        )
        return
    if await broadcasts.compose(update.effective_user.id, audience=audience) is None:
        await show(update, View(t("broadcast.nothing_to_confirm", context.lang)))
        return
    await show(update, View(t("broadcast.preview_intro", context.lang)))
    chat = update.effective_chat
    if chat is not None:
        # Sent exactly as the recipients will get it: plain text, no formatting to break.
        await chat.send_message(composition.text, parse_mode=None)
    await show(update, confirm_view(audience, count, context.lang), edit=False)


async def other_audience(update: Update, context: FocusContext) -> None:
    """Back from the confirmation to the audience buttons."""
    query = update.callback_query
    assert query is not None
    if await refuse_unless_admin(update, context) or update.effective_user is None:
        return
    await query.answer()
    composition = await context.services.broadcasts.composition(update.effective_user.id)
    if composition is None or not composition.text:
        await show(update, View(t("broadcast.nothing_to_confirm", context.lang)))
        return
    await show(update, await audience_view(context))


async def confirm(update: Update, context: FocusContext) -> None:
    """ "Send": queue one delivery per recipient; the background sender does the rest."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if await refuse_unless_admin(update, context):
        return
    broadcasts, lang = context.services.broadcasts, context.lang
    composition = await broadcasts.composition(update.effective_user.id)
    if composition is None or not composition.text or not composition.audience:
        await query.answer(plain("broadcast.nothing_to_confirm", lang), show_alert=True)
        return
    await query.answer()
    # The progress message is shown before queueing, so the sender's edits always come after.
    audience = audience_label(composition.audience, lang)
    shown = await show(update, View(t("broadcast.queued", lang, audience=audience)))
    target = shown or query.message
    queued = await broadcasts.confirm(
        update.effective_user.id,
        language=lang,
        progress_chat_id=target.chat.id if target else None,
        progress_message_id=target.message_id if target else None,
    )
    if queued is None:  # pressed twice, on two workers at once: the other one sent it
        return
    if queued.recipients == 0:
        report = await broadcasts.report(queued.broadcast_id)
        if report is not None:
            await show(update, View(report_text(report, lang)))


async def cancel(update: Update, context: FocusContext) -> None:
    """Drop the composition (its Cancel button); nothing is sent."""
    if await refuse_unless_admin(update, context) or update.effective_user is None:
        return
    await context.services.broadcasts.discard(update.effective_user.id)
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show(update, View(t("broadcast.cancelled", context.lang)))


async def cancel_composing(update: Update, context: FocusContext) -> None:
    """/cancel from an admin asked for an announcement's text: drop it (and stop there)."""
    user = update.effective_user
    if user is None or not context.services.settings.is_admin(user.id):
        return
    composition = await context.services.broadcasts.composition(user.id)
    if composition is None or not composition.awaiting_text:
        return  # /cancel is then about something else (a speaking-slot request)
    await context.services.broadcasts.discard(user.id)
    await show(update, View(t("broadcast.cancelled", context.lang)))
    await update_log.stop(update, context)


# -- reports, stats, reload --------------------------------------------------------------------


async def broadcasts_command(update: Update, context: FocusContext) -> None:
    """/broadcasts: the recent ones with their reports."""
    if await refuse_unless_admin(update, context):
        return
    reports = await context.services.broadcasts.recent(RECENT_LIMIT)
    await show(update, recent_view(reports, context.lang), edit=False)


async def resend(update: Update, context: FocusContext) -> None:
    """ "Resend to the N that failed" under /broadcasts (admins only, re-checked)."""
    query = update.callback_query
    assert query is not None
    if await refuse_unless_admin(update, context):
        return
    (number,) = Button.fields(context)
    broadcast_id = int(number)
    count = await context.services.broadcasts.resend_failed(broadcast_id)
    lang = context.lang
    if not count:
        await query.answer(plain("broadcast.nothing_to_resend", lang), show_alert=True)
        return
    await query.answer()
    text = t("broadcast.resent", lang, number=broadcast_id, count=count)
    await show(update, View(text), edit=False)


async def stats_command(update: Update, context: FocusContext) -> None:
    """/stats: subscribers, speaking requests, broadcasts."""
    if await refuse_unless_admin(update, context):
        return
    services = context.services
    people = await services.users.subscriber_stats()
    totals = await services.broadcasts.totals()
    requests = await services.requests.counts()
    await show(update, stats_view(people, requests, totals, context.lang), edit=False)


async def reload_command(update: Update, context: FocusContext) -> None:
    """/reload: re-read the content; if it is broken, keep the old and list the problems."""
    if await refuse_unless_admin(update, context):
        return
    try:
        content = await context.services.content_version.reload()
    except ContentInvalid as error:
        await show(update, reload_refused_view(error, context.lang), edit=False)
        return
    await show(update, reloaded_view(content, context.lang), edit=False)


# -- the sender's progress ---------------------------------------------------------------------


def progress_reporter(bot: Bot) -> Progress:
    """Edit the admin's progress message; the final report replaces it."""

    async def report(progress: BroadcastReport) -> None:
        await edit_progress(bot, progress, report_text(progress, progress.language))

    return report
