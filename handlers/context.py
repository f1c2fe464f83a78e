"""What a handler reaches through its context: the services (`context.services`), and the
person's language read with them; plus the few application-wide keys of bot_data, and
`FocusApp`, the type of the bot's Application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.models.base import utcnow
from bot.services import Services

SERVICES_KEY = "services"
OUTBOX_KEY = "outbox_sender"
# How "now" is read: the real clock, or a test's (set on bot_data by tests).
CLOCK_KEY: Final = "agenda_clock"


# The bot as the application makes it: its rate limiter (handlers/transport.py) takes a dict of
# arguments per request (`rate_limit_args=BACKGROUND`).
FocusBot: TypeAlias = ExtBot[dict[str, Any]]


class FocusContext(CallbackContext[FocusBot, dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the services created in `post_init`.

    One context is made per update (python-telegram-bot shares it between the update's
    handlers), so what is set on it lives exactly as long as the update: the person's
    language, read from the database by the first handler.
    """

    person_language: str | None = None
    # Whether the person has a speaking-slot draft, as read with them (None: not read).
    has_draft: bool | None = None

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def lang(self) -> str:
        """The language of the person behind this update (read by the tracking handler)."""
        return self.person_language or "en"

    def now(self) -> dt.datetime:
        """The time "now and next" is read at: the real clock, or the one tests set."""
        clock: Callable[[], dt.datetime] | None = self.application.bot_data.get(CLOCK_KEY)
        return clock() if clock is not None else utcnow()


# The bot's Application, as build_application makes it (handlers/app.py): python-telegram-bot's
# Application is generic in its bot, context, data and job queue types; said once here (the
# job queue's type is the builder's default: the bot has no job queue).
FocusApp: TypeAlias = Application[
    FocusBot,
    FocusContext,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]],
]


# What the helpers below accept: the bot's Application, also as a handler's
# `context.application` (which python-telegram-bot types without the context's own type).
SomeApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


def services_of(application: SomeApp) -> Services:
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    if services is None:
        raise RuntimeError("services are created in post_init: is the application initialized?")
    return services


async def background_done(application: SomeApp) -> None:
    """Until the notices queued by the updates so far are sent (tests, the terminal chat)."""
    outbox = application.bot_data.get(OUTBOX_KEY)
    if outbox is not None:
        await outbox.idle()


def wake_outbox(application: SomeApp) -> None:
    """This update queued notices (bot/outbox.py): send them now, not at the next look."""
    sender = application.bot_data.get(OUTBOX_KEY)
    if sender is not None:
        sender.wake()
