"""The one error handler: log with traceback, apologize to the person, alert admins sparingly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter, TimedOut

from bot.backoff import database_down
from bot.i18n import normalize_language, plain, t
from handlers import update_log
from handlers.context import FocusContext, services_of

log = logging.getLogger(__name__)


def stop_on_conflict(context: FocusContext) -> None:
    """Telegram's 409: another process polls with this token. Say it once, and stop."""
    application = context.application
    if not context.bot_data.conflict_reported:
        context.bot_data.conflict_reported = True
        log.error(plain("cli.polling_conflict", "en"))
        application.stop_running()


async def apologize(update: Update, context: FocusContext, key: str) -> None:
    """A kind word in the person's language (the update's own, if it was read)."""
    assert update.effective_chat is not None
    user = update.effective_user
    lang = context.person_language or normalize_language(user.language_code if user else None)
    try:
        await update.effective_chat.send_message(t(key, lang))
    except Exception:  # the chat may be unreachable: the log has the error already
        log.warning("Could not apologize to chat %s", update.effective_chat.id)


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
    update_log.failed(error)
    if isinstance(error, Conflict):
        stop_on_conflict(context)
        return
    # BadRequest and Forbidden subclass NetworkError: only a real connection problem is quiet.
    # A flood wait is Telegram pacing us (every send waits and retries it): never an error.
    if type(error) is NetworkError or isinstance(error, (TimedOut, RetryAfter)):
        log.warning("Telegram network problem: %s", error)
        return
    outage = database_down(error)
    if outage:
        log.warning("Database unreachable while handling %s: %s", describe(update), error)
    else:
        log.error("Error while handling %s", describe(update), exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        await apologize(update, context, "error.busy" if outage else "error.generic")
    await alert_admins(context, update)
    if isinstance(update, Update):
        # One apology per update: the update's other handlers would meet the same problem.
        await update_log.stop(update, context)


async def alert_admins(context: FocusContext, update: object) -> None:
    """Tell the admins, at most once in a while per kind of error."""
    error = context.error
    throttle = context.bot_data.error_alerts
    kind = type(error).__name__
    if not throttle.allow(kind):
        return
    settings = services_of(context.application).settings
    text = t(
        "error.admin_alert", "en", kind=kind, update=describe(update), summary=str(error)[:300]
    )
    for admin_id in settings.admin_ids:
        try:
            await context.bot.send_message(admin_id, text)
        except Exception:
            log.warning("Could not alert admin %s", admin_id)
