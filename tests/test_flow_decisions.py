"""Organizers confirm, give a reason, undo; without an organizers' group nothing pretends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.models.proposal import DecisionPrompt
from bot.settings import Settings
from devtools.local_api import LocalBotApi, LocalRequest, sent_texts
from handlers import organize
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from tests.conftest import ORGANIZER_CHAT_ID, ORGANIZER_ID, chat_for, make_settings
from tests.proposal_support import organizers_group, stored, submit_request, text_of


async def test_decline_with_a_reason_typed_in_the_group(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=51, language_code="es"))
    group = organizers_group(app, api, ORGANIZER_ID)
    calls = await group.press("Decline")
    assert "Decline FS-0001?" in text_of(calls)
    calls = await group.press("Decline with a reason")
    (prompt,) = [c for c in calls if c.method == "sendMessage"]
    assert "Olga</a>, reply to this message" in prompt.text
    # The wait is in the database, not in this process.
    async with services_of(app).sessions() as session:
        (waiting,) = (await session.scalars(select(DecisionPrompt))).all()
    assert waiting.actor_id == ORGANIZER_ID and waiting.action == "decline"
    reply_to = group.last_bot_message()
    calls = await group.send(
        "The programme is full; please join us as an attendee.", reply_to=reply_to
    )
    (told,) = [c for c in calls if c.chat_id == 51]
    assert "Su motivo" in told.text and "The programme is full" in told.text  # in Spanish
    assert any("declined; the speaker was told" in t for t in sent_texts(calls))
    card = [c for c in calls if c.method == "editMessageText"]
    assert card and "Reason given: The programme is full" in card[-1].text
    proposal = await stored(app)
    assert proposal.state == "declined" and proposal.events[-1].note is not None
    assert proposal.events[-1].told_at is not None


async def test_cancel_drops_the_awaited_reason_and_sends_nothing(
    app: Application, api: LocalBotApi
) -> None:
    """/cancel goes first to an organizer's awaited note (handlers/routes.py): it is dropped,
    nobody is told, and the organizer's next text is a question, not a reason."""
    await submit_request(chat_for(app, api, user_id=53))
    organizer = chat_for(app, api, user_id=ORGANIZER_ID)
    await organizer.send("/proposals")
    await organizer.press("submitted (1)")
    await organizer.press("FS-0001")
    await organizer.press("Decline")
    await organizer.press("Decline with a reason")
    calls = await organizer.send("/cancel")
    assert "Nothing was sent" in text_of(calls)
    assert not [c for c in calls if c.chat_id == 53]
    async with services_of(app).sessions() as session:
        assert (await session.scalars(select(DecisionPrompt))).all() == []
    calls = await organizer.send("who are the partners?")
    assert "Partners" in text_of(calls) and not [c for c in calls if c.chat_id == 53]
    assert (await stored(app)).state == "submitted"


async def test_decline_reason_typed_in_private_survives_a_restart(settings: Settings) -> None:
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as first:
        await submit_request(chat_for(first, api, user_id=52))
        organizer = chat_for(first, api, user_id=ORGANIZER_ID)
        await organizer.send("/proposals")
        await organizer.press("submitted (1)")
        await organizer.press("FS-0001")
        await organizer.press("Decline")
        calls = await organizer.press("Decline with a reason")
        assert "send the reason as your next message" in text_of(calls)
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as second:
        organizer = chat_for(second, api, user_id=ORGANIZER_ID)
        calls = await organizer.send("Out of scope for this edition.")
        (told,) = [c for c in calls if c.chat_id == 52]
        assert "Their reason" in told.text and "Out of scope for this edition." in told.text
        assert (await stored(second)).state == "declined"
        # The next text is a question again.
        calls = await organizer.send("who are the partners?")
        assert "Partners" in text_of(calls)


