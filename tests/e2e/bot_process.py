"""`python main.py` as a separate process, the way a server runs it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """One run of `python main.py <args>`; its output goes to a log file in `workdir`."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        self.env = env
        self.workdir = workdir
        self.args = args
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = workdir / "bot.log"

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Appending: a restart's output follows the first run's in the same file.
        log_file = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(MAIN),
                *self.args,
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            log_file.close()

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def has_handled(self, update_id: int) -> bool:
        """Whether the bot logged its line for this update (it logs once handling is over)."""
        return re.search(rf"bot\.updates: update {update_id} ", self.output()) is not None

    async def terminate(self, limit: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then the exit code (killed, failing the test, after `limit` seconds)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), limit)
        except TimeoutError:
            await self.kill()
            raise AssertionError(f"the bot ignored SIGTERM for {limit:.0f} s") from None

    async def kill(self) -> None:
        """Teardown: whatever state the process is in, it is gone afterwards."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.kill()
        await asyncio.wait_for(self.process.wait(), 10)

    async def run_to_end(self, limit: float = START_TIMEOUT) -> int:
        """For commands that exit by themselves: their exit code."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), limit)
        except TimeoutError:
            await self.kill()
            raise AssertionError(f"`main.py {' '.join(self.args)}` did not exit") from None


def bot_environment(**values: str) -> dict[str, str]:
    """A clean environment: only what the bot needs, so a developer's own settings can't leak."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env
