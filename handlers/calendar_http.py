"""GET /calendar.ics in webhook mode: the whole programme, for calendar apps to subscribe to.

bot/webhook.py wires it with `add_calendar_routes(app, application)`. Any worker answers it
from its content and the sequence numbers in the database. While the date is unknown the
calendar is valid and empty: a subscription made early fills in once the date is announced.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.calendar import calendar_file
from handlers.context import services_of

CALENDAR_PATH = "/calendar.ics"
APPLICATION_KEY: web.AppKey[Any] = web.AppKey("calendar_application")
CACHE_SECONDS = 300  # calendar apps poll; the programme changes rarely


async def calendar_route(request: web.Request) -> web.Response:
    """The programme as text/calendar (English titles: a subscription has no language)."""
    application = request.app[APPLICATION_KEY]
    services = services_of(application)
    content = services.content.content
    try:
        username = application.bot.username
    except RuntimeError:  # the bot was not initialized (get_me never answered)
        username = None
    body = calendar_file(
        content,
        content.sessions,
        "en",
        sequences=await services.agenda.changes.sequences(),
        bot_username=username,
    )
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": 'inline; filename="programme.ics"',
            "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        },
    )


def add_calendar_routes(app: web.Application, application: Application) -> None:  # type: ignore[type-arg]
    """Publish GET /calendar.ics on the webhook server."""
    app[APPLICATION_KEY] = application
    app.router.add_get(CALENDAR_PATH, calendar_route)
