"""Organizers decide with one press; only they can; the person hears back and can withdraw."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from telegram.ext import Application

from bot.models import Proposal
from devtools.local_api import ApiError, LocalBotApi, sent_texts
from handlers.context import services_of
from tests.conftest import ADMIN_ID, ORGANIZER_CHAT_ID, ORGANIZER_ID, chat_for
from tests.proposal_support import organizers_group, stored, submit_request, text_of


async def test_organizer_accepts_and_the_person_hears_in_their_language(
    app: Application, api: LocalBotApi
) -> None:
    person = chat_for(app, api, user_id=51, language_code="es")
    await submit_request(person, name="<b>Ana</b> & co")
    (card,) = api.calls_to("sendMessage", ORGANIZER_CHAT_ID)
    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; co" in card.text  # user text escaped
    group = organizers_group(app, api, ORGANIZER_ID)
    card_message = group.last_bot_message(with_buttons=True)
    assert card_message is not None
    calls = await group.press("Accept")
    (asked,) = [c for c in calls if c.method == "editMessageText"]
    assert "Accept FS-0001?" in asked.text
    assert not [c for c in calls if c.chat_id == 51]  # nobody is told before the confirmation
    assert (await stored(app)).state == "submitted"
    calls = await group.press("Yes, accept FS-0001")
    notice = next(c for c in calls if c.method == "answerCallbackQuery")
    assert notice.params["text"] == "FS-0001: accepted. You can undo it for 5 minutes."
    (edit,) = [c for c in calls if c.method == "editMessageText"]
    assert edit.params["message_id"] == card_message["message_id"]
    assert "<b>accepted</b> by Olga" in edit.text
    assert [b["text"] for b in edit.buttons()] == [
        "↩️ Undo (for 5 minutes)",
        "✉️ Message the speaker",
    ]
    (told,) = [c for c in calls if c.method == "sendMessage" and c.chat_id == 51]
    assert "aceptada" in told.text and "FS-0001" in told.text
    proposal = await stored(app)
    assert proposal.state == "accepted"
    assert [(e.state, e.actor_id) for e in proposal.events] == [
        ("submitted", 51),
        ("accepted", ORGANIZER_ID),
    ]


async def test_others_are_refused_and_nothing_changes(app: Application, api: LocalBotApi) -> None:
    person = chat_for(app, api, user_id=52)
    await submit_request(person)
    card = organizers_group(app, api, ORGANIZER_ID).last_bot_message(with_buttons=True)
    intruder = organizers_group(app, api, 53)
    calls = await intruder.press_data("pr:a:1", card)
    (refusal,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert (
        "only for the event's organizers" in refusal.params["text"]
        and refusal.params["show_alert"]
    )
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    # The person themself, forging the organizers' button in their own chat.
    calls = await person.press_data("pr:d:1")
    assert "only for the event's organizers" in text_of(calls)
    assert (await stored(app)).state == "submitted"


async def test_forged_and_repeated_decisions_change_nothing(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=54))
    group = organizers_group(app, api, ADMIN_ID)  # admins may decide too
    card = group.last_bot_message(with_buttons=True)
    calls = await group.press_data("pr:a:999", card)
    assert "can't find that request" in text_of(calls)
    calls = await group.press_data("pr:a:1; DROP TABLE proposals", card)
    assert "no longer valid" in text_of(calls)
    assert (await stored(app)).state == "submitted"
    await group.press_data("pr:dy:1", card)
    calls = await group.press_data("pr:ay:1", card)
    assert "already declined" in text_of(calls)
    calls = await group.press_data("pr:a:1", card)
    assert "already declined" in text_of(calls)
    proposal = await stored(app)
    assert proposal.state == "declined" and len(proposal.events) == 2
    told = [c for c in api.calls_to("sendMessage", 54) if "FS-0001" in c.text]
    assert len(told) == 1  # one decision, not two


async def test_a_person_who_blocked_the_bot_does_not_break_the_decision(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=55))
    api.interceptors.append(
        lambda method, params: (
            ApiError(403, "Forbidden: bot was blocked by the user")
            if method == "sendMessage" and params.get("chat_id") in (55, "55")
            else None
        )
    )
    group = organizers_group(app, api, ORGANIZER_ID)
    await group.press("Decline")
    calls = await group.press("without a reason")
    assert any("<b>declined</b> by Olga" in c.text for c in calls)
    assert (await stored(app)).state == "declined"


async def test_proposals_lists_by_state_and_decides_from_private(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=56), title="Fibre for the mountains")
    await submit_request(chat_for(app, api, user_id=57), title="Open data for towns")
    organizer = chat_for(app, api, user_id=ORGANIZER_ID)
    calls = await organizer.send("/proposals")
    assert "Submitted 2 · accepted 0" in text_of(calls)
    calls = await organizer.press("submitted (2)")
    labels = [b["text"] for b in calls[-1].buttons()]
    assert labels[:2] == ["FS-0001 · Fibre for the mountains", "FS-0002 · Open data for towns"]
    calls = await organizer.press("FS-0002")
    assert "Open data for towns" in text_of(calls) and "ana@example.org" in text_of(calls)
    await organizer.press("Accept")
    calls = await organizer.press("Yes, accept")
    group_edits = [c for c in calls if c.method == "editMessageText"]
    assert {c.chat_id for c in group_edits} == {ORGANIZER_ID, ORGANIZER_CHAT_ID}
    assert all("<b>accepted</b> by" in c.text for c in group_edits)
    assert (await stored(app, 2)).state == "accepted"
    calls = await organizer.press("Back")
    assert "Requests <b>accepted</b>: 1" in text_of(calls)
    calls = await organizer.press("All requests")
    assert "Submitted 1 · accepted 1" in text_of(calls)


async def test_attendees_cannot_list_or_export(app: Application, api: LocalBotApi) -> None:
    attendee = chat_for(app, api, user_id=58)
    for command in ("/proposals", "/export"):
        calls = await attendee.send(command)
        assert "only for the event's organizers" in text_of(calls)
    calls = await attendee.press_data("pr:l:submitted")
    assert "only for the event's organizers" in text_of(calls)
    calls = await attendee.press_data("pr:o:1")
    assert "only for the event's organizers" in text_of(calls)
    assert api.calls_to("sendDocument") == []


async def test_export_sends_every_request_as_csv(app: Application, api: LocalBotApi) -> None:
    await submit_request(chat_for(app, api, user_id=59), title="Fibre for the mountains")
    await submit_request(chat_for(app, api, user_id=60), title="Open data for towns")
    calls = await chat_for(app, api, user_id=ADMIN_ID).send("/export")
    (document,) = [c for c in calls if c.method == "sendDocument"]
    assert "Speaking-slot requests: 2" in document.text
    (data,) = document.files.values()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["reference"], r["title"]) for r in rows] == [
        ("FS-0001", "Fibre for the mountains"),
        ("FS-0002", "Open data for towns"),
    ]


async def test_myproposals_and_withdraw(app: Application, api: LocalBotApi) -> None:
    person = chat_for(app, api, user_id=62)
    calls = await person.send("/myproposals")
    assert "not sent any" in text_of(calls)
    await submit_request(person, title="Fibre for the mountains")
    await submit_request(person, title="Open data for towns")
    await organizers_group(app, api, ORGANIZER_ID).press_data(
        "pr:ay:2", api.messages[max(k for k in api.messages if k[0] == ORGANIZER_CHAT_ID)]
    )
    calls = await person.send("/myproposals")
    listing = text_of(calls)
    assert "FS-0001</b> · Fibre for the mountains — submitted" in listing
    assert "FS-0002</b> · Open data for towns — accepted" in listing
    labels = [b["text"] for b in calls[-1].buttons()]
    assert "↩️ Withdraw FS-0001" in labels and not any("FS-0002" in x for x in labels)
    calls = await person.press("Withdraw FS-0001")
    assert "cannot be undone" in text_of(calls)
    calls = await person.press("No, keep it")
    assert "FS-0001" in text_of(calls)
    await person.press("Withdraw FS-0001")
    calls = await person.press("Yes, withdraw it")
    assert "has been withdrawn" in text_of(calls)
    to_group = [c for c in calls if c.chat_id == ORGANIZER_CHAT_ID]
    assert any("was withdrawn by the person" in c.text for c in to_group)
    assert any(c.method == "editMessageText" and "withdrawn" in c.text for c in to_group)
    proposal = await stored(app, 1)
    assert proposal.state == "withdrawn" and proposal.events[-1].actor_id == 62
    # Pressing again, or withdrawing an accepted one or someone else's: nothing changes.
    calls = await person.press_data("pr:wy:1")
    assert "already withdrawn" in text_of(calls)
    calls = await person.press_data("pr:wy:2")
    assert "already accepted" in text_of(calls)
    stranger = chat_for(app, api, user_id=63)
    calls = await stranger.press_data("pr:w:2")
    assert "can't find that request" in text_of(calls)
    async with services_of(app).sessions() as session:
        states = list(await session.scalars(select(Proposal.state).order_by(Proposal.id)))
    assert states == ["withdrawn", "accepted"]


async def test_decision_buttons_gone_after_withdrawal(app: Application, api: LocalBotApi) -> None:
    person = chat_for(app, api, user_id=64)
    await submit_request(person)
    card = organizers_group(app, api, ORGANIZER_ID).last_bot_message(with_buttons=True)
    await person.send("/myproposals")
    await person.press("Withdraw FS-0001")
    await person.press("Yes, withdraw it")
    calls = await organizers_group(app, api, ORGANIZER_ID).press_data("pr:a:1", card)
    assert "already withdrawn" in " ".join(sent_texts(calls))
    assert (await stored(app)).state == "withdrawn"


async def test_requests_are_never_shown_in_another_group(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=61))
    elsewhere = chat_for(app, api, user_id=ORGANIZER_ID, chat_id=-999)
    for forged in ("pr:l:submitted", "pr:o:1"):
        calls = await elsewhere.press_data(forged)
        assert [c for c in calls if c.chat_id == -999] == []  # nothing posted in that group
    person_in_group = chat_for(app, api, user_id=61, chat_id=-300)
    calls = await person_in_group.send(f"/myproposals@{api.bot_user['username']}")
    assert "private chat" in text_of(calls) and "FS-0001" not in text_of(calls)


async def test_a_forged_button_on_a_card_leaves_the_card_alone(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=62))
    group = organizers_group(app, api, ORGANIZER_ID)
    card = group.last_bot_message(with_buttons=True)
    assert card is not None and "FS-0001" in card["text"]
    before = dict(card)
    calls = await group.press_data("pr:a:abc", card)
    assert "no longer valid" in text_of(calls)
    assert [c for c in calls if c.method == "editMessageText"] == []
    assert card["text"] == before["text"] and card.get("reply_markup") == before.get(
        "reply_markup"
    )
