"""GET /calendar.ics in webhook mode: the whole programme, for calendar apps to subscribe to.

handlers/webhook.py wires it with `add_calendar_routes(app, application)`. Any worker answers it
from its content and the sequence numbers in the database. While the date is unknown the
calendar is valid and empty: a subscription made early fills in once the date is announced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.calendar import calendar_file
from bot.content import Session
from handlers.context import FocusApp, services_of

CALENDAR_PATH = "/calendar.ics"
APPLICATION_KEY: web.AppKey[Any] = web.AppKey("calendar_application")
CACHE_SECONDS = 300  # calendar apps poll; the programme changes rarely


async def calendar_route(request: web.Request) -> web.Response:
    """The programme as text/calendar (English titles: a subscription has no language)."""
    application = request.app[APPLICATION_KEY]
    sessions = services_of(application).content.content.sessions
    headers = {
        "Content-Disposition": 'inline; filename="programme.ics"',
        "Cache-Control": f"public, max-age={CACHE_SECONDS}",
    }
    return await calendar_response(application, sessions, "en", headers)


async def calendar_response(
    application: FocusApp,
    sessions: Sequence[Session],
    lang: str,
    headers: dict[str, str],
) -> web.Response:
    """`sessions` as a text/calendar file (with their change numbers and the bot's link)."""
    services = services_of(application)
    body = calendar_file(
        services.content.content,
        sessions,
        lang,
        sequences=await services.agenda.changes.sequences(),
        bot_username=bot_username(application),
    )
    return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers=headers)


def bot_username(application: FocusApp) -> str | None:
    """The bot's @username, or None before it was initialized (get_me never answered)."""
    try:
        return application.bot.username
    except RuntimeError:
        return None


def add_calendar_routes(app: web.Application, application: FocusApp) -> None:
    """Publish GET /calendar.ics on the webhook server."""
    app[APPLICATION_KEY] = application
    app.router.add_get(CALENDAR_PATH, calendar_route)
