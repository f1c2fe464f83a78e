"""The one typed place handlers reach the bot's services through (`context.services`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.broadcasts import BroadcastService
from bot.content.store import ContentStore
from bot.privacy import PrivacyService
from bot.proposals import ProposalService
from bot.settings import Settings
from bot.users import UserService

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    content: ContentStore
    users: UserService
    broadcasts: BroadcastService
    privacy: PrivacyService
    proposals: ProposalService


class FocusContext(CallbackContext[ExtBot[None], dict, dict, dict]):  # type: ignore[type-arg]
    """CallbackContext with typed access to the services created in `post_init`."""

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def lang(self) -> str:
        """The language of the person behind this update (set by the tracking handler)."""
        data = self.user_data
        return str(data.get("lang", "en")) if data is not None else "en"


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    services = application.bot_data.get(SERVICES_KEY)
    if services is None:
        raise RuntimeError("services are created in post_init: is the application initialized?")
    return services  # type: ignore[no-any-return]