async def test_undo_returns_to_submitted_and_corrects_the_speaker(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=53, language_code="ca"))
    group = organizers_group(app, api, ORGANIZER_ID)
    await group.press("Accept")
    await group.press("Yes, accept")
    intruder = organizers_group(app, api, 99)
    calls = await intruder.press_data("pr:u:1", group.last_bot_message(with_buttons=True))
    assert "only for the event's organizers" in text_of(calls)
    assert (await stored(app)).state == "accepted"
    calls = await group.press("Undo")
    assert "the speaker got a short correction" in text_of(calls)
    (correction,) = [c for c in calls if c.chat_id == 53]
    assert "Correcció" in correction.text and "acceptada" in correction.text
    proposal = await stored(app)
    assert proposal.state == "submitted"
    assert [e.state for e in proposal.events] == ["submitted", "accepted", "submitted"]
    edits = [c for c in calls if c.method == "editMessageText"]
    assert "Decision undone by Olga" in edits[-1].text
    assert [b["text"] for b in edits[-1].buttons()][:2] == ["✅ Accept", "❌ Decline"]


async def test_undo_is_refused_after_the_window(
    app: Application, api: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    await submit_request(chat_for(app, api, user_id=54))
    group = organizers_group(app, api, ORGANIZER_ID)
    await group.press("Decline")
    await group.press("without a reason")
    card = group.last_bot_message(with_buttons=True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr("bot.proposals.states.utcnow", lambda: later)
    calls = await group.press_data("pr:u:1", card)
    assert "too late to undo" in text_of(calls)
    assert (await stored(app)).state == "declined"
    assert not [c for c in calls if c.chat_id == 54]


async def test_organizers_write_to_the_speaker_here(app: Application, api: LocalBotApi) -> None:
    await submit_request(chat_for(app, api, user_id=55))
    organizer = chat_for(app, api, user_id=ORGANIZER_ID)
    await organizer.send("/proposals")
    await organizer.press("submitted (1)")
    await organizer.press("FS-0001")
    await organizer.press("Message the speaker")
    calls = await organizer.send("Could you send us a slide or two before Friday?")
    (relayed,) = [c for c in calls if c.chat_id == 55]
    assert "From the organizers" in relayed.text and "slide or two" in relayed.text
    assert "Sent to the speaker of <b>FS-0001</b>" in text_of(calls)


def test_speaker_message_and_contact_faq_agree(app: Application) -> None:
    """The FAQ says the organizers reply "here": so do the messages to speakers."""
    from bot.i18n import plain

    content = services_of(app).content.content
    contact = content.faq("contact")
    assert contact is not None and "reply to you here" in contact.answer.get("en")
    accepted = plain("proposals.notify.accepted", "en", reference="FS-0001", title="T")
    assert "reply to you here" in accepted and "e-mail" not in accepted


async def test_without_an_organizers_group_everything_is_honest(database_url: str) -> None:
    settings = make_settings(database_url, ORGANIZER_CHAT_ID="")
    warning = organize.organizer_chat_warning(settings)
    assert warning is not None and "ORGANIZER_CHAT_ID is not set" in warning
    assert "/proposals" in warning and "/export" in warning
    assert organize.organizer_chat_warning(make_settings(database_url)) is None
    nobody = make_settings(database_url, ORGANIZER_CHAT_ID="", ADMIN_IDS="", ORGANIZER_IDS="")
    assert "nobody can see" in (organize.organizer_chat_warning(nobody) or "")
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        calls = await submit_request(chat_for(app, api, user_id=56))
        text = text_of(calls)
        assert "is saved" in text and "sent to the organizers" not in text
        organizer = chat_for(app, api, user_id=ORGANIZER_ID)
        calls = await organizer.send("/proposals")
        assert "Submitted 1" in text_of(calls)
        calls = await organizer.send("/export")
        assert [c.method for c in calls if c.method == "sendDocument"] == ["sendDocument"]
        await organizer.press_data("pr:o:1")
        await organizer.press("Accept")
        calls = await organizer.press("Yes, accept")
        assert any(c.chat_id == 56 and "accepted" in c.text for c in calls)
        assert not api.calls_to("sendMessage", ORGANIZER_CHAT_ID)
