"""Alembic migrations: they build exactly the models, and start-up guards the schema."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import schema
from bot.db import create_engine
from bot.i18n import plain
from bot.models import Base
from bot.schema import (
    SchemaNotReady,
    ensure_schema,
    head_revision,
    migrate,
    read_state,
    schema_differences,
    upgrade,
)
from bot.services import create_services
from bot.settings import Settings

NEXT_REVISION = '''
"""a later change"""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("schema_probe", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("schema_probe")
'''


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def newer_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """This code's migrations plus one more, as a newer version of the bot would ship them."""
    migrations = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__py*"))
    head = head_revision()
    (migrations / "versions" / "9999_later.py").write_text(NEXT_REVISION.format(head=head))
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", migrations)
    return "9999"


async def test_upgrading_an_empty_database_builds_exactly_the_models(engine: AsyncEngine) -> None:
    await upgrade(engine)

    assert await schema_differences(engine) == []
    assert (await read_state(engine)).revision == head_revision()


async def test_every_migration_can_be_undone(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.run_sync(schema._run_command, "downgrade", "base")

    assert (await read_state(engine)).tables == frozenset()
    await upgrade(engine)
    assert await schema_differences(engine) == []


async def test_start_up_migrates_a_brand_new_database(settings: Settings) -> None:
    services = await create_services(settings)
    try:
        state = await read_state(services.engine)
    finally:
        await services.engine.dispose()

    assert state.revision == head_revision()
    assert {table.name for table in Base.metadata.sorted_tables} <= state.tables


async def test_start_up_refuses_a_database_that_is_behind_until_migrated(
    engine: AsyncEngine, database_url: str, settings: Settings, newer_code: str
) -> None:
    async with engine.begin() as connection:  # the schema as the previous version left it
        await connection.run_sync(schema._run_command, "upgrade", "0001")

    with pytest.raises(SchemaNotReady) as refused:
        await create_services(settings)

    assert refused.value.key == "cli.schema_behind"
    assert "python main.py migrate" in plain(refused.value.key, "en", **refused.value.values)
    key, _ = await migrate(database_url)
    assert key == "cli.migrate_done"
    assert (await read_state(engine)).revision == newer_code
    await ensure_schema(engine)  # accepted now


async def test_tables_made_before_migrations_are_adopted_only_if_they_match(
    engine: AsyncEngine, database_url: str
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)

    with pytest.raises(SchemaNotReady) as refused:
        await ensure_schema(engine)
    assert refused.value.key == "cli.schema_unversioned"
    assert "python main.py migrate" in plain(refused.value.key, "en")

    assert (await migrate(database_url))[0] == "cli.migrate_adopted"
    await ensure_schema(engine)
    assert (await migrate(database_url))[0] == "cli.migrate_up_to_date"


async def test_differing_tables_without_history_are_not_touched(
    engine: AsyncEngine, database_url: str
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(text("CREATE TABLE leftover (id INTEGER PRIMARY KEY)"))

    with pytest.raises(SchemaNotReady) as refused:
        await migrate(database_url)

    assert refused.value.key == "cli.migrate_unversioned_differs"
    assert (await read_state(engine)).revision is None


async def test_a_revision_from_a_newer_version_is_refused(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'abcdef'"))

    with pytest.raises(SchemaNotReady) as refused:
        await ensure_schema(engine)

    assert refused.value.key == "cli.schema_unknown"
