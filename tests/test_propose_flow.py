"""The speaking-slot conversation through the real Application, as a person lives it."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.models import Proposal, ProposalDraft
from bot.settings import Settings
from devtools.chat import run_chat
from devtools.local_api import LocalBotApi, LocalChat, LocalRequest, buttons_of
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from tests.conftest import ORGANIZER_CHAT_ID, chat_for, make_settings
from tests.proposal_support import (
    SUMMARY,
    TITLE,
    answer_until_review,
    count,
    last_button_labels,
    submit_request,
    text_of,
)


async def test_deep_link_to_stored_request_with_suggested_session(
    chat: LocalChat, app: Application, api: LocalBotApi
) -> None:
    calls = await chat.send("/start floor")
    assert "The floor is yours" in text_of(calls) and "What is your <b>name</b>" in text_of(calls)
    await chat.send("Ana Pérez")
    calls = await chat.send("Ajuntament de Vic")
    assert "sector" in text_of(calls)
    await chat.press("Local or regional government")
    calls = await chat.send("ana@example.org")
    assert "Short talk" in last_button_labels(chat) and "Panel contribution" in " ".join(
        last_button_labels(chat)
    )
    await chat.press("Short talk")
    await chat.send(TITLE)
    calls = await chat.send(SUMMARY)
    assert "link" in text_of(calls)
    calls = await chat.press("Skip")
    privacy = text_of(calls)
    assert "e-mail" in privacy and "after the event" in privacy and "/forget" in privacy
    calls = await chat.press("I agree")
    labels = last_button_labels(chat)
    assert labels[0] == "Fibre along the valley"  # draft: no time
    assert labels[3] == "No preference" and not [x for x in labels if re.search(r"\d:\d", x)]
    calls = await chat.press("Fibre along the valley")
    review = text_of(calls)
    for part in ("Ana Pérez", "Ajuntament de Vic", "ana@example.org", TITLE, "Short talk"):
        assert part in review
    assert "Fibre along the valley" in review
    calls = await chat.press("Submit")
    assert "FS-0001" in text_of(calls) and "/myproposals" in text_of(calls)
    (card,) = api.calls_to("sendMessage", ORGANIZER_CHAT_ID)
    assert "FS-0001" in card.text and TITLE in card.text and "ana@example.org" in card.text
    assert [b["text"] for b in card.buttons()] == [
        "✅ Accept",
        "❌ Decline",
        "✉️ Message the speaker",
    ]
    async with services_of(app).sessions() as session:
        stored = (await session.scalars(select(Proposal))).one()
    assert stored.session_id == "panel-fibre" and stored.state == "submitted"
    assert stored.organizer_message_id is not None
    assert await count(app, ProposalDraft) == 0


async def test_menu_button_and_typed_wish_lead_into_the_flow(chat: LocalChat) -> None:
    await chat.send("/start")
    calls = await chat.press("The floor is yours")
    assert "What is your <b>name</b>" in text_of(calls)
    await chat.send("/cancel")
    calls = await chat.send("I want to speak")
    assert "Ask for a speaking slot" in " ".join(last_button_labels(chat))
    calls = await chat.press("Ask for a speaking slot")
    assert "What is your <b>name</b>" in text_of(calls)


async def test_every_validation_error_keeps_the_question(chat: LocalChat) -> None:
    await chat.send("/propose")
    calls = await chat.send("A")
    assert "name (2 to 100" in text_of(calls) and "What is your" in text_of(calls)
    await chat.send("Ana")
    calls = await chat.send_message(
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    )
    assert "typed answer" in text_of(calls) and "organization" in text_of(calls)
    await chat.send("Ajuntament de Vic")
    calls = await chat.send("a bakery")  # names none of the buttons
    assert "choose with the buttons" in text_of(calls)
    await chat.press("Company")
    calls = await chat.send("ana at example dot org")
    assert "doesn't look like an e-mail" in text_of(calls) and "e-mail address" in text_of(calls)
    calls = await chat.send_message(
        photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    )
    assert "typed answer" in text_of(calls) and "Nothing you entered is lost" in text_of(calls)
    await chat.send("ana@example.org")
    await chat.press("Short talk")
    calls = await chat.send("t" * 121)
    assert "yours has 121" in text_of(calls)
    await chat.send(TITLE)
    calls = await chat.send("Too short.")
    assert "at least 50" in text_of(calls) and "<b>summary</b>" in text_of(calls)
    calls = await chat.send("s" * 1001)
    assert "at most 1000" in text_of(calls)
    await chat.send(SUMMARY)
    calls = await chat.send("javascript:alert(1)")
    assert "http://" in text_of(calls) and "Skip" in " ".join(last_button_labels(chat))
    await chat.send("https://example.org/<project>")
    await chat.press("I agree")
    calls = await chat.press("No preference")
    review = text_of(calls)
    assert "Company" in review and "ana@example.org" in review
    assert "https://example.org/&lt;project&gt;" in review  # escaped, never markup


async def test_back_keeps_answers_and_edit_returns_to_summary(chat: LocalChat) -> None:
    await chat.send("/propose")
    await chat.send("Ana")
    await chat.send("Vic")
    calls = await chat.press("Back")
    assert "organization" in text_of(calls)
    calls = await chat.press("Back")
    assert "What is your" in text_of(calls)
    assert "Back" not in " ".join(last_button_labels(chat))  # nothing before the name
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    await chat.press("Civil society")
    await chat.press("Back")  # to the sector again
    calls = await chat.press("Academia")
    assert "e-mail" in text_of(calls)
    await chat.send("ana@example.org")
    await chat.press("Short talk")
    await chat.send(TITLE)
    await chat.send(SUMMARY)
    await chat.press("Skip")
    await chat.press("I agree")
    calls = await chat.press("No preference")
    assert "Academia or research" in text_of(calls) and "Ajuntament de Vic" in text_of(calls)
    calls = await chat.press("✏️ Title")
    assert "<b>title</b>" in text_of(calls)
    calls = await chat.send("Fibre for the mountain villages")
    review = text_of(calls)
    assert "Fibre for the mountain villages" in review and "Submit" in " ".join(
        last_button_labels(chat)
    )
    await chat.press("✏️ Session")
    calls = await chat.press("Fibre along the valley")
    assert "🎯 09:30–10:30 (indicative) · Fibre along the valley" in text_of(calls)
    await chat.press("✏️ Format")
    calls = await chat.press("Back")  # leaves the format as it was
    assert "Short talk" in text_of(calls) and "Submit" in " ".join(last_button_labels(chat))


async def test_cancel_at_any_step_deletes_the_draft(chat: LocalChat, app: Application) -> None:
    await chat.send("/propose")
    calls = await chat.send("/cancel")  # nothing answered yet: nothing to lose, no question
    assert "Request cancelled" in text_of(calls)
    assert await count(app, ProposalDraft) == 0
    await chat.send("/propose")
    await chat.send("Ana")
    calls = await chat.send("/cancel")  # one answer: asked first
    assert "will be deleted" in text_of(calls) and await count(app, ProposalDraft) == 1
    calls = await chat.press("Yes, delete my request")
    assert "Request cancelled" in text_of(calls)
    assert await count(app, ProposalDraft) == 0
    calls = await chat.send("who are the partners?")  # a question again, not an answer
    assert "Partners" in text_of(calls)
    calls = await chat.send("/cancel")
    assert "nothing to cancel" in text_of(calls)
    await chat.send("/propose")
    await answer_until_review(chat)
    calls = await chat.press("Cancel")
    assert "Everything you typed will be deleted" in text_of(calls)  # finished: asked first
    assert await count(app, ProposalDraft) == 1
    calls = await chat.press("Yes, delete my request")
    assert "Request cancelled" in text_of(calls)
    assert await count(app, ProposalDraft) == 0 and await count(app, Proposal) == 0


async def test_double_submit_and_stale_summary_never_duplicate(
    chat: LocalChat, app: Application, api: LocalBotApi
) -> None:
    await chat.send("/propose")
    await answer_until_review(chat)
    summary = chat.last_bot_message(with_buttons=True)
    assert summary is not None
    submit = next(b for b in buttons_of(summary) if "Submit" in b["text"])["callback_data"]
    first = await chat.press_data(submit, summary)
    second = await chat.press_data(submit, summary)
    assert "FS-0001" in text_of(first)
    assert "FS-0001" in text_of(second)  # the same request, shown again
    assert await count(app, Proposal) == 1
    assert len(api.calls_to("sendMessage", ORGANIZER_CHAT_ID)) == 1
    # A new draft, and the old summary's Submit pressed again: still nothing new.
    await chat.send("/propose")
    calls = await chat.press_data(submit, summary)
    assert "earlier step" in text_of(calls) and "What is your" in text_of(calls)
    assert await count(app, Proposal) == 1
    # Forged data: no handler for it changes anything.
    await chat.press_data("fl:s:abc")
    await chat.press_data("fl:c:sector:'; DROP TABLE proposals;--")
    calls = await chat.press_data("fl:c:sector:pirates")
    assert "earlier step" in text_of(calls)
    assert await count(app, Proposal) == 1


async def test_a_restart_continues_where_the_person_left_off(settings: Settings) -> None:
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as first:
        chat = chat_for(first, api, user_id=61, language_code="es")
        await chat.send("/propose")
        await chat.send("Ana Pérez")
        await chat.send("Ajuntament de Vic")
        await chat.press_data("fl:c:sector:government")
        await chat.send("ana@example.org")
        calls = await chat.press_data("fl:c:format:short-talk")
        assert "Paso 6 de 10" in text_of(calls)
    # A new process over the same database: nothing in memory survives.
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as second:
        chat = chat_for(second, api, user_id=61, language_code="es")
        calls = await chat.send(TITLE)
        assert "Paso 7 de 10" in text_of(calls) and "<b>resumen</b>" in text_of(calls)
        await chat.send(SUMMARY)
        await chat.press_data("fl:c:link:skip")
        await chat.press_data("fl:c:consent:yes")
        calls = await chat.press_data("fl:c:spot:none")
        review = text_of(calls)
        assert "Ana Pérez" in review and "Administración local" in review and TITLE in review
        calls = await chat.press("Enviar")
        assert "FS-0001" in text_of(calls)


async def test_propose_in_a_group_invites_to_the_private_chat(
    app: Application, api: LocalBotApi
) -> None:
    group = chat_for(app, api, user_id=71, chat_id=-4242)
    calls = await group.send("/propose")
    (button,) = calls[-1].buttons()
    assert button["url"].endswith("?start=floor")
    assert await count(app, ProposalDraft) == 0


async def test_a_dormant_draft_lets_questions_through(
    chat: LocalChat, app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.send("/propose")
    await chat.send("Ana")
    two_days_later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    monkeypatch.setattr("bot.proposals.conversation.utcnow", lambda: two_days_later)
    calls = await chat.send("who are the partners?")
    assert "Partners" in text_of(calls) and "unfinished" in text_of(calls)
    calls = await chat.send("/propose")
    assert "Welcome back" in text_of(calls) and "organization" in text_of(calls)


async def test_no_organizer_chat_still_stores(database_url: str) -> None:
    settings = make_settings(database_url, ORGANIZER_CHAT_ID="")
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = chat_for(app, api)
        calls = await submit_request(chat)
        assert "FS-0001" in text_of(calls)
        assert await count(app, Proposal) == 1
        assert all(c.chat_id == chat.user_id for c in api.calls_to("sendMessage"))


async def test_terminal_chat_walks_the_whole_flow(settings: Settings) -> None:
    lines = [
        "/propose",
        "Ana Pérez",
        "Ajuntament de Vic",
        "1",  # Local or regional government
        "ana@example.org",
        "2",  # Short talk
        TITLE,
        SUMMARY,
        "1",  # Skip the link
        "1",  # I agree
        "1",  # the best spot
        "1",  # Submit
        "/quit",
    ]
    out = io.StringIO()
    await run_chat(settings, stdin=io.StringIO("\n".join(lines) + "\n"), out=out)
    text = out.getvalue()
    assert "Fibre along the valley" in text
    assert "FS-0001" in text and "<b>" not in text


async def test_editing_an_earlier_message_does_not_answer_the_step(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    await chat.send("Ana")
    edited = chat._message(text="Ana María", edit_date=1)
    await chat.feed({"edited_message": edited})
    draft = await services_of(app).drafts.draft_of(chat.user_id)
    assert draft is not None and draft.step == "organization" and draft.organization is None


async def test_changing_language_mid_request_asks_the_pending_question_again(
    app: Application, api: LocalBotApi
) -> None:
    chat = chat_for(app, api, user_id=71)
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("/language")
    calls = await chat.press("Català")
    text = text_of(calls)
    assert "et parlaré en català" in text and "2 de 10" in text  # the organization step, in ca
