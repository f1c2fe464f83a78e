"""The terminal chat: the same Application, driven from typed lines."""

from __future__ import annotations

import io

from bot.chat import run_chat
from bot.settings import Settings


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
