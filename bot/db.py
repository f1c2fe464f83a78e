"""Async engine and session factory on DATABASE_URL: SQLAlchemy's and aiosqlite's, as shipped.

SQLite (the default) runs in WAL mode with a busy timeout, so several processes may share the
file: readers never wait, and a writer waits its turn instead of failing. PostgreSQL
(asyncpg) is the production backend for several workers; `pool_pre_ping` replaces a
connection the server dropped (a restart, a fail-over) before a transaction uses it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000
POOL_SIZE = 20  # PostgreSQL connections a worker keeps open (its max_connections: 100)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros, not left in free pages (/forget).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def not_writable(database: Path) -> bool:
    """Whether this process cannot write the SQLite file, or the files next to it (WAL mode
    keeps `-wal` and `-shm` files in the same folder)."""
    if database.exists() and not os.access(database, os.W_OK):
        return True
    return not os.access(database.parent, os.W_OK | os.X_OK)


def create_engine(database_url: str) -> AsyncEngine:
    """An engine for `database_url`; for a SQLite file, its folder is created if needed.

    Raises SchemaNotReady ("cli.database_not_writable") for a SQLite file this process may
    not write: one line saying so, rather than a traceback for every first statement.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        if database != ":memory:":
            path = Path(database)
            with contextlib.suppress(OSError):  # said below: its folder cannot be written
                path.parent.mkdir(parents=True, exist_ok=True)
            if not_writable(path):
                from bot.schema import SchemaNotReady  # bot.schema imports this module

                raise SchemaNotReady("cli.database_not_writable", {"path": str(path.resolve())})
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Every session ends its own transaction (commit or rollback) before it gives its
            # connection back: the pool's extra rollback would be one more round trip.
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_reset_on_return=None,
        # Enough connections for a busy worker (8 updates at once, the webhook's stores, the
        # senders, the heartbeat) to keep them: with SQLAlchemy's 5 + 10 overflow, the
        # overflow ones were closed and opened again all the time (3.5% of a saturated
        # worker's samples in py-spy, 0.7% with these; issue 20).
        pool_size=POOL_SIZE,
        max_overflow=10,
        # asyncpg prepares each statement once per connection: room for all of ours (an IN
        # list of another length is another statement).
        connect_args={"prepared_statement_cache_size": 500},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_for(
    session: AsyncSession | AsyncConnection, table: Any
) -> sqlite.Insert | postgresql.Insert:
    """INSERT with ON CONFLICT (an upsert), in the dialect of the session's database."""
    if isinstance(session, AsyncConnection):
        dialect = session.dialect.name
    else:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    target = table.__table__ if hasattr(table, "__table__") else table
    assert isinstance(target, Table)
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def affected(result: object) -> int:
    """The rows an UPDATE or DELETE changed, for a compare-and-set to read.

    Raises when the result cannot say (not a statement's cursor result, or a driver that
    reports -1): a compare-and-set must fail loudly, never read "0 rows" and quietly lose.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count in a {type(result).__name__}")
    count = result.rowcount
    if not isinstance(count, int) or count < 0:
        raise TypeError(f"the database did not say how many rows changed ({count!r})")
    return count


@contextlib.asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose statements each commit on their own: no BEGIN and COMMIT around them,
    two round trips fewer, for a unit of work that is one statement (a claim, an insert).
    Statements after the first are not atomic with it: use only where each stands alone."""
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
