"""A request that waits while the person is elsewhere, typed answers at button steps, "back"
that says the truth, and /cancel that always asks before throwing answers away."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from bot.models import Proposal, ProposalDraft, User
from bot.proposal_flow import FLOW, Step
from devtools.local_api import LocalBotApi, LocalChat
from handlers.context import services_of
from tests.conftest import chat_for
from tests.proposal_support import (
    SUMMARY,
    TITLE,
    answer_until_review,
    count,
    draft_of,
    last_button_labels,
    text_of,
)


async def at_email_step(chat: LocalChat) -> None:
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    await chat.press_data("fl:c:sector:government")


async def test_after_start_typed_text_is_a_question_until_propose(
    chat: LocalChat, app: Application
) -> None:
    await at_email_step(chat)
    await chat.send("/start")
    calls = await chat.send("lumen telcom")
    text = text_of(calls)
    assert "e-mail" not in text and "Step 4 of 10" not in text  # not taken as the answer
    assert "Lumen Telecom" in text  # a question about the partner, answered as one
    draft = await draft_of(app, chat)
    assert draft.step == "email" and draft.email is None and draft.paused
    # A menu button leaves it waiting too; /propose takes the person back to it.
    await chat.send("/propose")
    await chat.press_data("menu")
    calls = await chat.send("when is the event?")
    assert "has not been announced yet" in text_of(calls) and "e-mail" not in text_of(calls)
    calls = await chat.send("/propose")
    assert "Welcome back" in text_of(calls) and "<b>e-mail address</b>" in text_of(calls)
    await chat.send("ana@example.org")
    draft = await draft_of(app, chat)
    assert draft.email == "ana@example.org" and draft.step == "format" and not draft.paused


async def test_the_drafts_own_buttons_take_the_person_back_to_it(
    chat: LocalChat, app: Application
) -> None:
    await at_email_step(chat)
    await chat.send("/programme")
    assert (await draft_of(app, chat)).paused
    await chat.press_data("fl:b:email")  # Back, on the step's message above
    draft = await draft_of(app, chat)
    assert not draft.paused and draft.step == "sector"
    calls = await chat.send("Company")  # an answer again
    assert "<b>e-mail address</b>" in text_of(calls)
    assert (await draft_of(app, chat)).sector == "company"


async def test_no_use_as_button_the_step_would_refuse(chat: LocalChat, app: Application) -> None:
    await at_email_step(chat)
    calls = await chat.send("when is the event?")
    assert "has not been announced yet" in text_of(calls)
    assert not any("Use" in label for label in last_button_labels(chat))
    assert (await draft_of(app, chat)).held is None
    # At the name step the same text would be a valid name: the offer stays.
    other = chat_for(chat.application, chat.api, user_id=77)
    await other.send("/propose")
    await other.send("when is the event?")
    assert any("as my name" in label for label in last_button_labels(other))


async def test_typed_choices_are_accepted_in_any_language_and_with_typos(
    app: Application, api: LocalBotApi
) -> None:
    chat = chat_for(app, api, user_id=71)
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    calls = await chat.send("Compnay")  # a typo
    assert "<b>e-mail address</b>" in text_of(calls)
    await chat.send("ana@example.org")
    calls = await chat.send("panel contribution")
    assert "<b>title</b>" in text_of(calls)
    await chat.send(TITLE)
    await chat.send(SUMMARY)
    calls = await chat.send("skip")  # "or skip this step", says the prompt
    assert "Do you agree?" in text_of(calls)
    calls = await chat.send("yes")
    assert "session" in text_of(calls).lower()
    calls = await chat.send("No preference")
    assert "Submit" in " ".join(last_button_labels(chat))
    draft = await draft_of(app, chat)
    assert (draft.sector, draft.format_id, draft.link) == ("company", "panel-contribution", None)
    assert draft.consent and draft.session_id is None and draft.step == "review"
    # Spanish and Catalan words, accents or not, the buttons' labels or the values.
    spanish = chat_for(app, api, user_id=72, language_code="es")
    await spanish.send("/propose")
    await spanish.send("Ana Pérez")
    await spanish.send("Ajuntament de Vic")
    await spanish.send("administracion local o regional")
    await spanish.send("ana@example.org")
    await spanish.send("Charla breve")
    await spanish.send(TITLE)
    await spanish.send(SUMMARY)
    await spanish.send("saltar")
    await spanish.send("Sí")
    draft = await draft_of(app, spanish)
    assert (draft.sector, draft.format_id, draft.link) == ("government", "short-talk", None)
    assert draft.consent and draft.step == "spot"
    catalan = chat_for(app, api, user_id=73, language_code="ca")
    await catalan.send("/propose")
    await catalan.send("Ana Pérez")
    await catalan.send("Ajuntament de Vic")
    await catalan.send("societat civil")
    await catalan.send("ana@example.org")
    await catalan.send("xerrada breu")
    await catalan.send(TITLE)
    await catalan.send(SUMMARY)
    await catalan.send("omet")
    calls = await catalan.send("no")  # no consent: asked again
    assert "Tria amb els botons" in text_of(calls)
    await catalan.send("D'acord")
    draft = await draft_of(app, catalan)
    assert (draft.sector, draft.format_id, draft.link) == ("civil_society", "short-talk", None)
    assert draft.consent and draft.step == "spot"


async def test_a_typed_text_naming_no_button_changes_nothing(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    for text in ("a bakery", "c", "no"):  # "no" is no sector
        calls = await chat.send(text)
        assert "choose with the buttons" in text_of(calls)
    draft = await draft_of(app, chat)
    assert draft.step == "sector" and draft.sector is None


async def test_back_at_step_two_goes_back_without_saying_there_is_nothing_before(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    calls = await chat.send("back")
    assert "first question" not in text_of(calls) and "What is your <b>name</b>" in text_of(calls)
    calls = await chat.send("back")  # now it is the first question
    assert "first question" in text_of(calls)
    await chat.send("Ana Pérez")
    calls = await chat.send("/back")
    assert "first question" not in text_of(calls) and "What is your <b>name</b>" in text_of(calls)
    assert (await draft_of(app, chat)).step == FLOW.first


async def test_cancel_after_back_from_a_filled_summary_asks_first(
    chat: LocalChat, app: Application
) -> None:
    await chat.send("/propose")
    await answer_until_review(chat)
    await chat.press("Back")  # from the summary to the last question
    assert (await draft_of(app, chat)).step == Step.SPOT
    calls = await chat.send("/cancel")
    assert "will be deleted" in text_of(calls) and await count(app, ProposalDraft) == 1
    calls = await chat.press("No, let me continue")
    assert "Nothing was deleted" in text_of(calls) and await count(app, ProposalDraft) == 1
    await chat.press("Cancel")
    calls = await chat.press("Yes, delete my request")
    assert "Request cancelled" in text_of(calls)
    assert await count(app, ProposalDraft) == 0 and await count(app, Proposal) == 0


async def test_the_visit_and_leaving_the_request_are_one_transaction(
    chat: LocalChat, app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each update's first step records the person and pauses their request together: a
    failure pausing it records nothing of the visit either (their new language included)."""
    await at_email_step(chat)
    chat.language_code = "es"

    async def fails(*_args: object) -> bool:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("bot.users.pause_draft", fails)
    await chat.send("/start")
    async with services_of(app).sessions() as session:
        person = await session.get(User, chat.user_id)
    assert person is not None and person.telegram_language == "en"
    assert not (await draft_of(app, chat)).paused

    monkeypatch.undo()
    await chat.send("/start")
    async with services_of(app).sessions() as session:
        person = await session.get(User, chat.user_id)
    assert person is not None and person.telegram_language == "es"
    assert (await draft_of(app, chat)).paused
