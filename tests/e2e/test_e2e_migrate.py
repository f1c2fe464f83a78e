"""`python main.py migrate`, and the bot refusing a database it would have to guess about."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.bot_process import BotProcess
from tests.e2e.conftest import Launch, person
from tests.e2e.fake_bot_api import FakeBotApiServer


async def run(env: dict[str, str], workdir: Path, *args: str) -> tuple[int, str]:
    """Run a `main.py` command that exits by itself: its exit code and output."""
    command = BotProcess(env, workdir, *args)
    await command.start()
    code = await command.run_to_end()
    return code, command.output()


async def test_migrate_then_start(
    launch: Launch, fake_api: FakeBotApiServer, bot_env: dict[str, str], tmp_path: Path
) -> None:
    code, output = await run(bot_env, tmp_path / "migrate", "migrate")
    assert code == 0 and "Created the database schema at revision" in output
    code, output = await run(bot_env, tmp_path / "again", "migrate")
    assert code == 0 and "already at the newest revision" in output

    await launch()
    greeting = await person(fake_api).send("/start")
    assert any("Welcome" in call.text for call in greeting)


async def test_the_bot_refuses_a_database_without_migration_history(
    fake_api: FakeBotApiServer, bot_env: dict[str, str], tmp_path: Path
) -> None:
    database = bot_env["DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")

    code, output = await run(bot_env, tmp_path, "run")

    assert code == 2
    assert "python main.py migrate" in output.strip().splitlines()[-1]
    assert fake_api.get_updates_calls == 0, "it never started answering"
