"""The worker's runtime: everything one process runs, typed, built and torn down in one place.

    async with started(application, updates=True, site=...) as runtime:   polling, webhook
    async with running(application) as app:                                 terminal chat, tests

python-telegram-bot keeps the `Runtime` as `application.bot_data` (ContextTypes(bot_data=
Runtime)): a handler reads `context.bot_data.services`, `context.bot_data.clock`, never a
string key. Start-up, in order: the services (engine, content, index), the heartbeat, the
command menu, My agenda's plan, the Mini App's menu button, the two senders; then the
Application, the update runner and the web server. Shutdown is the same list backwards: the
web server stops taking requests, the runner finishes the updates in hand, the senders stop
between two sends, the heartbeat frees what this worker held, the engine is disposed.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from aiohttp import web
from telegram import BotCommand, MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import Application, ExtBot

from bot.alerts import AlertThrottle
from bot.broadcast_sender import BroadcastSender
from bot.i18n import LANGUAGES, plain
from bot.leases import Heartbeat
from bot.models.base import utcnow
from bot.services import Services, create_services
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.webapp.api import WebAppApi
    from handlers.context import FocusContext
    from handlers.live import LiveClock
    from handlers.outbox_sender import OutboxSender
    from handlers.updates import UpdateRunner

log = logging.getLogger(__name__)

# The Application this bot builds: its context is FocusContext, its bot_data the Runtime.
FocusApp: TypeAlias = (
    "Application[ExtBot[Any], FocusContext, dict[Any, Any], dict[Any, Any], Runtime, Any]"
)
WallClock = Callable[[], dt.datetime]

COMMANDS = (
    "start",
    "menu",
    "programme",
    "partners",
    "propose",
    "myproposals",
    "cancel",
    "language",
    "help",
    "privacy",
    "agenda",
    "now",
    "settings",
)


@dataclass(frozen=True)
class Site:
    """A web server the runtime serves while it runs: its aiohttp app, made once the runtime
    is started (the webhook's endpoint needs the runner), and where it listens."""

    make: Callable[[Runtime], web.Application]
    host: str
    port: int
    shutdown_timeout: float = 60.0


@dataclass
class Runtime:
    """What one worker runs. python-telegram-bot creates it empty (`application.bot_data`);
    `build_application` fills in the settings and the clock, `started` the rest."""

    settings: Settings | None = None
    # The wall clock ("now"): /now, reminders and scheduled sends all read this one. Tests
    # give their own to build_application(clock=...).
    clock: WallClock = utcnow
    # Options tests give the broadcast sender (idle_poll, progress_interval, lease_ttl).
    sender_options: dict[str, Any] = field(default_factory=dict)
    application: Any = None  # FocusApp, set by build_application
    _services: Services | None = None
    heartbeat: Heartbeat | None = None
    broadcast_sender: BroadcastSender | None = None
    outbox_sender: OutboxSender | None = None
    live_clock: LiveClock | None = None  # feedback asked when a session ends (handlers/live.py)
    runner: UpdateRunner | None = None
    web_server: web.AppRunner | None = None
    web_api: WebAppApi | None = None  # the Mini App's API, made with the services
    # Errors alerted to the admins, at most once a minute per kind (handlers/errors.py).
    error_alerts: AlertThrottle = field(default_factory=AlertThrottle)
    conflict_reported: bool = False  # Telegram's 409 is said once (handlers/errors.py)

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the services are created by `started`: is the bot running?")
        return self._services

    @property
    def has_services(self) -> bool:
        return self._services is not None

    # -- start-up and shutdown ----------------------------------------------------------------

    async def open_services(self) -> None:
        assert self.settings is not None, "build_application sets the settings"
        self._services = await create_services(self.settings)
        # One clock for every reader of "now": the reminders' planning and the live questions'
        # opening and closing follow it too.
        self._services.agenda.reminders.now = self.clock
        self._services.live.now = self.clock
        self.open_web_api()

    def open_web_api(self) -> None:
        """The Mini App's API, with the running bot's @username (known once the Application
        is initialized: get_me) for the sessions' "Ask the panel" deep links."""
        from bot.webapp.api import WebAppApi

        services, bot = self.services, self.application.bot
        self.web_api = WebAppApi(
            services.content_version,
            services.users,
            services.agenda,
            bot.token,
            bot_username=bot.username,
        )

    async def start_background(self) -> None:
        """The heartbeat, what start-up tells Telegram, My agenda's plan, the senders."""
        from handlers import organize

        services, settings = self.services, self.services.settings
        self.heartbeat = Heartbeat(services.sessions, services.worker)
        await self.heartbeat.start()
        if warning := organize.organizer_chat_warning(settings):
            log.warning(warning)
        await self.register_commands()
        await self.plan_agenda()
        await self.set_menu_button()
        self.start_broadcast_sender()
        self.start_outbox_sender()
        self.start_live_clock()
        # What start-up built (content, index, libraries) lives as long as the bot: out of the
        # garbage collector's sight, a full collection no longer walks it (about 0.1 s of pause
        # that would otherwise fall on some unlucky update now and then).
        gc.freeze()

    async def stop_background(self) -> None:
        """Stop the senders between two sends, while the bot can still mark what it sent;
        then the heartbeat (what this worker still holds is free for the others at once)."""
        await self.stop_live_clock()
        await self.stop_broadcast_sender()
        await self.stop_outbox_sender()
        if self.heartbeat is not None:
            heartbeat, self.heartbeat = self.heartbeat, None
            await heartbeat.stop()

    async def close_services(self) -> None:
        self.web_api = None
        if self._services is not None:
            services, self._services = self._services, None
            await services.engine.dispose()

    async def register_commands(self) -> None:
        """The command menu in each language; the bot runs anyway if Telegram refuses."""
        try:
            for lang in LANGUAGES:
                commands = [BotCommand(name, plain(f"command.{name}", lang)) for name in COMMANDS]
                await self.application.bot.set_my_commands(
                    commands, language_code=None if lang == "en" else lang
                )
        except TelegramError as exc:
            log.warning("Could not register the command menu: %s", exc)

    async def plan_agenda(self) -> None:
        """My agenda at start-up: note a programme changed while the bot was down (its notices
        wait for an admin's /reload), and make the reminder rows match it. Idempotent: every
        worker may do it; a failure is logged and the bot starts anyway."""
        services = self.services
        try:
            await services.agenda.changes.record(services.content.content)
            await services.agenda.reminders.sync(services.content.content)
        except Exception:
            log.exception("Could not plan reminders at start-up; /reload tries again")

    async def set_menu_button(self) -> None:
        """The Mini App (the programme page) from the chat's menu button, when it has an URL."""
        url = self.services.settings.web_app_url
        if not url:
            return
        try:
            await self.application.bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(plain("webapp.menu_button", "en"), WebAppInfo(url))
            )
        except TelegramError as exc:
            log.warning("Could not set the Mini App menu button: %s", exc)

    def start_broadcast_sender(self) -> None:
        """The durable broadcast queue is drained by its own asyncio task, never by a handler."""
        from handlers import admin, agenda
        from handlers.transport import telegram_send

        services, bot = self.services, self.application.bot
        options: dict[str, Any] = {"now": self.clock, **self.sender_options}
        sender = BroadcastSender(
            services.sessions,
            telegram_send(bot),
            rate=services.settings.broadcast_rate,
            progress=agenda.progress_reporter(bot, admin.progress_reporter(bot)),
            **options,
        )
        services.broadcasts.on_queued = sender.wake
        self.broadcast_sender = sender
        sender.start()

    async def stop_broadcast_sender(self) -> None:
        if self.broadcast_sender is not None:
            sender, self.broadcast_sender = self.broadcast_sender, None
            await sender.stop()

    def start_outbox_sender(self) -> None:
        """The notices of the outbox (handlers/outbox_sender.py), sent by their own task."""
        from handlers.outbox_sender import outbox_sender

        if self.outbox_sender is None:
            self.outbox_sender = outbox_sender(self.application)
            self.outbox_sender.start()

    async def stop_outbox_sender(self) -> None:
        from handlers.outbox_sender import unhook_kept_replies

        if self.outbox_sender is not None:
            outbox, self.outbox_sender = self.outbox_sender, None
            unhook_kept_replies(self.application)
            await outbox.stop()

    def start_live_clock(self) -> None:
        from handlers.live import LiveClock

        if self.live_clock is None:
            self.live_clock = LiveClock(self.application)
            self.live_clock.start()

    async def stop_live_clock(self) -> None:
        if self.live_clock is not None:
            clock, self.live_clock = self.live_clock, None
            await clock.stop()

    async def start_runner(self) -> None:
        from handlers.updates import UpdateRunner

        self.runner = UpdateRunner(self.application)
        await self.runner.start()

    async def stop_runner(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.stop()

    async def serve(self, site: Site) -> None:
        runner = web.AppRunner(
            site.make(self), access_log=None, shutdown_timeout=site.shutdown_timeout
        )
        await runner.setup()
        self.web_server = runner
        await web.TCPSite(runner, site.host, site.port).start()
        log.info("Web server listening on %s:%s", site.host, site.port)

    async def stop_serving(self) -> None:
        """Stop taking requests first; what was stored is finished by the runner."""
        if self.web_server is not None:
            runner, self.web_server = self.web_server, None
            await runner.cleanup()


def runtime_of(application: Application) -> Runtime:  # type: ignore[type-arg]
    runtime = application.bot_data
    if not isinstance(runtime, Runtime):
        raise RuntimeError("not an application of build_application: no runtime")
    return runtime


@asynccontextmanager
async def started(
    application: Application,  # type: ignore[type-arg]
    *,
    updates: bool = False,
    site: Site | None = None,
) -> AsyncIterator[Runtime]:
    """THE start-up and shutdown of a worker, for polling, webhook, the terminal chat and the
    tests: the services and background tasks, the Application, and with `updates` the runner
    that processes the inbox, with `site` a web server; all stopped in reverse order."""
    runtime = runtime_of(application)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(application)  # initialize ... shutdown
        stack.push_async_callback(runtime.close_services)
        await runtime.open_services()
        stack.push_async_callback(runtime.stop_background)
        await runtime.start_background()
        await application.start()
        stack.push_async_callback(application.stop)
        if updates:
            stack.push_async_callback(runtime.stop_runner)
            await runtime.start_runner()
        if site is not None:
            stack.push_async_callback(runtime.stop_serving)
            await runtime.serve(site)
        yield runtime


@asynccontextmanager
async def running(application: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot started without a network updater, for the terminal chat and the tests, which
    feed updates to `process_update` themselves."""
    async with started(application) as runtime:
        yield runtime.application


__all__ = ["FocusApp", "Runtime", "Site", "running", "runtime_of", "started"]
