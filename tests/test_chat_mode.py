"""The terminal chat: the same Application, driven from typed lines."""

from __future__ import annotations

import io
import time
from pathlib import Path

from bot.settings import Settings
from devtools.chat import run_chat
from tests.conftest import make_settings


async def test_script_walks_menus_and_questions(settings: Settings) -> None:
    script = io.StringIO(
        "\n".join(
            [
                "3",  # the menu's third button: Partners
                "1",  # the first partner
                "hwawei employees",  # a typo'd question
                "99",  # a button that does not exist
                "what is the weather",  # nothing to say
                "/quit",
                "never read",
            ]
        )
        + "\n"
    )
    out = io.StringIO()
    await run_chat(settings, stdin=script, out=out)
    text = out.getvalue()
    assert "terminal chat" in text and "[1] 🗓 Programme" in text
    assert "Partners" in text and "Founded in 1987" in text
    assert "207,000" in text
    assert "There is no button 99" in text
    assert "don't have an answer" in text
    assert "<b>" not in text  # HTML is rendered for the terminal
    assert text.rstrip().endswith("Bye!")
    assert "never read" not in text


class ScriptedInput(io.StringIO):
    """Typed lines; a line can wait until the terminal shows some text (read in a thread)."""

    def __init__(self, out: io.StringIO, script: list[tuple[str, str | None]]) -> None:
        super().__init__()
        self.out, self.script = out, list(script)

    def readline(self, size: int | None = -1) -> str:
        if not self.script:
            return ""
        line, wait_for = self.script.pop(0)
        deadline = time.monotonic() + 20
        while wait_for and wait_for not in self.out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        return line + "\n"

    def isatty(self) -> bool:
        return False


async def test_broadcasts_and_their_progress_are_printed(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, ADMIN_IDS="1", ORGANIZER_IDS="1")
    out = io.StringIO()
    script = ScriptedInput(
        out,
        [
            ("/broadcast Doors open at nine", None),
            ("1", "Who should receive it"),  # All subscribers
            ("1", "Send to"),  # confirm
            ("/quit", "finished in"),  # the report the progress message is edited into
        ],
    )
    await run_chat(settings, stdin=script, out=out, downloads=tmp_path)
    text = out.getvalue()
    # The announcement as the subscriber (user 1) receives it, then the final report.
    assert text.count("Doors open at nine") >= 2
    assert "Delivered: 1" in text
    assert text.rstrip().endswith("Bye!")


async def test_export_saves_a_csv_with_a_new_name_each_time(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, ADMIN_IDS="1", ORGANIZER_IDS="1")
    out = io.StringIO()
    script = ScriptedInput(out, [("/export", None), ("/export", None), ("/quit", None)])
    downloads = tmp_path / "downloads"
    await run_chat(settings, stdin=script, out=out, downloads=downloads)
    saved = sorted(downloads.iterdir())
    assert len(saved) == 2, out.getvalue()
    assert all(path.suffix == ".csv" and path.name.startswith("proposals-") for path in saved)
    assert all(path.read_bytes() for path in saved)
    for path in saved:
        assert str(path) in out.getvalue()
