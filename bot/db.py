"""Async engine and session factory on DATABASE_URL (SQLite in WAL mode by default).

SQLite statements run in the event loop's own thread. aiosqlite hands every call (execute,
fetch, commit...) to a worker thread and wakes the loop when it is done: about 0.2 ms per
call on a small machine, so 1-3 ms per transaction, while the statements themselves take
microseconds in WAL mode (a commit does not wait for the disk). `_InlineConnection` keeps
aiosqlite's connection, which SQLAlchemy's aiosqlite dialect expects, but runs each call at
once. The cost: a statement that waits for a lock held by another process (busy_timeout)
holds up the loop meanwhile; one bot process per SQLite file avoids it, and production
runs on PostgreSQL (asyncpg), which is asynchronous end to end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


T = TypeVar("T")


class _InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run at once in the caller's thread.

    aiosqlite's worker thread still opens and closes the sqlite3 connection; everything in
    between (cursor, execute, fetch, commit, rollback) goes through `_execute`, run here.
    """

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _inline_sqlite(database: str) -> Callable[[], _InlineConnection]:
    connector = partial(
        sqlite3.connect,
        database,
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        # Opened by aiosqlite's thread, then used from the loop's thread (one at a time).
        check_same_thread=False,
    )

    def connect() -> _InlineConnection:
        connection = _InlineConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: never holds up the exit
        return connection

    return connect


def create_engine(database_url: str) -> AsyncEngine:
    """An engine for `database_url`; for a SQLite file, its folder is created if needed."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, async_creator=_inline_sqlite(database))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


class FocusSession(AsyncSession):
    """An AsyncSession whose `async with` closes it directly.

    SQLAlchemy runs the close of `async with session` (and the commit and close of
    `async with sessionmaker.begin()`) in a task of its own, shielded from cancellation: two
    extra tasks and several turns of the event loop per transaction, about a third of the
    cost of a small one. The bot cancels handlers only when it shuts down, after which the
    engine is disposed of anyway, so the shield buys nothing here.
    """

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()


class FocusSessionMaker(async_sessionmaker[AsyncSession]):
    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        """A session in a transaction: committed at the end, rolled back on an error."""
        async with self() as session, session.begin():
            yield session


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return FocusSessionMaker(engine, class_=FocusSession, expire_on_commit=False)
