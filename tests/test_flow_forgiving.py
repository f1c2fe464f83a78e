"""A speaking-slot conversation that forgives: back, questions typed mid-flow, confirmations,
and the programme's Back returning to the page one came from."""

from __future__ import annotations

from telegram.ext import Application

from bot.models import Proposal, ProposalDraft
from devtools.local_api import LocalBotApi, LocalChat, buttons_of
from tests.conftest import chat_for
from tests.proposal_support import (
    TITLE,
    answer_until_review,
    count,
    draft_of,
    last_button_labels,
    text_of,
)


async def test_editing_a_field_offers_a_way_back_to_the_summary(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    await answer_until_review(chat)
    calls = await chat.press("✏️ Name")
    assert "What is your <b>name</b>" in text_of(calls) and "Changing one field" in text_of(calls)
    assert last_button_labels(chat) == ["⬅️ Back to the summary"]  # no bare Cancel
    calls = await chat.press("Back to the summary")
    assert "Ana Pérez" in text_of(calls) and "Submit" in " ".join(last_button_labels(chat))
    # Typing "back" while changing a field returns to the summary too, nothing changed.
    await chat.press("✏️ Organization")
    calls = await chat.send("back")
    assert "Ajuntament de Vic" in text_of(calls) and "Submit" in " ".join(last_button_labels(chat))
    draft = await draft_of(app, chat)
    assert draft.step == "review" and draft.organization == "Ajuntament de Vic"


async def test_cancelling_a_finished_request_is_confirmed(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    await answer_until_review(chat)
    calls = await chat.press("Cancel")
    assert "Everything you typed will be deleted" in text_of(calls) and TITLE in text_of(calls)
    calls = await chat.press("No, back to the summary")
    assert "Nothing was deleted" in text_of(calls) and "Submit" in " ".join(
        last_button_labels(chat)
    )
    # /cancel typed at the summary asks too.
    calls = await chat.send("/cancel")
    assert "Everything you typed will be deleted" in text_of(calls)
    confirmation = dict(chat.last_bot_message(with_buttons=True) or {})
    assert await count(app, ProposalDraft) == 1
    calls = await chat.press("Yes, delete my request")
    assert "Request cancelled" in text_of(calls) and await count(app, ProposalDraft) == 0
    # An old confirmation never deletes a newer draft.
    await chat.send("/propose")
    await chat.send("Berta")
    yes = next(b for b in buttons_of(confirmation) if "Yes" in b["text"])
    calls = await chat.press_data(yes["callback_data"], confirmation)
    assert "earlier step" in text_of(calls) and await count(app, ProposalDraft) == 1
    # A draft with one answer asks too ("No" keeps it where it was).
    calls = await chat.send("/cancel")
    assert "will be deleted" in text_of(calls) and await count(app, ProposalDraft) == 1
    calls = await chat.press("No, let me continue")
    assert "Nothing was deleted" in text_of(calls) and "organization" in text_of(calls)
    assert await count(app, ProposalDraft) == 1 and await count(app, Proposal) == 0


async def test_typed_back_in_three_languages_goes_back_and_is_never_an_answer(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    calls = await chat.send("back")
    assert "first question" in text_of(calls) and "What is your <b>name</b>" in text_of(calls)
    assert (await draft_of(app, chat)).name is None
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    for word in ("Atrás", "enrere"):
        calls = await chat.send(word)
        assert "Step 2 of 10" in text_of(calls) or "Step 1 of 10" in text_of(calls)
    draft = await draft_of(app, chat)
    assert draft.step == "name" and draft.name == "Ana Pérez"
    assert draft.organization == "Ajuntament de Vic"  # going back keeps the answers


async def test_slash_back_goes_back(app: Application, api: LocalBotApi) -> None:
    chat = chat_for(app, api, user_id=41)
    calls = await chat.send("/back")
    assert "not filling in a request" in text_of(calls)
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    calls = await chat.send("/back")
    assert "What is your <b>name</b>" in text_of(calls)
    assert (await draft_of(app, chat)).step == "name"


async def test_a_question_at_the_name_step_is_answered_not_saved(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    calls = await chat.send("when is the event?")
    text = text_of(calls)
    assert "has not been announced yet" in text  # the FAQ's answer
    assert "not save it as your answer" in text and "What is your <b>name</b>" in text
    draft = await draft_of(app, chat)
    assert draft.step == "name" and draft.name is None
    # A plain answer is still an answer, even a partner's name at the organization step.
    await chat.send("Ana Pérez")
    calls = await chat.send("Lumen Telecom")
    assert "sector" in text_of(calls)
    assert (await draft_of(app, chat)).organization == "Lumen Telecom"


async def test_a_question_can_still_be_taken_as_the_answer_with_one_tap(
    app: Application, api: LocalBotApi
) -> None:
    chat = chat_for(app, api, user_id=42, language_code="es")
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    await chat.press_data("fl:c:sector:government")
    await chat.send("ana@example.org")
    await chat.press_data("fl:c:format:short-talk")
    calls = await chat.send("¿Dónde es el evento?")
    assert "aún no se ha anunciado" in text_of(calls) and "<b>título</b>" in text_of(calls)
    assert (await draft_of(app, chat)).title is None
    calls = await chat.press("Usar «¿Dónde es el evento?» como título")
    assert "<b>resumen</b>" in text_of(calls)
    assert (await draft_of(app, chat)).title == "¿Dónde es el evento?"


async def test_a_question_at_a_button_step_is_answered_and_the_buttons_come_back(
    chat: LocalChat,
) -> None:
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    calls = await chat.send("who are the partners?")
    assert "Partners" in calls[0].text and "Lumen Telecom" in [
        b["text"] for b in calls[0].buttons()
    ]
    assert "<b>sector</b>" in calls[-1].text
    assert "Company" in last_button_labels(chat)


async def test_programme_next_session_back_returns_to_page_two(chat: LocalChat) -> None:
    await chat.send("/programme")
    calls = await chat.press("Next")
    assert "2/2" in text_of(calls) or "2 of 2" in text_of(calls) or "2 / 2" in text_of(calls)
    page_two = chat.last_bot_message(with_buttons=True)
    assert page_two is not None
    session = next(b for b in buttons_of(page_two) if b["callback_data"].startswith("ses:"))
    await chat.press_data(session["callback_data"], page_two)
    calls = await chat.press("Back")
    assert any(b["callback_data"] == "prog:0" for b in calls[-1].buttons())  # "Previous"
    assert session["text"].split(" · ")[1] in text_of(calls)
    # From page 1, Back still returns to page 1.
    await chat.press("Previous")
    await chat.press("09:30")
    calls = await chat.press("Back")
    assert any(b["callback_data"] == "prog:1" for b in calls[-1].buttons())  # "Next"
