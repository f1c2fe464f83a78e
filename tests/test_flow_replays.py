"""What a worker killed mid-update, two organizers deciding at once and a press handled late
must never do: apply a step twice, decide twice, or hide the result behind an error."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from telegram import Update
from telegram.ext import Application

from bot.models import Proposal
from bot.models.state import OutboxNotice
from bot.proposals import AlreadyDecided, ProposalState
from devtools.local_api import ApiError, Call, LocalBotApi, LocalChat, LocalRequest, sent_texts
from handlers.app import build_application
from handlers.context import background_done, services_of
from handlers.runtime import running
from tests.conftest import ORGANIZER_CHAT_ID, ORGANIZER_ID, chat_for, make_settings
from tests.proposal_support import (
    SUMMARY,
    TITLE,
    answer_until_review,
    count,
    draft_of,
    organizers_group,
    stored,
    submit_request,
    text_of,
)

JSON = dict[str, Any]


async def twice(chat: LocalChat, payload: JSON) -> list[Call]:
    """One update handled, then handled again with the same update_id: what the worker that
    takes it over does after the first one was killed before marking it done."""
    api, application = chat.api, chat.application
    before = len(api.calls)
    update_id = api.next_update_id()
    for _ in range(2):
        await application.process_update(
            Update.de_json({"update_id": update_id, **payload}, application.bot)
        )
        await background_done(application)
    return api.calls[before:]


def typed(chat: LocalChat, text: str) -> JSON:
    fields: JSON = {"text": text}
    if text.startswith("/"):
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"message": chat._message(**fields)}


def pressed(chat: LocalChat, data: str) -> JSON:
    message = chat.last_bot_message() or chat._message(text="?")
    query = {
        "id": str(chat.api.next_update_id()),
        "from": chat.user,
        "chat_instance": str(chat.chat["id"]),
        "data": data,
        "message": message,
    }
    return {"callback_query": query}


async def test_every_step_handled_twice_is_applied_once(
    app: Application, api: LocalBotApi
) -> None:
    chat = chat_for(app, api, user_id=91)
    await twice(chat, typed(chat, "/propose"))
    await twice(chat, typed(chat, "Speaker K91001"))
    calls = await twice(chat, typed(chat, "Org K91001"))
    assert "<b>sector</b>" in calls[-1].text  # the second run shows the step it is at
    await twice(chat, typed(chat, "Company"))  # a typed choice
    await twice(chat, typed(chat, "k91001@example.org"))
    await twice(chat, pressed(chat, "fl:c:format:short-talk"))  # a pressed one
    await twice(chat, typed(chat, TITLE))
    await twice(chat, typed(chat, SUMMARY))
    await twice(chat, typed(chat, "https://k91001.example.org"))
    await twice(chat, pressed(chat, "fl:c:consent:yes"))
    await twice(chat, pressed(chat, "fl:c:spot:none"))
    await twice(chat, pressed(chat, "fl:e:title"))  # change one field from the summary
    await twice(chat, typed(chat, "A better title"))
    draft = await draft_of(app, chat)
    assert draft.step == "review"
    calls = await twice(chat, pressed(chat, f"fl:s:{draft.id}"))
    thanks = [text for text in sent_texts(calls) if "Thank you" in text]
    assert len(thanks) == 2 and all("FS-0001" in text for text in thanks)
    assert len(api.calls_to("sendMessage", ORGANIZER_CHAT_ID)) == 1  # one card
    assert await count(app, Proposal) == 1
    proposal = await stored(app)
    assert (proposal.name, proposal.organization, proposal.sector) == (
        "Speaker K91001",
        "Org K91001",
        "company",
    )
    assert (proposal.email, proposal.format_id) == ("k91001@example.org", "short-talk")
    assert (proposal.title, proposal.summary) == ("A better title", SUMMARY)
    assert (proposal.link, proposal.session_id) == ("https://k91001.example.org", None)


async def test_back_handled_twice_goes_back_once(app: Application, api: LocalBotApi) -> None:
    chat = chat_for(app, api, user_id=92)
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    await twice(chat, typed(chat, "back"))
    assert (await draft_of(app, chat)).step == "organization"
    await twice(chat, pressed(chat, "fl:b:organization"))
    assert (await draft_of(app, chat)).step == "name"


async def test_two_decisions_at_the_same_moment_one_wins(
    app: Application, api: LocalBotApi
) -> None:
    """Accept and Decline confirmed together, on two sessions: one decision, one notice."""
    service = services_of(app).reviews
    for person in range(93, 98):
        await submit_request(chat_for(app, api, user_id=person))
    async with services_of(app).sessions() as session:
        ids = list(await session.scalars(select(Proposal.id).order_by(Proposal.id)))
    for proposal_id in ids:
        results = await asyncio.gather(
            service.decide(proposal_id, ORGANIZER_ID, "Olga", accept=True),
            service.decide(proposal_id, ORGANIZER_ID + 1, "Pau", accept=False),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, Proposal)]
        lost = [r for r in results if isinstance(r, AlreadyDecided)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].state == won[0].state
        proposal = await services_of(app).requests.get(proposal_id)
        assert proposal is not None and proposal.state == won[0].state
        assert [e.state for e in proposal.events] == ["submitted", won[0].state]
    async with services_of(app).sessions() as session:
        notices = list(
            await session.scalars(select(OutboxNotice).where(OutboxNotice.kind == "speaker"))
        )
    assert sorted(n.proposal_id for n in notices) == ids  # one speaker notice per request


async def test_a_decision_handled_twice_is_made_and_told_once(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=88))
    group = organizers_group(app, api, ORGANIZER_ID)
    await group.press("Accept")
    calls = await twice(group, pressed(group, "pr:ay:1"))
    notices = [c for c in calls if c.method == "answerCallbackQuery" and c.params.get("text")]
    assert len(notices) == 2 and all("accepted" in c.params["text"] for c in notices)
    assert not any("decided first" in text for text in sent_texts(calls))
    assert len([c for c in calls if c.chat_id == 88]) == 1  # the speaker is told once
    proposal = await stored(app)
    assert [e.state for e in proposal.events] == ["submitted", "accepted"]


async def test_the_loser_of_two_decisions_is_told_who_decided(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=98))
    organizer = chat_for(app, api, user_id=ORGANIZER_ID)
    await organizer.send("/proposals")
    await organizer.press("submitted (1)")
    await organizer.press("FS-0001")
    await organizer.press("Decline")
    # Meanwhile another organizer accepts it.
    await services_of(app).reviews.decide(1, ORGANIZER_ID + 1, "Pau", accept=True)
    calls = await organizer.press("without a reason")
    assert "Pau decided first" in text_of(calls) and "accepted" in text_of(calls)
    assert (await stored(app)).state == ProposalState.ACCEPTED


def too_old(method: str, params: JSON) -> ApiError | None:
    if method == "answerCallbackQuery":
        return ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query id is invalid",
        )
    return None


async def test_a_submit_handled_late_still_shows_its_result(
    app: Application, api: LocalBotApi
) -> None:
    chat = chat_for(app, api, user_id=99)
    await chat.send("/propose")
    calls = await answer_until_review(chat)
    submit = next(b for b in calls[-1].buttons() if b["callback_data"].startswith("fl:s:"))
    api.interceptors.append(too_old)  # the bot was down: the press is 20 s old
    calls = await chat.press_data(submit["callback_data"])
    text = text_of(calls)
    assert "Thank you" in text and "FS-0001" in text and "went wrong" not in text
    assert await count(app, Proposal) == 1
    # An alert that can no longer be shown comes as a message.
    await chat.send("/propose")
    await chat.send("Berta")
    await chat.send("/cancel")
    calls = await chat.press("Yes, delete my request")
    assert "Request cancelled" in text_of(calls)
    calls = await chat.press_data("fl:b:organization")  # a button of the deleted draft
    assert any(c.method == "sendMessage" and "already sent or cancelled" in c.text for c in calls)


async def test_without_a_group_nobody_is_said_to_be_told(database_url: str) -> None:
    settings = make_settings(database_url, ORGANIZER_CHAT_ID="")
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = chat_for(app, api, user_id=90)
        text = text_of(await submit_request(chat))
        assert "is saved" in text and "list of requests" not in text
        await chat.send("/propose")
        await answer_until_review(chat, title="A second talk")
        await chat.press("Submit")
        await chat.send("/myproposals")
        calls = await chat.press("Withdraw FS-0002")
        assert "cannot be undone" in text_of(calls) and "told" not in text_of(calls)
        calls = await chat.press("Yes, withdraw it")
        assert "FS-0002</b> has been withdrawn" in text_of(calls)
        assert "organizers" not in text_of(calls)
        await chat.send("/forget")
        calls = await chat.press("Yes")
        text = text_of(calls)
        assert "FS-0001" in text and "withdrawn" in text
        assert "organizers are told" not in text
    # With a group they are told, and the speaker reads it.
    settings = make_settings(database_url)
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = chat_for(app, api, user_id=89)
        await submit_request(chat)
        await chat.send("/forget")
        calls = await chat.press("Yes")
        assert "organizers are told" in text_of(calls)
