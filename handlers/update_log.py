"""One log line per update, from two TypeHandlers at the ends of the handler groups.

`received` runs first (the lowest group) and starts the update's record; `handled` runs last
(the highest group) and logs what came in, how long it took and whether a handler failed
(the error handler says so through `failed`):

    bot.updates: update 12 message /start in 3 ms
    bot.updates: update 13 callback_query [prop] in 5 ms (failed: BadRequest)

A handler that ends the update early (`ApplicationHandlerStop`) does it through `stop()`, so
the line is logged all the same. The line names no person and quotes nothing they wrote: a
command's name, a button's kind (its callback data's prefix) or the kind of message.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import NoReturn

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.context import FocusContext

log = logging.getLogger("bot.updates")


@dataclass
class UpdateRecord:
    started: float
    failure: str | None = None


# The update being handled. Its handlers and the error handler are awaited one after the other
# in the task that processes it, so they all see the record `received` set.
_current: ContextVar[UpdateRecord | None] = ContextVar("update_record", default=None)

# The kinds of message content worth naming in the line, in the order they are checked.
MESSAGE_CONTENT = ("text", "photo", "document", "voice", "video", "sticker", "location")


def update_kind(update: object) -> str:
    """The update's kind ("message", "callback_query"...), or the type name of another object."""
    if isinstance(update, Update):
        return next((k for k in Update.ALL_TYPES if getattr(update, k, None)), "update")
    return type(update).__name__


def what_came(update: Update) -> str:
    """A command's name, a button's kind, or the kind of a message's content."""
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return f"[{data.partition(':')[0][:16]}]"
    message = update.effective_message
    if message is None:
        return ""
    text = message.text or ""
    if text.startswith("/"):
        return text.split(maxsplit=1)[0].partition("@")[0][:33]
    return next((kind for kind in MESSAGE_CONTENT if getattr(message, kind, None)), "other")


async def received(update: Update, context: FocusContext) -> None:
    """First of all the handlers: the update's clock starts."""
    _current.set(UpdateRecord(time.perf_counter()))


def failed(error: object) -> None:
    """A handler of the update being handled failed with `error` (from the error handler)."""
    record = _current.get()
    if record is not None and record.failure is None:
        record.failure = type(error).__name__


async def handled(update: Update, context: FocusContext) -> None:
    """Last of all the handlers: the update's line."""
    record = _current.get()
    if record is None:
        return  # not started by `received` (logged already, or not an update of ours)
    _current.set(None)
    elapsed_ms = (time.perf_counter() - record.started) * 1000
    failed = f" (failed: {record.failure})" if record.failure else ""
    log.info(
        "update %s %s %s in %.0f ms%s",
        update.update_id,
        update_kind(update),
        what_came(update),
        elapsed_ms,
        failed,
    )


async def stop(update: object, context: FocusContext) -> NoReturn:
    """End the update here (the later groups are skipped), its line logged first."""
    if isinstance(update, Update):
        await handled(update, context)
    raise ApplicationHandlerStop
