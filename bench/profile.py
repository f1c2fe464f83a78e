"""Where one worker's time goes: the update benchmark's mix under cProfile, by package.

    python -m bench.profile                 # SQLite
    python -m bench.profile postgresql      # the database of BENCH_POSTGRES_URL (emptied)
    python -m bench.profile sqlite --top 40 --save /tmp/sqlite.prof
    python -m bench.profile postgresql --split   # wall time per phase, no cProfile

`--split` times, without cProfile's overhead, how much of each update's wall time is spent
waiting on the database (every AsyncSession call: SQLAlchemy, the driver, the driver's
thread or the server) and in the two reads every update makes before its handler (the
content version, the person's row); and what one trivial read costs through each layer.

Otherwise it prints the run's updates/s (cProfile slows everything down by ~1.5-2x: compare
shares, not absolute figures), the self time by package (python-telegram-bot, SQLAlchemy, the
database driver, asyncio, our code...), and the functions with the most self and cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import pstats
import tempfile
import time
from collections import defaultdict
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from telegram.ext import Application

from bench.harness import postgres_url, quiet_logging, reset_postgres, sqlite_url
from bench.updates import run_ours
from bot.content.versions import SharedContent
from bot.db import create_engine, session_factory
from bot.models import ContentVersion
from bot.users import UserService

# (label, path fragment): the first fragment found in a function's file names its package.
PACKAGES = (
    ("python-telegram-bot", "/telegram/"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("aiosqlite", "/aiosqlite/"),
    ("asyncpg", "/asyncpg/"),
    ("greenlet", "greenlet"),
    ("asyncio", "/asyncio/"),
    ("bot/ (ours)", "/bot/"),
    ("handlers/ (ours)", "/handlers/"),
    ("bench/ (the harness)", "/bench/"),
    ("json", "/json/"),
    ("logging", "/logging/"),
    ("rapidfuzz", "rapidfuzz"),
    ("yaml", "yaml"),
)


def package_of(filename: str) -> str:
    for label, fragment in PACKAGES:
        if fragment in filename:
            return label
    if filename.startswith("~") or filename == "<built-in>":
        return "built-ins (C: sqlite3, sockets, dicts...)"
    return "other"


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[package_of(filename)] += tottime
    return sorted(totals.items(), key=lambda item: -item[1])


async def profiled(backend: str, users: int, per_user: int) -> tuple[cProfile.Profile, str]:
    profile = cProfile.Profile()
    if backend == "postgresql":
        url = postgres_url()
        if url is None:
            raise SystemExit("set BENCH_POSTGRES_URL to a PostgreSQL database it may empty")
        await reset_postgres(url)
        profile.enable()
        timings, _ = await run_ours(url, users, per_user)
        profile.disable()
    else:
        with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
            profile.enable()
            timings, _ = await run_ours(sqlite_url(Path(tmp)), users, per_user)
            profile.disable()
    summary = (
        f"{backend}: {len(timings.latencies):,} updates, {timings.per_second:,.0f} updates/s "
        f"under cProfile, mean {timings.wall / len(timings.latencies) * 1000:.2f} ms"
    )
    return profile, summary


IN_UPDATE: ContextVar[bool] = ContextVar("in_update", default=False)


class Stopwatch:
    """Wall time spent inside some coroutines, outermost call only (calls nest), counted only
    within `process_update` (the broadcast sender's polling, a task of its own, is not)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._depth: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        """Start counting now (after the warm-up)."""
        self.seconds.clear()
        self.calls.clear()

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)
        watch = self

        @functools.wraps(original)
        async def timed(*args: object, **kwargs: object) -> object:
            if watch._depth[label] or not IN_UPDATE.get():
                return await original(*args, **kwargs)
            watch._depth[label] += 1
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                watch.seconds[label] += time.perf_counter() - started
                watch.calls[label] += 1
                watch._depth[label] -= 1

        setattr(owner, name, timed)


class SessionBlocks:
    """Wall time inside `async with sessions()` / `sessions.begin()` blocks, from entering
    the outermost to leaving it: checkout, BEGIN, the statements, COMMIT or ROLLBACK, the
    close (SQLAlchemy closes in a task of its own) and the little Python in the block."""

    LABEL = "inside database sessions (async with ...)"

    def __init__(self, watch: Stopwatch) -> None:
        self.watch = watch
        self.open = 0
        self.since = 0.0

    def install(self) -> None:
        from sqlalchemy.ext.asyncio.session import AsyncSession, _AsyncSessionContextManager

        for owner in (AsyncSession, _AsyncSessionContextManager):
            enter, leave = owner.__aenter__, owner.__aexit__
            owner.__aenter__ = self._enter(enter)  # type: ignore[method-assign]
            owner.__aexit__ = self._leave(leave)  # type: ignore[method-assign]

    def _enter(self, original: Any) -> Any:
        async def enter(obj: object) -> object:
            if IN_UPDATE.get():
                if self.open == 0:
                    self.since = time.perf_counter()
                self.open += 1
            return await original(obj)

        return enter

    def _leave(self, original: Any) -> Any:
        async def leave(obj: object, *exc: object) -> object:
            try:
                return await original(obj, *exc)
            finally:
                if IN_UPDATE.get() and self.open:
                    self.open -= 1
                    if self.open == 0:
                        self.watch.seconds[self.LABEL] += time.perf_counter() - self.since
                        self.watch.calls[self.LABEL] += 1

        return leave


