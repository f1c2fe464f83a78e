"""Webhook mode: a small aiohttp server that feeds Telegram's POSTs to the Application.

Why not python-telegram-bot's own tornado server: load balancers need a health endpoint,
which it has no place for. A verified update is stored in the inbox (bot/inbox.py) before
the 200; this worker's update runner (handlers/updates.py) is woken to process it.

    POST <path of WEBHOOK_URL>   an update; 403 without the right secret token header
    GET  /healthz                200 while the bot is running, 503 otherwise
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from bot.alerts import AlertThrottle
from bot.settings import Settings
from handlers.calendar_http import add_calendar_routes
from handlers.context import FocusApp
from handlers.runtime import Runtime, Site, started
from handlers.updates import ALLOWED_UPDATES, UpdateRunner, stop_on_signals, valid_update
from handlers.webapp_http import add_web_app_routes

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# Telegram's rule for secret_token is 1-256 characters A-Z, a-z, 0-9, _ and -; we also ask
# for 16 at least, so that it can't be guessed.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,256}")
# Seconds an update in flight gets to finish once the server stops accepting new ones.
SHUTDOWN_GRACE = 20.0
APPLICATION_KEY: web.AppKey[FocusApp] = web.AppKey("application")
SECRET_KEY: web.AppKey[str] = web.AppKey("secret", str)
RUNNER_KEY: web.AppKey[UpdateRunner | None] = web.AppKey("runner")
# Repeated refusals (a scanner, a wrong secret after a rotation) are logged at a bounded rate.
REFUSALS_KEY: web.AppKey[AlertThrottle] = web.AppKey("refusals", AlertThrottle)


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


async def read_payload(request: web.Request) -> dict[str, Any] | None:
    """The update in the request body (Telegram's JSON), or None (logged) if it is not one."""
    try:
        payload = loads(await request.read())
    except Exception as exc:  # any malformed body: refused, never a crash
        log.warning("Refused a webhook request that is not JSON: %s", type(exc).__name__)
        return None
    if not valid_update(payload):
        log.warning("Refused a webhook request without an update_id")
        return None
    return payload  # type: ignore[no-any-return]


def loads(body: bytes) -> Any:
    """JSON with orjson (the hot path); what it refuses and JSON allows (a lone surrogate
    escape, an integer beyond 64 bits) is read by the standard library."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


async def receive_update(request: web.Request) -> web.Response:
    """Verify the secret token, store the update, and only then answer 200.

    Telegram takes the 200 as "delivered": once it is sent, the update is a row in the
    inbox, which any worker processes even if this one dies the next moment. A redelivered
    update meets its own row and is dropped.
    """
    secret = request.app[SECRET_KEY]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        if request.app[REFUSALS_KEY].allow("secret"):
            log.warning("Refused a webhook request from %s: wrong secret token", request.remote)
        return web.Response(status=403, text="forbidden")
    runner = request.app[RUNNER_KEY]
    if runner is None or not request.app[APPLICATION_KEY].running:
        # Stopping: 503 tells nginx to pass the update to another worker.
        return web.Response(status=503, text="stopping")
    payload = await read_payload(request)
    if payload is None:
        return web.Response(status=400, text="not an update")
    try:
        await runner.inbox.store([payload])
    except Exception as error:
        log.warning("Could not store update %s: %s", payload["update_id"], error)
        return web.Response(status=503, text="try again")  # Telegram (or nginx) retries
    runner.wake()
    return web.Response(text="ok")


async def health(request: web.Request) -> web.Response:
    """For load balancers and uptime checks: is the bot processing updates?"""
    if request.app[APPLICATION_KEY].running:
        return web.Response(text="ok")
    return web.Response(status=503, text="stopping")


def webhook_app(
    application: FocusApp,
    secret: str,
    path: str,
    runner: UpdateRunner | None = None,
) -> web.Application:
    """The aiohttp app: the update endpoint at `path` and the health endpoint."""
    app = web.Application()
    app[APPLICATION_KEY] = application
    app[SECRET_KEY] = secret
    app[RUNNER_KEY] = runner
    app[REFUSALS_KEY] = AlertThrottle()
    app.router.add_post(path, receive_update)
    app.router.add_get(HEALTH_PATH, health)
    add_calendar_routes(app, application)  # GET /calendar.ics: the programme to subscribe to
    add_web_app_routes(app, application)  # /app/: the Mini App and its JSON API
    return app


async def serve_webhook(application: FocusApp, settings: Settings) -> None:
    """Run until SIGTERM/SIGINT: serve, register the webhook, then stop gracefully (the server
    stops taking requests first; the stored updates are finished by the runner)."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""

    def endpoint(runtime: Runtime) -> web.Application:
        return webhook_app(application, secret, webhook_path(settings), runtime.runner)

    site = Site(endpoint, settings.webhook_listen, settings.webhook_port, SHUTDOWN_GRACE)
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with started(application, updates=True, site=site):
        await application.bot.set_webhook(
            url=settings.webhook_url or "", secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )
        await stop.wait()
        log.info("Stop signal received: finishing the updates in progress")
