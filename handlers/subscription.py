"""Everyone: /stop and /subscribe (and the "🔔 Updates" menu entry), /privacy, /forget."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType

from bot.i18n import plain, t
from bot.privacy import retention
from handlers.callbacks import Button
from handlers.common import show
from handlers.context import FocusContext, wake_outbox
from handlers.views import View, forget_confirm_view, forgotten_view, updates_view

log = logging.getLogger(__name__)


async def updates_menu(update: Update, context: FocusContext) -> None:
    """The "🔔 Updates" menu entry."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if update.effective_user is None:
        return
    subscribed = await context.services.users.is_subscribed(update.effective_user.id)
    await show(update, updates_view(subscribed, context.lang))


async def set_subscription(update: Update, context: FocusContext, subscribed: bool) -> None:
    """Store the choice and confirm it (in place when it came from a button)."""
    user = update.effective_user
    if user is None:
        return
    await context.services.users.set_subscribed(user.id, subscribed)
    lang = context.lang
    key = "subscription.started" if subscribed else "subscription.stopped"
    if update.callback_query is not None:
        await update.callback_query.answer(plain(key, lang))
        await show(update, updates_view(subscribed, lang))
    else:
        await show(update, View(t(key, lang)), edit=False)


async def stop(update: Update, context: FocusContext) -> None:
    """/stop: no more broadcasts."""
    await set_subscription(update, context, False)


async def subscribe(update: Update, context: FocusContext) -> None:
    """/subscribe: broadcasts again."""
    await set_subscription(update, context, True)


async def toggle(update: Update, context: FocusContext) -> None:
    """The button under the updates view: sub:on / sub:off (only ever about the presser)."""
    (choice,) = Button.fields(context)
    await set_subscription(update, context, choice == "on")


async def privacy(update: Update, context: FocusContext) -> None:
    """/privacy: what is stored, why, for how long, and how to have it deleted."""
    lang = context.lang
    promise = retention(context.services.content.content, lang)
    await show(update, View(t("privacy.text", lang, retention=promise)), edit=False)


def in_private_chat(update: Update) -> bool:
    chat, user = update.effective_chat, update.effective_user
    return chat is not None and user is not None and chat.type == ChatType.PRIVATE


async def forget(update: Update, context: FocusContext) -> None:
    """/forget: ask for confirmation first."""
    lang = context.lang
    if not in_private_chat(update):
        await show(update, View(t("forget.private_only", lang)), edit=False)
        return
    await show(update, forget_confirm_view(lang), edit=False)


async def forget_answer(update: Update, context: FocusContext) -> None:
    """The confirmation button: delete everything about the person who pressed it."""
    query = update.callback_query
    assert query is not None
    (choice,) = Button.fields(context)
    lang = context.lang
    user = update.effective_user
    # Only in the person's own private chat: never someone else's button in a group.
    if user is None or not in_private_chat(update):
        await query.answer(plain("forget.private_only", lang), show_alert=True)
        return
    await query.answer()
    if choice == "no":
        await show(update, View(t("forget.kept", lang)))
        return
    withdrawn = await context.services.privacy.forget_everything(user.id)
    # Their in-memory conversation state goes too.
    if context.user_data is not None:
        context.user_data.clear()
    if context.chat_data is not None:
        context.chat_data.clear()
    # The organizers are told only where there is a group to tell them in.
    told = context.services.settings.organizer_chat_id is not None
    await show(update, forgotten_view(withdrawn, lang, told=told))
    # Queued with the erasure: the organizers learn which requests were withdrawn, and every
    # card of theirs, posted or still on its way, shows them anonymized.
    wake_outbox(context.application)