def watch_database(watch: Stopwatch) -> None:
    """Every AsyncSession/AsyncConnection call runs its sync work through greenlet_spawn."""
    original = Application.process_update

    async def process_update(self: Application, update: object) -> None:
        token = IN_UPDATE.set(True)
        try:
            await original(self, update)
        finally:
            IN_UPDATE.reset(token)

    Application.process_update = process_update  # type: ignore[method-assign]
    import sqlalchemy.ext.asyncio.engine as async_engine
    import sqlalchemy.ext.asyncio.result as async_result
    import sqlalchemy.ext.asyncio.session as async_session

    for module in (async_session, async_engine, async_result):
        if hasattr(module, "greenlet_spawn"):
            watch.wrap(module, "greenlet_spawn", "of which in SQLAlchemy's sync code and driver")
    SessionBlocks(watch).install()
    watch.wrap(SharedContent, "follow", "content version read (follow)")
    watch.wrap(UserService, "contact", "person's row read (contact)")


async def trivial_reads(url: str, count: int = 1000) -> dict[str, float]:
    """Mean ms of one read of the content version, through each layer, one after the other."""
    engine = create_engine(url)
    out: dict[str, float] = {}
    try:
        sessions = session_factory(engine)
        query = select(ContentVersion.version).where(ContentVersion.id == 1)

        async def through_session() -> None:
            async with sessions() as session:
                await session.scalar(query)

        plain = create_async_engine(url)  # as create_engine, without pool_pre_ping
        plain_sessions = session_factory(plain)

        async def without_ping() -> None:
            async with plain_sessions() as session:
                await session.scalar(query)

        calls = [("AsyncSession: open, SELECT, close", through_session)]
        if url.startswith("postgresql"):
            calls.append(("AsyncSession, engine without pool_pre_ping", without_ping))
        for label, call in calls:
            for _ in range(50):
                await call()
            started = time.perf_counter()
            for _ in range(count):
                await call()
            out[label] = (time.perf_counter() - started) / count * 1000
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            if url.startswith("postgresql"):

                async def bare() -> None:
                    await driver.fetchval("SELECT version FROM content_version WHERE id = 1")

            else:

                async def bare() -> None:
                    cursor = await driver.execute(
                        "SELECT version FROM content_version WHERE id = 1"
                    )
                    await cursor.fetchone()
                    await cursor.close()

            for _ in range(50):
                await bare()
            started = time.perf_counter()
            for _ in range(count):
                await bare()
            out["the driver alone (asyncpg / aiosqlite), one SELECT"] = (
                (time.perf_counter() - started) / count * 1000
            )
        await plain.dispose()
    finally:
        await engine.dispose()
    return out


async def server_transactions(url: str) -> tuple[int, int]:
    """PostgreSQL's own count of this database's commits and rollbacks so far."""
    await asyncio.sleep(1.2)  # the server publishes its counters about once a second
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT xact_commit, xact_rollback FROM pg_stat_database "
                        "WHERE datname = current_database()"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return int(row[0]), int(row[1])


async def split(backend: str, users: int, per_user: int) -> None:
    watch = Stopwatch()
    watch_database(watch)
    if backend == "postgresql":
        url = postgres_url()
        if url is None:
            raise SystemExit("set BENCH_POSTGRES_URL to a PostgreSQL database it may empty")
        await reset_postgres(url)
        before: list[tuple[int, int]] = []

        async def warmed() -> None:
            before.append(await server_transactions(url))
            watch.reset()

        timings, _ = await run_ours(url, users, per_user, after_warmup=warmed)
        commits, rollbacks = (
            a - b for a, b in zip(await server_transactions(url), before[0], strict=True)
        )
        reads = await trivial_reads(url)
    else:
        with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
            url = sqlite_url(Path(tmp))

            async def warm() -> None:
                watch.reset()

            timings, _ = await run_ours(url, users, per_user, after_warmup=warm)
            reads = await trivial_reads(url)
    count = len(timings.latencies)
    busy = sum(timings.latencies)
    print(
        f"{backend}: {count:,} updates, {timings.per_second:,.0f} updates/s, "
        f"mean {busy / count * 1000:.2f} ms per update"
    )
    if backend == "postgresql":
        print(
            f"PostgreSQL's count of transactions per update: {commits / count:.1f} committed, "
            f"{rollbacks / count:.1f} rolled back (pool_pre_ping's: BEGIN, ';', ROLLBACK)"
        )
    print("\nWall time per update, by what it was waiting on (mean over the run, ms):")
    for label, seconds in sorted(watch.seconds.items(), key=lambda item: -item[1]):
        calls = watch.calls[label]
        print(f"  {label:45s} {seconds / count * 1000:6.2f} ms  ({calls / count:.1f} calls)")
    print("\nOne read of the content version, one after the other (mean, ms):")
    for label, value in reads.items():
        print(f"  {label:50s} {value:6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("backend", nargs="?", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--split", action="store_true", help="wall time per phase instead")
    parser.add_argument("--save", help="also write the raw profile here (for snakeviz etc.)")
    args = parser.parse_args()
    quiet_logging()
    if args.split:
        asyncio.run(split(args.backend, args.users, args.per_user))
        return
    profile, summary = asyncio.run(profiled(args.backend, args.users, args.per_user))
    stats = pstats.Stats(profile)
    if args.save:
        stats.dump_stats(args.save)
    total = sum(t for _, t in by_package(stats))
    print(summary)
    print(f"\nSelf time by package ({total:.2f} s profiled, includes start-up and warm-up):")
    for label, seconds in by_package(stats):
        print(f"  {label:45s} {seconds:7.2f} s  {seconds / total:6.1%}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
