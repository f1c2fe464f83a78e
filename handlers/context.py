"""What a handler reaches through its context: the services (`context.services`), the person's
language read with them and "now" (`context.now()`, the runtime's one clock); the rest of the
worker's runtime is `context.bot_data` (handlers/runtime.py: typed attributes, no string keys).
Plus `FocusApp`, the type of the bot's Application."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.services import Services
from handlers.runtime import Runtime, runtime_of

# The bot as the application makes it: its rate limiter (handlers/transport.py) takes a dict of
# arguments per request (`rate_limit_args=BACKGROUND`).
FocusBot: TypeAlias = ExtBot[dict[str, Any]]


class FocusContext(CallbackContext[FocusBot, dict[Any, Any], dict[Any, Any], Runtime]):
    """CallbackContext with typed access to the services the runtime started.

    One context is made per update (python-telegram-bot shares it between the update's
    handlers), so what is set on it lives exactly as long as the update: the person's
    language, read from the database by the first handler.
    """

    person_language: str | None = None
    # Whether the person has a speaking-slot draft, as read with them (None: not read).
    has_draft: bool | None = None

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def lang(self) -> str:
        """The language of the person behind this update (read by the tracking handler)."""
        return self.person_language or "en"

    def now(self) -> dt.datetime:
        """The time "now and next" is read at: the runtime's clock (tests give their own to
        build_application(clock=...))."""
        return self.bot_data.clock()


# The bot's Application, as build_application makes it (handlers/app.py): python-telegram-bot's
# Application is generic in its bot, context, data and job queue types; said once here (its
# bot_data is the Runtime; the job queue's type is the builder's default: the bot has no job
# queue).
FocusApp: TypeAlias = Application[
    FocusBot,
    FocusContext,
    dict[Any, Any],
    dict[Any, Any],
    Runtime,
    JobQueue[CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]],
]


# What the helpers below accept: the bot's Application, also as a handler's
# `context.application` (which python-telegram-bot types without the context's own type).
SomeApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


def services_of(application: SomeApp) -> Services:
    return runtime_of(application).services


async def background_done(application: SomeApp) -> None:
    """Until the notices queued by the updates so far are sent (tests, the terminal chat)."""
    outbox = runtime_of(application).outbox_sender
    if outbox is not None:
        await outbox.idle()


def wake_outbox(application: SomeApp) -> None:
    """This update queued notices (bot/outbox.py): send them now, not at the next look."""
    sender = runtime_of(application).outbox_sender
    if sender is not None:
        sender.wake()
