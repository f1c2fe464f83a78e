"""Webhook mode: a small aiohttp server that feeds Telegram's POSTs to the Application.

Why not python-telegram-bot's own tornado server: load balancers need a health endpoint,
which it has no place for. The flow is PTB's all the same: a verified update goes onto
`application.update_queue`, and the Application processes it like a polled one.

    POST <path of WEBHOOK_URL>   an update; 403 without the right secret token header
    GET  /healthz                200 while the bot is running, 503 otherwise
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import signal
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Telegram's rule for secret_token is 1-256 characters A-Z, a-z, 0-9, _ and -; we also ask
# for 16 at least, so that it can't be guessed.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,256}")
# Seconds an update in flight gets to finish once the server stops accepting new ones.
SHUTDOWN_GRACE = 20.0
APPLICATION_KEY: web.AppKey[Application] = web.AppKey("application")  # type: ignore[type-arg]
SECRET_KEY: web.AppKey[str] = web.AppKey("secret", str)


def webhook_problem(settings: Settings) -> str | None:
    """The catalog key of what keeps webhook mode from starting, or None when it can start."""
    if not settings.webhook_url or not settings.webhook_url.strip():
        return "cli.webhook_no_url"
    if urlsplit(settings.webhook_url).scheme != "https":
        return "cli.webhook_not_https"
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        return "cli.webhook_no_secret"
    if not SECRET_PATTERN.fullmatch(secret):
        return "cli.webhook_bad_secret"
    return None


def webhook_path(settings: Settings) -> str:
    """The local path Telegram's POSTs arrive at: the path of WEBHOOK_URL (a proxy keeps it)."""
    return urlsplit(settings.webhook_url or "").path or "/"


async def read_update(request: web.Request, application: Application) -> Update | None:  # type: ignore[type-arg]
    """The update in the request body, or None (logged) if the body is not one."""
    try:
        payload = await request.json()
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            raise ValueError("no update_id")
        return Update.de_json(payload, application.bot)
    except Exception as exc:  # any malformed body: refused, never a crash
        log.warning("Refused a webhook request that is not an update: %s", type(exc).__name__)
        return None


async def receive_update(request: web.Request) -> web.Response:
    """Verify the secret token, then queue the update for the Application."""
    secret = request.app[SECRET_KEY]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("Refused a webhook request from %s: wrong secret token", request.remote)
        return web.Response(status=403, text="forbidden")
    application = request.app[APPLICATION_KEY]
    if not application.running:
        # Stopping: 503 tells nginx to pass the update to another worker.
        return web.Response(status=503, text="stopping")
    update = await read_update(request, application)
    if update is None:
        return web.Response(status=400, text="not an update")
    await application.update_queue.put(update)
    return web.Response(text="ok")


async def health(request: web.Request) -> web.Response:
    """For load balancers and uptime checks: is the bot processing updates?"""
    if request.app[APPLICATION_KEY].running:
        return web.Response(text="ok")
    return web.Response(status=503, text="stopping")


def webhook_app(application: Application, secret: str, path: str) -> web.Application:  # type: ignore[type-arg]
    """The aiohttp app: the update endpoint at `path` and the health endpoint."""
    app = web.Application()
    app[APPLICATION_KEY] = application
    app[SECRET_KEY] = secret
    app.router.add_post(path, receive_update)
    app.router.add_get(HEALTH_PATH, health)
    return app


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (systemd, docker) and SIGINT (Ctrl+C) ask for a graceful stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def serve_webhook(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Run until SIGTERM/SIGINT: register the webhook, serve, then stop gracefully."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    stop = asyncio.Event()
    stop_on_signals(stop)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.bot.set_webhook(
            url=settings.webhook_url or "", secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )
        await application.start()
        runner = web.AppRunner(
            webhook_app(application, secret, webhook_path(settings)),
            access_log=None,
            shutdown_timeout=SHUTDOWN_GRACE,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
            log.info(
                "Webhook server listening on %s:%s", settings.webhook_listen, settings.webhook_port
            )
            await stop.wait()
            log.info("Stop signal received: finishing the updates in progress")
        finally:
            # Stop accepting requests first; then the queued updates are processed by stop().
            await runner.cleanup()
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
