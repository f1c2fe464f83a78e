"""`python main.py chat` tries the bot on a database of its own, never the bot's."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.bot_process import BotProcess


async def test_the_terminal_chat_never_touches_the_bots_database(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    bots_database = Path(bot_env["DATABASE_URL"].split("///", 1)[1])
    chat = BotProcess(bot_env, tmp_path, "chat")
    await chat.start()  # its standard input is empty: it starts, then leaves at once
    assert await chat.run_to_end() == 0, chat.output()
    assert not exists(bots_database)
    assert exists(tmp_path / "data" / "chat.sqlite3")


def exists(path: Path) -> bool:
    return path.exists()
