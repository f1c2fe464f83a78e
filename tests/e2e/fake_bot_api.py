"""A Bot API stand-in served over real HTTP on loopback, for end-to-end tests.

The method semantics are `LocalBotApi`'s (message ids, edits, errors like Telegram's); this
module adds the HTTP layer python-telegram-bot talks to: `POST /bot<token>/<method>` with a
form, JSON or multipart body, and `getUpdates` long polling from a queue the test fills.
`HttpChat` is `LocalChat` over that queue: the same `send`/`press`, but the update travels
through the bot's own polling (or is posted to its webhook by the test).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devtools.local_api import ApiError, Call, LocalBotApi, LocalChat

JSON = dict[str, Any]
# Parameters python-telegram-bot sends JSON-encoded inside a form; every other one stays text
# (a message text that happens to look like JSON must not be decoded).
JSON_PARAMETERS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "scope",
    "media",
    "menu_button",
}
CONFLICT = {
    "ok": False,
    "error_code": 409,
    "description": "Conflict: terminated by other getUpdates request; make sure that only one "
    "bot instance is running",
}
LONG_POLL_CAP = 2.0  # seconds: a getUpdates never hangs longer, so shutdowns stay quick
WAIT_TIMEOUT = 15.0
SETTLE = 0.3
POLL_INTERVAL = 0.05


class FakeBotApiServer:
    """LocalBotApi behind an aiohttp server on 127.0.0.1, for one bot token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.api = LocalBotApi()
        self.updates: list[JSON] = []
        self.confirmed = 0  # the highest update_id the bot has acknowledged
        self.get_updates_calls = 0
        self._changed = asyncio.Event()
        self._holds: dict[str, asyncio.Event] = {}
        self.held = 0  # requests that reached a held method
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.closing = False
        # Set by the test to tell when the bot has finished handling an update (its log line).
        self.handled: Callable[[int], bool] | None = None
        # Telegram's answer to a second poller on the same token.
        self.conflict = False
        # Messages per second the bot may send, like Telegram's ~30; beyond: 429 retry_after.
        self.message_rate: int | None = None
        self.refused_for_flood = 0
        self._sent_at: list[float] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self.closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    def push(self, update: JSON) -> None:
        """Queue an update for the bot's next getUpdates."""
        self.updates.append(update)
        self._notify()

    def hold(self, method: str) -> None:
        """Answer no `method` call until `release()`: the bot is caught mid-update."""
        self._holds[method] = asyncio.Event()

    def release(self) -> None:
        for gate in self._holds.values():
            gate.set()
        self._holds.clear()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _serve(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await read_parameters(request)
        if method.lower() == "getupdates":
            if self.conflict:
                self.get_updates_calls += 1
                return web.json_response(CONFLICT, status=409)
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        if method == "sendMessage" and self._over_the_rate():
            self.refused_for_flood += 1
            return web.json_response(ApiError(429, "Too Many Requests", 1).payload(), status=429)
        gate = self._holds.get(method)
        if gate is not None:
            self.held += 1
            self._notify()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.wait(), WAIT_TIMEOUT)
        try:
            result = self.api.handle(method, params, files)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.code)
        finally:
            self._notify()
        return web.json_response({"ok": True, "result": result})

    def _over_the_rate(self) -> bool:
        """Whether one more message now would pass `message_rate` in the last second."""
        if self.message_rate is None:
            return False
        now = time.monotonic()
        self._sent_at = [at for at in self._sent_at if now - at < 1.0]
        if len(self._sent_at) >= self.message_rate:
            return True
        self._sent_at.append(now)
        return False

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Telegram's semantics: `offset` acknowledges every update before it."""
        self.get_updates_calls += 1
        self._notify()
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset - 1)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        deadline = time.monotonic() + timeout
        while True:
            pending = [u for u in self.updates if u["update_id"] > self.confirmed]
            remaining = deadline - time.monotonic()
            if pending or remaining <= 0 or self.closing:
                return pending
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_for(
        self, predicate: Callable[[], object], what: str, limit: float = WAIT_TIMEOUT
    ) -> None:
        """Wait until `predicate()` is true; fail with `what` after `limit` seconds."""
        deadline = time.monotonic() + limit
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, POLL_INTERVAL))

    async def settle(self, quiet: float = SETTLE, limit: float = 5.0) -> None:
        """Wait until the bot has made no call for `quiet` seconds (it finished replying)."""
        deadline = time.monotonic() + limit
        count = -1
        while count != len(self.api.calls) and time.monotonic() < deadline:
            count = len(self.api.calls)
            await asyncio.sleep(quiet)


async def read_parameters(request: web.Request) -> tuple[JSON, dict[str, bytes]]:
    """The method's parameters and uploaded files, whatever the body's encoding."""
    params: JSON = dict(request.query)
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
        return params, files
    if request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = value.file.read()
            else:
                params[name] = value
    for name in JSON_PARAMETERS & params.keys():
        if isinstance(params[name], str):
            params[name] = json.loads(params[name])
    return params, files


@dataclass
class HttpChat(LocalChat):
    """A person whose updates reach the bot over HTTP through the fake server."""

    server: FakeBotApiServer | None = None

    def _concerns(self, call: Call) -> bool:
        return call.chat_id == self.chat["id"] or call.method == "answerCallbackQuery"

    async def feed(self, payload: JSON) -> list[Call]:
        """Queue the update; return the calls the bot made while handling it."""
        server = self.server
        assert server is not None
        before, update_id = len(self.api.calls), self.api.next_update_id()
        server.push({"update_id": update_id, **payload})
        if server.handled is not None:
            handled = server.handled
            await server.wait_for(lambda: handled(update_id), f"the bot to handle {payload}")
        else:  # no way to know when it is done: until it answered and went quiet
            await server.wait_for(
                lambda: any(self._concerns(c) for c in self.api.calls[before:]),
                f"the bot to answer {payload}",
            )
            await server.settle()
        return self.api.calls[before:]

    def update(self, text: str) -> JSON:
        """A message update (with a fresh update_id) as Telegram would post it to a webhook."""
        return {"update_id": self.api.next_update_id(), "message": self._message(text=text)}
