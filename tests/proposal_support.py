"""Helpers for the speaking-slot tests (no tests here): a request answered step by step, its
draft and stored row, an organizer in the organizers' group."""

from __future__ import annotations

from sqlalchemy import func, select
from telegram.ext import Application

from bot.models import Proposal, ProposalDraft
from devtools.local_api import Call, LocalBotApi, LocalChat, buttons_of, sent_texts
from handlers.context import services_of
from tests.conftest import ORGANIZER_CHAT_ID, chat_for

TITLE = "Community broadband in rural villages"
SUMMARY = (
    "We connected forty rural villages with community broadband and trained local volunteers "
    "to run the network."
)


def text_of(calls: list[Call]) -> str:
    return "\n".join(sent_texts(calls))


async def answer_until_review(
    chat: LocalChat, *, name: str = "Ana Pérez", title: str = TITLE, spot: str = "first"
) -> list[Call]:
    """From the first question to the summary, pressing buttons by their callback data."""
    await chat.send(name)
    await chat.send("Ajuntament de Vic")
    await chat.press_data("fl:c:sector:government")
    await chat.send("ana@example.org")
    await chat.press_data("fl:c:format:short-talk")
    await chat.send(title)
    await chat.send(SUMMARY)
    await chat.press_data("fl:c:link:skip")
    calls = await chat.press_data("fl:c:consent:yes")
    if spot == "first":
        first = [b for b in calls[-1].buttons() if b["callback_data"].startswith("fl:c:spot:")]
        spot = first[0]["callback_data"].removeprefix("fl:c:spot:")
    return await chat.press_data(f"fl:c:spot:{spot}")


async def submit_request(chat: LocalChat, **answers: str) -> list[Call]:
    """/propose, answer everything, press Submit: the calls of the submission."""
    await chat.send("/propose")
    calls = await answer_until_review(chat, **answers)
    submit = next(b for b in calls[-1].buttons() if b["callback_data"].startswith("fl:s:"))
    return await chat.press_data(submit["callback_data"])


async def count(app: Application, model: type) -> int:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def last_button_labels(chat: LocalChat) -> list[str]:
    message = chat.last_bot_message(with_buttons=True)
    return [b["text"] for b in buttons_of(message)] if message else []


async def draft_of(app: Application, chat: LocalChat) -> ProposalDraft:  # type: ignore[type-arg]
    draft = await services_of(app).drafts.draft_of(chat.user_id)
    assert draft is not None
    return draft


def organizers_group(app: Application, api: LocalBotApi, user_id: int) -> LocalChat:  # type: ignore[type-arg]
    """Someone pressing buttons in the organizers' group."""
    return chat_for(app, api, user_id=user_id, chat_id=ORGANIZER_CHAT_ID, first_name="Olga")


async def stored(app: Application, proposal_id: int = 1) -> Proposal:  # type: ignore[type-arg]
    proposal = await services_of(app).requests.get(proposal_id)
    assert proposal is not None
    return proposal
