"""What a handler reaches through its context: the services (`context.services`), and the
person's language read with them; the rest of the worker's runtime is `context.bot_data`
(handlers/runtime.py: typed attributes, no string keys)."""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services
from handlers.runtime import Runtime, runtime_of


class FocusContext(CallbackContext[ExtBot[None], dict, dict, Runtime]):  # type: ignore[type-arg]
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


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    return runtime_of(application).services


async def background_done(application: Application) -> None:  # type: ignore[type-arg]
    """Until the notices queued by the updates so far are sent (tests, the terminal chat)."""
    outbox = runtime_of(application).outbox_sender
    if outbox is not None:
        await outbox.idle()


def wake_outbox(application: Application) -> None:  # type: ignore[type-arg]
    """This update queued notices (bot/outbox.py): send them now, not at the next look."""
    sender = runtime_of(application).outbox_sender
    if sender is not None:
        sender.wake()
