"""The outbox: notices written with the change that causes them, rendered when they leave.

The outbox sender is paused to stand for a slow one (the card still on its way), then
resumed; what goes out must say what is true by then.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from telegram.ext import Application

from bot.models import OutboxNotice
from devtools.local_api import JSON, ApiError, LocalBotApi, LocalChat
from handlers.context import background_done, services_of
from handlers.transport import OutgoingRateLimiter
from tests.conftest import ORGANIZER_CHAT_ID, ORGANIZER_ID, chat_for
from tests.proposal_support import submit_request

NAME = "Ana Pérez-Quintana"
EMAIL = "ana@example.org"


async def resume(app: Application) -> None:  # type: ignore[type-arg]
    app.bot_data.start_outbox_sender()
    app.bot_data.outbox_sender.wake()
    await background_done(app)


def group_texts(api: LocalBotApi) -> list[str]:
    return [c.text for c in api.calls if c.chat_id == ORGANIZER_CHAT_ID and c.text]


async def test_forget_wins_over_a_card_still_on_its_way(
    app: Application, api: LocalBotApi
) -> None:
    await app.bot_data.stop_outbox_sender()
    person = chat_for(app, api, user_id=61)
    await submit_request(person, name=NAME)
    assert not api.calls_to("sendMessage", ORGANIZER_CHAT_ID)  # the card has not left yet
    await person.send("/forget")
    await person.press("Yes")
    await resume(app)
    texts = group_texts(api)
    assert texts, "the card and the notice still reach the organizers"
    assert not [t for t in texts if NAME in t or EMAIL in t]
    assert any("withdrawn" in t for t in texts)


async def test_a_decision_taken_before_the_card_arrives_shows_on_it(
    app: Application, api: LocalBotApi
) -> None:
    await app.bot_data.stop_outbox_sender()
    await submit_request(chat_for(app, api, user_id=62, language_code="es"))
    await services_of(app).reviews.decide(1, ORGANIZER_ID, "Olga", accept=False)
    await resume(app)
    (card,) = api.calls_to("sendMessage", ORGANIZER_CHAT_ID)
    assert "declined" in card.text
    assert not [b for b in card.buttons() if b["text"].startswith(("✅", "❌"))]
    assert any("no ha podido incluirla" in c.text for c in api.calls_to("sendMessage", 62))


async def test_an_undo_before_the_speaker_is_told_tells_them_nothing(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=63))
    await app.bot_data.stop_outbox_sender()
    proposals = services_of(app).reviews
    await proposals.decide(1, ORGANIZER_ID, "Olga", accept=True)
    await proposals.undo(1, ORGANIZER_ID, "Olga")
    before = len(api.calls_to("sendMessage", 63))
    await resume(app)
    assert len(api.calls_to("sendMessage", 63)) == before  # neither notice nor correction


async def test_a_server_error_is_retried_until_the_notice_arrives(
    app: Application, api: LocalBotApi
) -> None:
    failures: list[int] = []

    def bad_gateway_for_the_group(method: str, params: JSON) -> ApiError | None:
        to_group = method == "sendMessage" and int(params["chat_id"]) == ORGANIZER_CHAT_ID
        if to_group and len(failures) < 2:  # the outbox retries, rendering the card again
            failures.append(1)
            return ApiError(502, "Bad Gateway")
        return None

    api.interceptors.append(bad_gateway_for_the_group)
    await submit_request(chat_for(app, api, user_id=64))
    async with services_of(app).sessions() as session:
        row = (await session.scalars(select(OutboxNotice))).one()
    assert row.status == "pending" and row.not_before is not None  # waiting to try again
    for _ in range(100):
        if api.calls_to("sendMessage", ORGANIZER_CHAT_ID):
            break
        await asyncio.sleep(0.1)
    assert len(api.calls_to("sendMessage", ORGANIZER_CHAT_ID)) == 1


async def test_the_notices_of_one_request_leave_in_order(
    app: Application, api: LocalBotApi
) -> None:
    """Card first, then its edit: notices of one request leave one at a time, in order."""
    await app.bot_data.stop_outbox_sender()
    await submit_request(LocalChat(app, api, user_id=65))
    proposals = services_of(app).reviews
    await proposals.decide(1, ORGANIZER_ID, "Olga", accept=True)
    await resume(app)
    methods = [c.method for c in api.calls if c.chat_id == ORGANIZER_CHAT_ID]
    assert methods[0] == "sendMessage"
    assert methods.count("sendMessage") == 1  # posted once, then edited (or already right)


async def test_a_card_retried_after_forget_is_rendered_again_not_resent_as_it_was(
    app: Application, api: LocalBotApi
) -> None:
    """The card's first send meets a 500; the person's /forget is committed before it is tried
    again: what reaches the organizers never names them (no quick retry of the old text)."""
    await app.bot_data.stop_outbox_sender()
    person = chat_for(app, api, user_id=66)
    await submit_request(person, name=NAME)
    failed = asyncio.Event()
    forgotten = asyncio.Event()

    def fail_until_forgotten(method: str, params: JSON) -> ApiError | None:
        to_group = (
            params.get("chat_id") is not None and int(params["chat_id"]) == ORGANIZER_CHAT_ID
        )
        if to_group and not forgotten.is_set():
            failed.set()
            return ApiError(500, "Internal Server Error")
        return None

    api.interceptors.append(fail_until_forgotten)
    app.bot_data.start_outbox_sender()
    app.bot_data.outbox_sender.wake()
    await asyncio.wait_for(failed.wait(), 10)
    services = services_of(app)
    await services.privacy.forget_everything(66)
    forgotten.set()
    for _ in range(100):
        if any("withdrawn" in text for text in group_texts(api)):
            break
        await asyncio.sleep(0.1)
    texts = group_texts(api)
    assert texts and not [text for text in texts if NAME in text or EMAIL in text]


class Blip:
    """The outbox's sessions, through a database that refuses the next `refused` sessions."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.refused = 0

    def _check(self) -> None:
        if self.refused > 0:
            self.refused -= 1
            raise OperationalError("connect", {}, ConnectionRefusedError("connection refused"))

    def __call__(self) -> Any:
        self._check()
        return self.sessions()

    def begin(self) -> Any:
        self._check()
        return self.sessions.begin()


