"""build_application: the ONE place that shows the whole bot, every handler in order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.content.store import ContentStore
from bot.db import create_engine, session_factory
from bot.i18n import LANGUAGES, plain
from bot.models import Base
from bot.services import SERVICES_KEY, FocusContext, Services, services_of
from bot.settings import Settings
from bot.users import UserService
from handlers import ask, browse, callbacks, start
from handlers.common import ADDRESSED_TO_BOT, track_user
from handlers.errors import on_error

log = logging.getLogger(__name__)

COMMANDS = ("start", "menu", "programme", "partners", "language", "help")


async def create_services(settings: Settings) -> Services:
    """Engine, content and index, created once at start-up (raises ContentInvalid)."""
    content = ContentStore(settings.content_dir)
    engine = create_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = session_factory(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        content=content,
        users=UserService(sessions),
    )


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu in each language; the bot runs anyway if Telegram refuses."""
    try:
        for lang in LANGUAGES:
            commands = [BotCommand(name, plain(f"command.{name}", lang)) for name in COMMANDS]
            await application.bot.set_my_commands(
                commands, language_code=None if lang == "en" else lang
            )
    except TelegramError as exc:
        log.warning("Could not register the command menu: %s", exc)


async def post_init(application: Application) -> None:  # type: ignore[type-arg]
    settings: Settings = application.bot_data["settings"]
    if SERVICES_KEY not in application.bot_data:
        application.bot_data[SERVICES_KEY] = await create_services(settings)
    await register_commands(application)


async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    services = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.engine.dispose()


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    token: str | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, with every handler registered here in the order it is tried."""
    builder = (
        ApplicationBuilder()
        .token(token or (settings.bot_token.get_secret_value() if settings.bot_token else ""))
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .context_types(ContextTypes(context=FocusContext))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data["settings"] = settings

    # Group -1 runs before everything: who is this and which language do they speak?
    application.add_handler(TypeHandler(Update, track_user), group=-1)

    # Order matters: commands, then buttons by pattern, then free text, then leftovers.
    application.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("menu", start.menu),
            CommandHandler("help", start.help_command),
            CommandHandler("language", start.language_menu),
            CommandHandler("programme", browse.programme),
            CommandHandler("program", browse.programme),
            CommandHandler("partners", browse.organizations),
            CallbackQueryHandler(start.menu, pattern=f"^{callbacks.MENU}$"),
            CallbackQueryHandler(start.language_menu, pattern=f"^{callbacks.LANGUAGES}$"),
            CallbackQueryHandler(start.choose_language, pattern=callbacks.LANGUAGE_PATTERN),
            CallbackQueryHandler(browse.programme, pattern=callbacks.PROGRAMME_PATTERN),
            CallbackQueryHandler(browse.side_events, pattern=callbacks.SIDE_EVENTS_PATTERN),
            CallbackQueryHandler(browse.organizations, pattern=callbacks.ORGANIZATIONS_PATTERN),
            CallbackQueryHandler(browse.session_card, pattern=callbacks.SESSION_PATTERN),
            CallbackQueryHandler(browse.organization_card, pattern=callbacks.ORGANIZATION_PATTERN),
            CallbackQueryHandler(ask.ask_prompt, pattern=f"^{callbacks.ASK}$"),
            CallbackQueryHandler(ask.chosen_answer, pattern=callbacks.ANSWER_PATTERN),
            MessageHandler(filters.TEXT & ~filters.COMMAND & ADDRESSED_TO_BOT, ask.question),
            MessageHandler(
                filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.COMMAND
                & ~filters.StatusUpdate.ALL,
                ask.not_text,
            ),
            # Anything else pressed: a stale or forged button.
            CallbackQueryHandler(browse.expired),
        ]
    )
    application.add_error_handler(on_error)
    return application


@asynccontextmanager
async def running(application: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Initialize, start and later stop the application without a network updater.

    What `run_polling` does around its loop, for the terminal chat and the tests, which feed
    updates to `process_update` themselves.
    """
    async with application:
        await post_init(application)
        await application.start()
        try:
            yield application
        finally:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    await post_shutdown(application)


__all__ = ["build_application", "create_services", "running", "services_of"]
