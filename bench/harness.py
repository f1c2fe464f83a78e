"""What the benchmarks share: settings, the databases (a temporary SQLite file, the
PostgreSQL of BENCH_POSTGRES_URL), an error counter."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from bot.services import create_services
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
QUESTIONS_PATH = ROOT / "tests" / "data" / "questions.yaml"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TOKEN = "123456:bench-token"  # never leaves the process: every request is answered locally
ADMIN_ID = 900
ORGANIZER_ID = 800
ORGANIZER_CHAT_ID = -100500


def sqlite_url(directory: Path, name: str = "bench.sqlite3") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


# A PostgreSQL database the benchmarks may empty (every table is dropped before each run).
POSTGRES_ENV = "BENCH_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _drop_every_table(connection: Connection) -> None:
    everything = MetaData()
    everything.reflect(connection)
    everything.drop_all(connection)


async def reset_postgres(url: str) -> None:
    """An empty database: every table dropped (the bot makes its schema at start-up)."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_drop_every_table)
    await engine.dispose()


def bench_settings(database_url: str, **overrides: object) -> Settings:
    """The bot's settings as the tests use them, on the given database."""
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(CONTENT_DIR),
        "ADMIN_IDS": str(ADMIN_ID),
        "ORGANIZER_IDS": str(ORGANIZER_ID),
        "ORGANIZER_CHAT_ID": ORGANIZER_CHAT_ID,
        "BOT_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def create_schema(database_url: str) -> None:
    """The bot's tables on a new database, made the way the bot makes them at start-up."""
    services = await create_services(bench_settings(database_url))
    await services.engine.dispose()


class ErrorCounter(logging.Handler):
    """Counts ERROR records while a benchmark runs: a fast bot that fails is not fast."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()[:200]

    def __enter__(self) -> ErrorCounter:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)


def quiet_logging() -> None:
    """Errors still reach ErrorCounter; nothing is printed over the table."""
    root = logging.getLogger()
    root.handlers = [logging.NullHandler()]
    root.setLevel(logging.WARNING)