async def test_a_notice_mid_retry_when_the_database_blips_still_arrives(
    app: Application, api: LocalBotApi
) -> None:
    """The speaker's notice meets a 500, and the database is away when its retry is being
    written: the row must not stay "sending" under this live worker's name for good."""
    await submit_request(chat_for(app, api, user_id=67))
    sender = app.bot_data.outbox_sender
    blip = Blip(sender.outbox._sessions)
    sender.outbox._sessions = blip
    failed: list[int] = []

    def fail_once_then_blip(method: str, params: JSON) -> ApiError | None:
        if method == "sendMessage" and int(params["chat_id"]) == 67 and not failed:
            failed.append(1)
            blip.refused = 2  # the retry's write, and the next look at the outbox
            return ApiError(500, "Internal Server Error")
        return None

    before = len(api.calls_to("sendMessage", 67))
    api.interceptors.append(fail_once_then_blip)
    await services_of(app).reviews.decide(1, ORGANIZER_ID, "Olga", accept=True)
    sender.wake()
    for _ in range(150):
        async with services_of(app).sessions() as session:
            statuses = list(await session.scalars(select(OutboxNotice.status)))
        if len(api.calls_to("sendMessage", 67)) > before and set(statuses) == {"sent"}:
            break
        await asyncio.sleep(0.1)
    assert failed and len(api.calls_to("sendMessage", 67)) == before + 1
    assert set(statuses) == {"sent"}  # nothing left "sending" under a live worker's name


