"""What a handler reaches through its context: the services (`context.services`), and the
person's language read with them; plus the few application-wide keys of bot_data."""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services

SERVICES_KEY = "services"
OUTBOX_KEY = "outbox_sender"


class FocusContext(CallbackContext[ExtBot[None], dict, dict, dict]):  # type: ignore[type-arg]
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


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    services = application.bot_data.get(SERVICES_KEY)
    if services is None:
        raise RuntimeError("services are created in post_init: is the application initialized?")
    return services  # type: ignore[no-any-return]


async def background_done(application: Application) -> None:  # type: ignore[type-arg]
    """Until the notices queued by the updates so far are sent (tests, the terminal chat)."""
    outbox = application.bot_data.get(OUTBOX_KEY)
    if outbox is not None:
        await outbox.idle()


def wake_outbox(application: Application) -> None:  # type: ignore[type-arg]
    """This update queued notices (bot/outbox.py): send them now, not at the next look."""
    sender = application.bot_data.get(OUTBOX_KEY)
    if sender is not None:
        sender.wake()
