"""A SQLite file the bot may not write: one line saying so, and an exit code, at start-up.

Run as root, the process drops to `nobody` (root may write any file, so a read-only file
would not be read-only for it): as a deployment's service user would meet it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import create_engine
from bot.schema import upgrade
from tests.e2e.fake_bot_api import FakeBotApiServer

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder `nobody` may reach (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="focusbot-readonly-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_service_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop to another user")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


async def test_a_read_only_database_file_is_one_line_and_exit_code_2(
    fake_api: FakeBotApiServer, bot_env: dict[str, str], folder: Path
) -> None:
    database = folder / "bot.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await upgrade(engine)  # a bot that ran before, with the schema of this version
    await engine.dispose()
    database.chmod(0o444)
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)  # the folder is theirs: only the file is read-only
    env = {**bot_env, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", "HOME": str(folder)}
    process = await asyncio.create_subprocess_exec(
        *as_service_user([sys.executable, str(ROOT / "main.py"), "run"]),
        env=env,
        cwd=str(folder),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = [line for line in output.decode().splitlines() if line.strip()]
    assert process.returncode == 2
    assert "Traceback" not in output.decode()
    (line,) = [line for line in lines if "bot.sqlite3" in line]
    assert "is not writable" in line
    assert len([line for line in lines if "WARNING" in line or "ERROR" in line]) == 0, lines
