"""The one typed place handlers reach the bot's services through (`context.services`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.agenda import AgendaService
from bot.broadcasts import BroadcastService
from bot.content.store import ContentStore
from bot.content.versions import SharedContent
from bot.leases import worker_name
from bot.privacy import PrivacyService
from bot.proposals import ProposalService
from bot.settings import Settings
from bot.users import UserService

SERVICES_KEY = "services"
BACKGROUND_KEY = "background_tasks"
OUTBOX_KEY = "outbox_sender"


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    content: ContentStore
    content_version: SharedContent
    users: UserService
    broadcasts: BroadcastService
    privacy: PrivacyService
    proposals: ProposalService
    agenda: AgendaService
    # This process among the workers (host:pid:random): what it claims carries this name.
    worker: str = field(default_factory=worker_name)


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


def in_background(
    application: Application,  # type: ignore[type-arg]
    coroutine: Coroutine[Any, Any, Any],
    *,
    update: object,
    name: str,
) -> asyncio.Task[Any]:
    """Work that follows an update but need not hold up the next one (the application's
    error handlers see its failures, and `stop()` waits for it)."""
    task = application.create_task(coroutine, update=update, name=name)
    tasks: set[asyncio.Task[Any]] = application.bot_data.setdefault(BACKGROUND_KEY, set())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def background_done(application: Application) -> None:  # type: ignore[type-arg]
    """Until the work started by `in_background` is finished (tests, the terminal chat)."""
    while tasks := application.bot_data.get(BACKGROUND_KEY):
        await asyncio.gather(*tasks, return_exceptions=True)
    outbox = application.bot_data.get(OUTBOX_KEY)
    if outbox is not None:
        await outbox.idle()  # the notices the update queued


def wake_outbox(application: Application) -> None:  # type: ignore[type-arg]
    """This update queued notices (bot/outbox.py): send them now, not at the next look."""
    sender = application.bot_data.get(OUTBOX_KEY)
    if sender is not None:
        sender.wake()
