"""The Mini App over HTTP: the page and its JSON API under /app/, on the bot's aiohttp server.

    GET  /app/                      the page (plain HTML, CSS, JS from bot/webapp/static/)
    GET  /app/api/programme         the programme in the reader's language; with initData,
                                    also their saved sessions and their /language setting
    GET  /app/api/search?q=...      the answer engine (the same one as the chat)
    PUT  /app/api/saved/<session>   {"saved": true|false}: My agenda (initData required)
    GET  /app/calendar/<id>.ics     a session's calendar file: 404 until the event has a date

initData travels in `Authorization: tma <initData>`. Missing on a call that needs it, or
forged, or older than a day: 401, and the page shows the programme read-only. webhook.py
adds these routes to its server; in polling mode the runtime serves `web_app` on
WEB_APP_PORT (main.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any, Final

from aiohttp import web

from bot.i18n import plain
from bot.visits import known_language
from bot.webapp.api import UnknownSession, WebAppApi, boot_strings
from bot.webapp.auth import InitDataInvalid, WebAppUser
from handlers.calendar_http import calendar_response
from handlers.context import FocusApp, services_of
from handlers.runtime import runtime_of

log = logging.getLogger(__name__)

PREFIX: Final = "/app"
STATIC_FILES: Final = {"app.js": "text/javascript", "app.css": "text/css"}
# Only the page itself and Telegram's script; nothing inline, no other origin.
CSP: Final = (
    "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
AUTH_SCHEME: Final = "tma "
APPLICATION_KEY: web.AppKey[FocusApp] = web.AppKey("webapp_application")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def static_text(name: str) -> str:
    return (files("bot.webapp") / "static" / name).read_text(encoding="utf-8")


def index_html() -> bytes:
    """The page, with what it says when the programme cannot load, in every language."""
    boot = json.dumps(boot_strings(), ensure_ascii=False).replace("<", "\\u003c")
    return static_text("index.html").replace("{{BOOT_STRINGS}}", boot).encode()


def api_of(request: web.Request) -> WebAppApi:
    """The runtime's web API (built with the services and the bot's username)."""
    api = runtime_of(request.app[APPLICATION_KEY]).web_api
    if api is None:
        raise RuntimeError("the web API is made by `started`: is the bot running?")
    return api


def reply(
    body: bytes, content_type: str, *, status: int = 200, cache: str = "no-cache"
) -> web.Response:
    response = web.Response(body=body, status=status, content_type=content_type, charset="utf-8")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = cache
    response.enable_compression()
    return response


def json_reply(payload: Any, *, status: int = 200) -> web.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    # Personal data (saved sessions, language): never kept by a cache in between.
    return reply(body, "application/json", status=status, cache="no-store")


def unauthorized(reason: str) -> web.Response:
    return json_reply({"error": "unauthorized", "reason": reason}, status=401)


def person_of(request: web.Request) -> WebAppUser | None:
    """The checked person, None without initData; InitDataInvalid when it is forged or old."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    if not header.startswith(AUTH_SCHEME):
        raise InitDataInvalid("not a tma authorization")
    return api_of(request).authenticate(header[len(AUTH_SCHEME) :])


def page(body: bytes) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        return reply(body, "text/html")

    return serve


def static(body: bytes, content_type: str) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        return reply(body, content_type)

    return serve


async def to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(f"{PREFIX}/")


async def programme(request: web.Request) -> web.StreamResponse:
    try:
        person = person_of(request)
    except InitDataInvalid as error:
        log.info("Mini App: refused initData (%s)", error)
        return unauthorized(str(error))
    payload = await api_of(request).programme(person, request.query.get("lang"))
    return json_reply(payload)


async def search(request: web.Request) -> web.StreamResponse:
    api = api_of(request)
    return json_reply(await api.search(request.query.get("q", ""), request.query.get("lang")))


async def set_saved(request: web.Request) -> web.StreamResponse:
    try:
        person = person_of(request)
    except InitDataInvalid as error:
        log.info("Mini App: refused initData (%s)", error)
        return unauthorized(str(error))
    if person is None:
        return unauthorized("missing")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("saved"), bool):
        return json_reply({"error": 'expected {"saved": true|false}'}, status=400)
    try:
        payload = await api_of(request).set_saved(
            person, request.match_info["session"], body["saved"]
        )
    except UnknownSession:
        return json_reply({"error": "no such session"}, status=404)
    return json_reply(payload)


async def calendar_file(request: web.Request) -> web.StreamResponse:
    """A session's calendar file, the same as the chat's; 404 (said in words) while the
    event has no date: there is nothing honest to put in a calendar."""
    lang = known_language(request.query.get("lang")) or "en"
    application = request.app[APPLICATION_KEY]
    services = services_of(application)
    content = services.content.content
    session = content.session(request.match_info["session"])
    if session is None or content.event.date is None:
        body = plain("webapp.calendar_unavailable", lang).encode()
        return reply(body, "text/plain", status=404)
    headers = {"Content-Disposition": f'attachment; filename="{session.id}.ics"'}
    return await calendar_response(application, [session], lang, headers)


def add_web_app_routes(app: web.Application, application: FocusApp) -> None:
    """The page and its API under /app/ on `app` (the webhook server, or polling's own)."""
    app[APPLICATION_KEY] = application
    router = app.router
    router.add_get(PREFIX, to_page)
    router.add_get(f"{PREFIX}/", page(index_html()))
    for name, content_type in STATIC_FILES.items():
        router.add_get(f"{PREFIX}/{name}", static(static_text(name).encode(), content_type))
    router.add_get(f"{PREFIX}/api/programme", programme)
    router.add_get(f"{PREFIX}/api/search", search)
    router.add_put(f"{PREFIX}/api/saved/{{session}}", set_saved)
    router.add_get(f"{PREFIX}/calendar/{{session}}.ics", calendar_file)
    from handlers.live_http import add_live_routes  # it builds on this module's helpers

    add_live_routes(app, application)  # /live/<session>: the room's screen


def web_app(application: FocusApp) -> web.Application:
    """Polling mode's own small server: the Mini App alone (webhook mode adds its routes to
    the webhook's server)."""
    app = web.Application()
    add_web_app_routes(app, application)
    return app
