"""The one error handler: log with traceback, apologize to the person, alert admins sparingly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TimedOut

from bot.alerts import AlertThrottle
from bot.i18n import t
from bot.services import FocusContext, services_of

log = logging.getLogger(__name__)
THROTTLE_KEY = "alert_throttle"


def describe(update: object) -> str:
    if isinstance(update, Update):
        kind = next(
            (k for k in ("message", "callback_query", "edited_message") if getattr(update, k)),
            "update",
        )
        return f"update {update.update_id} ({kind})"
    return type(update).__name__


async def on_error(update: object, context: FocusContext) -> None:
    """Never let one update's failure go unnoticed or take the bot down."""
    error = context.error
    # BadRequest and Forbidden subclass NetworkError: only a real connection problem is quiet.
    if type(error) is NetworkError or isinstance(error, TimedOut):
        log.warning("Telegram network problem: %s", error)
        return
    log.error("Error while handling %s", describe(update), exc_info=error)
    lang = "en"
    if isinstance(update, Update) and update.effective_chat is not None:
        if context.user_data is not None:
            lang = str(context.user_data.get("lang", "en"))
        try:
            await update.effective_chat.send_message(t("error.generic", lang))
        except Exception:  # the chat may be unreachable: the log has the error already
            log.warning("Could not apologize to chat %s", update.effective_chat.id)
    throttle = context.application.bot_data.setdefault(THROTTLE_KEY, AlertThrottle())
    kind = type(error).__name__
    if not throttle.allow(kind):
        return
    settings = services_of(context.application).settings
    text = t(
        "error.admin_alert", "en", kind=kind, update=describe(update), summary=str(error)[:300]
    )
    for admin_id in settings.admin_ids:
        try:
            await context.bot.send_message(admin_id, text, parse_mode=ParseMode.HTML)
        except Exception:
            log.warning("Could not alert admin %s", admin_id)
