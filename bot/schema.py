"""The database schema through Alembic: check at start-up, upgrade with `python main.py migrate`.

Start-up policy (create_services):
- schema at the newest revision: start;
- brand-new empty database (no table at all): upgrade it right away, so a newcomer's
  `python main.py chat` works with zero steps; nothing exists that could be damaged;
- anything else (behind, unversioned tables, a revision this code does not know): refuse, and
  say which command to run. A production upgrade is a deliberate step, taken after a backup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_engine
from bot.models import Base
from bot.models.base import UtcDateTime

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "alembic_version"


@dataclass
class SchemaNotReady(Exception):
    """The database cannot be used as it is; `key` is the catalog message saying what to do."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # the database's revision (None: no version table)
    tables: frozenset[str]  # the bot's tables present, the version table aside


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Migrations spell UtcDateTime as a plain timezone-aware DateTime: they must not import
    application code, which changes after the migration is written."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def migration_options(dialect_name: str) -> dict[str, Any]:
    """The options every migration context gets (env.py and the schema comparison)."""
    return {
        "target_metadata": Base.metadata,
        # SQLite can't ALTER most things: batch mode recreates the table instead.
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "render_item": render_item,
    }


def alembic_config() -> Config:
    """Alembic's configuration, without an ini file (the URL comes with the connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return script_directory().get_current_head()


def _read_state(connection: Connection) -> SchemaState:
    revision = MigrationContext.configure(connection).get_current_revision()
    tables = frozenset(inspect(connection).get_table_names()) - {VERSION_TABLE}
    return SchemaState(revision, tables)


async def read_state(engine: AsyncEngine) -> SchemaState:
    async with engine.connect() as connection:
        return await connection.run_sync(_read_state)


def _run_command(connection: Connection, name: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    from alembic import command  # imported when upgrading only: it is slow to import

    getattr(command, name)(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Run the migrations up to `revision`, in one transaction where the backend allows."""
    async with engine.begin() as connection:
        await connection.run_sync(_run_command, "upgrade", revision)


async def stamp(engine: AsyncEngine, revision: str = "head") -> None:
    """Record `revision` without running anything (tables made before migrations existed)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run_command, "stamp", revision)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts=migration_options(connection.dialect.name)
    )
    from alembic.autogenerate import compare_metadata  # slow to import, rarely needed

    return list(compare_metadata(context, Base.metadata))


async def schema_differences(engine: AsyncEngine) -> list[Any]:
    """What differs between the database and the models (empty when they match)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_differences)


def _known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:  # alembic raises for a revision it has never heard of
        return False


async def ensure_schema(engine: AsyncEngine) -> None:
    """At start-up: upgrade a brand-new empty database; refuse one that is not at head."""
    state = await read_state(engine)
    head = head_revision()
    if state.revision == head:
        return
    if state.revision is None and not state.tables:
        log.info("Empty database: creating the schema (revision %s)", head)
        await upgrade(engine)
        return
    if state.revision is None:
        raise SchemaNotReady("cli.schema_unversioned")
    if not _known(state.revision):
        raise SchemaNotReady("cli.schema_unknown", {"revision": state.revision})
    raise SchemaNotReady("cli.schema_behind", {"revision": state.revision, "head": head})


async def migrate(database_url: str) -> tuple[str, dict[str, object]]:
    """`python main.py migrate`: bring the database to head; the message key to print."""
    engine = create_engine(database_url)
    try:
        state = await read_state(engine)
        head = head_revision()
        if state.revision == head:
            return "cli.migrate_up_to_date", {"head": head}
        if state.revision is None and state.tables:
            # Made by an early version with create_all: adopt it only if it matches exactly.
            differences = await schema_differences(engine)
            if differences:
                count: dict[str, object] = {"count": len(differences)}
                raise SchemaNotReady("cli.migrate_unversioned_differs", count)
            await stamp(engine)
            return "cli.migrate_adopted", {"head": head}
        if state.revision is not None and not _known(state.revision):
            raise SchemaNotReady("cli.schema_unknown", {"revision": state.revision})
        await upgrade(engine)
        if state.revision is None:  # an empty database: there was nothing to upgrade from
            return "cli.migrate_created", {"head": head}
        return "cli.migrate_done", {"revision": state.revision, "head": head}
    finally:
        await engine.dispose()
