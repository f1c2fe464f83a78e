"""Bounds on what Telegram sends: odd commands, control characters, texts at the limit."""

from __future__ import annotations

import html
import re

from telegram.ext import Application

from devtools.local_api import LocalBotApi, LocalChat, sent_texts
from handlers.views import fit, visible_length
from tests.conftest import ORGANIZER_CHAT_ID, ORGANIZER_ID, chat_for
from tests.proposal_support import submit_request


def test_a_text_is_measured_as_telegram_counts_it() -> None:
    text = "<b>FS-0007</b> &lt;&lt; " + "&amp;" * 10
    assert visible_length(text) == len("FS-0007 << ") + 10


def test_a_summary_full_of_angle_brackets_keeps_the_card_whole() -> None:
    card = "<b>FS-0007</b>\n" + html.escape("<" * 1500) + "\n<i>ref FS-0007</i>"
    assert len(card) > 4096 and fit(card) == card  # 1,500 visible characters: nothing cut


def test_a_cut_never_falls_inside_a_tag_or_an_entity() -> None:
    text = "<b>" + "a&amp;" * 3000 + "</b>"
    cut = fit(text, 100)
    assert visible_length(cut) <= 100
    assert cut.endswith("…</b>")
    assert not re.search(r"&[a-z]*…", cut) and cut.count("<b>") == cut.count("</b>")


async def test_a_blank_command_gets_the_kind_answer(app: Application, api: LocalBotApi) -> None:
    chat = chat_for(app, api, user_id=71)
    message = chat._message(text=" ", entities=[{"type": "bot_command", "offset": 0, "length": 1}])
    calls = await chat.feed({"message": message})
    assert sent_texts(calls), "an answer, not an IndexError"


async def test_an_organizer_name_with_control_characters_is_kept_clean(
    app: Application, api: LocalBotApi
) -> None:
    """A NUL in a name is refused by PostgreSQL: it must never reach the database."""
    await submit_request(chat_for(app, api, user_id=72))
    group = LocalChat(
        app,  # type: ignore[arg-type]
        api,
        user_id=ORGANIZER_ID,
        chat_id=ORGANIZER_CHAT_ID,
        first_name="Ol\x00ga\x07" + "x" * 300,
    )
    await group.press("Accept")
    await group.press("Yes, accept")
    proposal = await app.bot_data.services.requests.get(1)
    assert proposal.state == "accepted"
    name = proposal.events[-1].actor_name
    assert name.startswith("Olga") and "\x00" not in name and len(name) <= 100