async def test_a_reply_that_still_fails_after_its_retries_is_kept_and_sent_later(
    app: Application, api: LocalBotApi
) -> None:
    """A reply meets HTTP 500 on every quick retry: it is kept in the outbox (not only logged)
    and goes out, once, when Telegram answers again, after the outbox's back-off."""
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, OutgoingRateLimiter)

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    limiter._sleep = no_wait  # the quick retries' pauses: not what is tested here
    down = True
    failed: list[str] = []

    def server_down_for_the_person(method: str, params: JSON) -> ApiError | None:
        if down and method == "sendMessage" and int(params["chat_id"]) == 69:
            failed.append(str(params.get("text")))
            return ApiError(500, "Internal Server Error")
        return None

    api.interceptors.append(server_down_for_the_person)
    await chat_for(app, api, user_id=69).send("/start")
    assert len(failed) >= 5  # the reply's four tries and the outbox's first
    async with services_of(app).sessions() as session:
        (kept,) = (await session.scalars(select(OutboxNotice))).all()
    assert kept.kind == "reply" and kept.status == "pending" and kept.not_before is not None
    assert not api.calls_to("sendMessage", 69)
    down = False
    for _ in range(100):
        async with services_of(app).sessions() as session:
            (row,) = (await session.scalars(select(OutboxNotice))).all()
        if row.status == "sent":
            break
        await asyncio.sleep(0.1)
    (delivered,) = api.calls_to("sendMessage", 69)
    assert delivered.text == failed[0]  # the reply as it was rendered
    assert delivered.buttons() and delivered.params.get("parse_mode") == "HTML"
    assert row.status == "sent" and row.values is None  # its text is not kept once sent


async def outbox_rows(app: Application) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        rows = await session.execute(
            select(OutboxNotice.kind, OutboxNotice.status).order_by(OutboxNotice.id)
        )
        return [(kind, status) for kind, status in rows]


async def test_a_message_to_the_speaker_is_a_notice_of_the_outbox(
    app: Application, api: LocalBotApi
) -> None:
    """Written as a row when the organizer sends it: a worker dying right after still
    delivers it (here: the sender is stopped, then started again)."""
    await submit_request(chat_for(app, api, user_id=70))
    organizer = chat_for(app, api, user_id=ORGANIZER_ID)
    await organizer.send("/proposals")
    await organizer.press("submitted (1)")
    await organizer.press("FS-0001")
    await organizer.press("Message the speaker")
    await app.bot_data.stop_outbox_sender()
    before = len(api.calls_to("sendMessage", 70))
    calls = await organizer.send("Could you send us a slide or two before Friday?")
    assert "Sent to the speaker of <b>FS-0001</b>" in " ".join(c.text or "" for c in calls)
    assert len(api.calls_to("sendMessage", 70)) == before
    assert (await outbox_rows(app))[-1] == ("speaker", "pending")
    await resume(app)
    relayed = api.calls_to("sendMessage", 70)[before:]
    assert [c for c in relayed if "slide or two" in c.text and "From the organizers" in c.text]


async def test_a_card_found_out_of_date_is_refreshed_through_the_outbox(
    app: Application, api: LocalBotApi
) -> None:
    await submit_request(chat_for(app, api, user_id=71))
    group = chat_for(app, api, user_id=ORGANIZER_ID, chat_id=ORGANIZER_CHAT_ID)
    card = group.last_bot_message(with_buttons=True)
    await services_of(app).reviews.decide(1, ORGANIZER_ID + 1, "Pau", accept=False)
    await background_done(app)
    await app.bot_data.stop_outbox_sender()
    sent = len(await outbox_rows(app))
    calls = await group.press_data("pr:ay:1", card)  # the card still offers Accept
    assert "already declined" in " ".join(c.text or "" for c in calls if c.text)
    assert not [
        c for c in calls if c.method == "editMessageText" and c.chat_id == ORGANIZER_CHAT_ID
    ]
    assert (await outbox_rows(app))[sent:] == [("card", "pending")]
    await resume(app)
    assert (await outbox_rows(app))[sent:] == [("card", "sent")]
