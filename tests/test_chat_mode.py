"""The terminal chat: the same Application, driven from typed lines."""

from __future__ import annotations

import io
import time
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from devtools.chat import LOCAL_ORGANIZERS_CHAT, TerminalChat, run_chat, terminal_settings
from devtools.local_api import LocalBotApi
from tests.conftest import ORGANIZER_CHAT_ID, ORGANIZER_ID, chat_for, make_settings
from tests.proposal_support import submit_request


async def test_script_walks_menus_and_questions(settings: Settings) -> None:
    script = io.StringIO(
        "\n".join(
            [
                "3",  # the menu's third button: Partners
                "1",  # the first partner
                "lumen telcom employees",  # a typo'd question
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
    assert "Partners" in text and "Founded in 1999" in text
    assert "12,400" in text
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


async def test_the_organizers_card_comes_with_its_buttons_and_they_press(
    app: Application, api: LocalBotApi
) -> None:
    out = io.StringIO()
    terminal = TerminalChat(chat_for(app, api, ORGANIZER_ID), out, "en")
    await submit_request(chat_for(app, api, user_id=51))
    terminal.print_new()
    card = out.getvalue().split(f"→ to chat {ORGANIZER_CHAT_ID}:")[-1]
    assert "FS-0001" in card and "[1] ✅ Accept" in card and "[2] ❌ Decline" in card
    await terminal.handle_line("1")
    assert "Accept FS-0001?" in out.getvalue().split("[2] ❌ Decline")[-1]


def test_without_an_organizers_group_the_terminal_stands_in_one(settings: Settings) -> None:
    alone = settings.model_copy(update={"organizer_chat_id": None})
    assert terminal_settings(alone).organizer_chat_id == LOCAL_ORGANIZERS_CHAT
    assert terminal_settings(settings).organizer_chat_id == settings.organizer_chat_id


async def test_the_mini_app_button_shows_its_address(database_url: str) -> None:
    settings = make_settings(database_url, WEB_APP_URL="https://example.org/app")
    out = io.StringIO()
    await run_chat(settings, stdin=io.StringIO("1\n/quit\n"), out=out)
    text = out.getvalue()
    assert "[1] 🗓 Open the programme (Mini App: https://example.org/app)" in text
    assert "\nhttps://example.org/app\n" in text  # pressed: the address to open


async def test_saving_a_session_shows_the_star(settings: Settings) -> None:
    out = io.StringIO()
    # Programme, its first session, ☆ Save.
    await run_chat(settings, stdin=io.StringIO("1\n1\n1\n/quit\n"), out=out)
    after = out.getvalue().split("[1] ☆ Save")[-1]
    assert "[1] ★ Saved" in after and "[3] ❓ Ask the panel" in after and "[4] ⬅️ Back" in after


async def test_a_piped_start_shows_the_welcome_once(settings: Settings) -> None:
    out = io.StringIO()
    await run_chat(settings, stdin=io.StringIO("/start\n/start\n"), out=out)
    # The chat starts with /start: a first typed /start is that one; a later one is new.
    assert out.getvalue().count("Welcome to Riverside Sessions") == 2


async def test_plain_messages_are_printed_as_they_are(database_url: str) -> None:
    """A broadcast is sent as plain text: the preview shows its tags, as people will see them."""
    settings = make_settings(database_url, ADMIN_IDS="1")
    out = io.StringIO()
    script = ScriptedInput(
        out,
        [
            ("/broadcast Hi <b>all</b> &amp; welcome", None),
            ("1", "Who should receive it"),
            ("/quit", "Send it now?"),
        ],
    )
    await run_chat(settings, stdin=script, out=out)
    assert "\nHi <b>all</b> &amp; welcome\n" in out.getvalue()


async def test_a_second_run_on_the_same_database_goes_on_with_the_draft(
    settings: Settings,
) -> None:
    """Telegram's update ids only grow: a new terminal chat on the same database goes on from
    a higher id, so its first answers are not taken for updates applied already (the draft
    remembers the last one it applied)."""
    first = io.StringIO()
    await run_chat(settings, stdin=io.StringIO("/propose\nAda Lovelace\n/quit\n"), out=first)
    assert "Step 2 of" in first.getvalue()
    second = io.StringIO()
    await run_chat(settings, stdin=io.StringIO("/propose\nada@example.org\n/quit\n"), out=second)
    assert "Step 2 of" in second.getvalue()  # resumed where it was
    assert "Step 3 of" in second.getvalue()  # and the answer moved it on
