"""The database goes away and comes back: a kind "one moment", nothing half-written, recovery.

A TCP relay on loopback stands between the bot and PostgreSQL; the test cuts it (every
connection dropped, new ones refused) and restores it, as a database restart or fail-over
does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

from devtools.local_api import LocalBotApi, LocalChat, LocalRequest, sent_texts
from handlers.app import build_application
from handlers.runtime import running
from tests.conftest import make_settings, reset_postgres

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (TEST_POSTGRES_URL)")


class Relay:
    """Forwards loopback connections to the database; `cut()` drops and refuses them."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.up = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._links |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._links.discard(writer)
            writer.close()

    def cut(self) -> None:
        self.up = False
        for writer in list(self._links):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._links.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    assert POSTGRES_URL is not None
    await reset_postgres(POSTGRES_URL)
    url = make_url(POSTGRES_URL)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    yield relay
    await relay.close()


async def test_an_outage_gets_one_moment_please_and_the_bot_recovers(relay: Relay) -> None:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=relay.port)
    settings = make_settings(url.render_as_string(hide_password=False))
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = LocalChat(app, api, user_id=7)
        await chat.send("/propose")
        await chat.send("Ana Pérez")

        relay.cut()
        calls = await chat.send("Ajuntament de Vic")
        texts = sent_texts([c for c in calls if c.chat_id == 7])
        assert len(texts) == 1 and "One moment, please" in texts[0]

        relay.restore()
        draft = await app.bot_data.services.drafts.draft_of(7)
        assert draft is not None and draft.step == "organization"  # nothing half-written
        calls = await chat.send("Ajuntament de Vic")
        assert "sector" in " ".join(sent_texts(calls))
        calls = await chat.send("/help")
        assert "What I can do" in sent_texts(calls)[0]
