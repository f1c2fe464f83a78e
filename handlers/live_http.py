"""The room's screen over HTTP, on the bot's aiohttp server (webhook.py, or polling's own):

    GET /live/<session>?key=...             the page (large type, the event's colours)
    GET /live/<session>/questions?key=...   the approved questions by votes, as JSON; the
                                            page asks every second
    GET /live/screen.js, /live/screen.css

The key is the session's own secret (a moderator's "📺 Screen link"); without it, or with
another session's: 403, and nothing about the session. Names of anonymous askers never
leave the server, and forgotten people's questions are gone from the database itself.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import Any, Final

from aiohttp import web

from bot.i18n import LANGUAGES, plain
from bot.live import Board, Question
from handlers.context import SomeApp, services_of
from handlers.webapp_http import APPLICATION_KEY, reply, static_text

PREFIX: Final = "/live"
STRING_KEYS: Final = ("heading", "empty", "closed", "next", "anonymous")


def _question(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "text": question.text,
        "name": question.public_name,
        "votes": question.votes,
    }


def board_json(board: Board) -> dict[str, Any]:
    """What the screen shows: never an author's id, nor the name of an anonymous one."""
    payload: dict[str, Any] = {
        "open": board.room.open,
        "pinned": _question(board.pinned) if board.pinned else None,
        "questions": [_question(q) for q in board.questions],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    payload["version"] = digest[:12]
    return payload


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


async def _board(request: web.Request) -> Board | None:
    services = services_of(request.app[APPLICATION_KEY])
    session_id = request.match_info["session"]
    return await services.live.screen(session_id, request.query.get("key", ""))


def _forbidden(lang: str) -> web.Response:
    body = html.escape(plain("live.screen.forbidden", lang)).encode()
    return reply(body, "text/plain", status=403, cache="no-store")


async def screen_page(request: web.Request) -> web.StreamResponse:
    lang = _lang(request)
    board = await _board(request)
    if board is None:
        return _forbidden(lang)
    services = services_of(request.app[APPLICATION_KEY])
    content = services.content.content
    session = content.session(board.room.session_id)
    assert session is not None
    strings = {key: plain(f"live.screen.{key}", lang) for key in STRING_KEYS}
    page = (
        static_text("live.html")
        .replace("{{LANG}}", lang)
        .replace("{{STRINGS}}", html.escape(json.dumps(strings, ensure_ascii=False)))
        .replace("{{EVENT}}", html.escape(content.event.name))
        .replace("{{TITLE}}", html.escape(session.title.get(lang)))
    )
    return reply(page.encode(), "text/html", cache="no-store")


async def screen_questions(request: web.Request) -> web.StreamResponse:
    board = await _board(request)
    if board is None:
        return _forbidden(_lang(request))
    body = json.dumps(board_json(board), ensure_ascii=False, separators=(",", ":")).encode()
    return reply(body, "application/json", cache="no-store")


def _static(name: str, content_type: str) -> Any:
    body = static_text(name).encode()

    async def serve(request: web.Request) -> web.StreamResponse:
        return reply(body, content_type)

    return serve


def add_live_routes(app: web.Application, application: SomeApp) -> None:
    """The screen's routes on `app` (the Mini App's routes set APPLICATION_KEY too)."""
    app[APPLICATION_KEY] = application
    app.router.add_get(f"{PREFIX}/screen.js", _static("live.js", "text/javascript"))
    app.router.add_get(f"{PREFIX}/screen.css", _static("live.css", "text/css"))
    app.router.add_get(f"{PREFIX}/{{session}}", screen_page)
    app.router.add_get(f"{PREFIX}/{{session}}/questions", screen_questions)
