"""/privacy and /forget: after forgetting, no row anywhere holds the person's id."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import BigInteger, Integer, String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application

from bot.broadcasts import ALL
from bot.models import Base, Delivery, Proposal, ProposalDraft, User
from bot.models.broadcast import DeliveryStatus
from bot.privacy import PrivacyService
from bot.services import Services
from devtools.local_api import LocalBotApi, sent_texts
from handlers.context import services_of
from tests.conftest import ADMIN_ID, ORGANIZER_CHAT_ID, chat_for

PERSON = 987_654_321


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


# Rows about the bot's workers, never about people (a worker's name holds its pid and random
# hex, which may contain the digits of an id).
NOBODYS_TABLES = frozenset({"leases", "content_version"})


async def rows_naming(services: Services, value: int) -> list[str]:
    """Every (table.column) whose rows hold `value`, as a number or inside a text."""
    found = []
    async with services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in NOBODYS_TABLES:
                continue
            for column in table.columns:
                if isinstance(column.type, BigInteger | Integer):
                    condition = column == value
                elif isinstance(column.type, String | Text):
                    condition = column.contains(str(value))
                else:
                    continue
                count = await session.scalar(
                    select(func.count()).select_from(table).where(condition)
                )
                if count:
                    found.append(f"{table.name}.{column.name}")
    return found


async def test_privacy_note_in_three_languages(app: Application, api: LocalBotApi) -> None:
    languages = (("en", "numeric id"), ("es", "id numérico"), ("ca", "id numèric"))
    for user_id, (lang, words) in enumerate(languages, start=20):
        calls = await chat_for(app, api, user_id, language_code=lang).send("/privacy")
        text = sent_texts(calls)[0]
        assert words in text and "/forget" in text


async def test_forget_can_be_declined(app: Application, api: LocalBotApi) -> None:
    person = chat_for(app, api, PERSON)
    await person.send("/start")
    calls = await person.send("/forget")
    assert "cannot be undone" in sent_texts(calls)[0]
    calls = await person.press("Keep my data")
    assert "Nothing was deleted" in sent_texts(calls)[-1]
    assert await services_of(app).users.get(PERSON) is not None


async def test_forget_leaves_no_row_naming_the_person(app: Application, api: LocalBotApi) -> None:
    services = services_of(app)
    person = chat_for(app, api, PERSON)
    await person.send("/start")
    async with services.sessions.begin() as session:
        session.add(
            Proposal(
                user_id=PERSON,
                language="en",
                name="Ada",
                email="ada@example.org",
                sector="company",
                format_id="talk",
                title="Village broadband",
                summary="A long enough summary " * 3,
                state="submitted",
            )
        )
        session.add(ProposalDraft(user_id=PERSON, step="title"))
    # A broadcast reached them, so a delivery row names them too.
    await services.broadcasts.enqueue(admin_id=ADMIN_ID, text="Hello", audience=ALL, language="en")
    await asyncio.wait_for(app.bot_data.broadcast_sender.wait_idle(), timeout=20)
    assert "deliveries.user_id" in await rows_naming(services, PERSON)

    await person.send("/forget")
    calls = await person.press("Yes, forget me")
    texts = sent_texts([c for c in calls if c.chat_id == PERSON])
    assert "everything I stored about you is deleted" in texts[-1]
    assert "FS-0001" in texts[-1]
    notices = [c.text for c in api.calls_to("sendMessage", ORGANIZER_CHAT_ID)]
    assert any("FS-0001" in text and "withdrawn" in text for text in notices)
    assert await rows_naming(services, PERSON) == []
    async with services.sessions() as session:
        proposal = await session.scalar(select(Proposal))
    assert proposal is not None and proposal.state == "withdrawn" and proposal.email is None


async def test_an_admin_can_be_forgotten_too(app: Application, api: LocalBotApi) -> None:
    services = services_of(app)
    admin = chat_for(app, api, ADMIN_ID)
    await admin.send("/start")
    await chat_for(app, api, 1).send("/start")
    await admin.send("/broadcast Doors open at 9:00")
    await admin.press("All subscribers")
    await admin.press("Send to")
    await asyncio.wait_for(app.bot_data.broadcast_sender.wait_idle(), timeout=20)
    await admin.send("/forget")
    await admin.press("Yes, forget me")
    assert await rows_naming(services, ADMIN_ID) == []
    report = (await services.broadcasts.recent())[0]
    # The announcement's record stays, without their id (their own delivery still counted).
    assert report.total == 2 and report.delivered == 2


async def test_forget_button_outside_a_private_chat_does_nothing(
    app: Application, api: LocalBotApi
) -> None:
    await chat_for(app, api, PERSON).send("/start")
    group = chat_for(app, api, PERSON, chat_id=-4242)
    calls = await group.press_data("forget:yes")
    assert await services_of(app).users.get(PERSON) is not None
    assert any(c.method == "answerCallbackQuery" for c in calls)


async def test_forget_anonymizes_the_card_in_the_organizers_group(
    app: Application, api: LocalBotApi
) -> None:
    from tests.proposal_support import submit_request

    person = chat_for(app, api, PERSON)
    await submit_request(person)
    card = next(m for (chat, _), m in api.messages.items() if chat == ORGANIZER_CHAT_ID)
    assert "ana@example.org" in card["text"] and card.get("reply_markup")
    await person.send("/forget")
    await person.press("Yes, forget me")
    assert "ana@example.org" not in card["text"] and "Ana Pérez" not in card["text"]
    assert not card.get("reply_markup")  # no Accept / Decline on a withdrawn request


async def test_forget_keeps_the_broadcast_counts(app: Application, api: LocalBotApi) -> None:
    """The report and /stats say the same before and after someone is forgotten: their
    deliveries stay, counted, without their id."""
    services = services_of(app)
    admin = chat_for(app, api, ADMIN_ID)
    await admin.send("/start")
    person = chat_for(app, api, PERSON)
    await person.send("/start")
    await services.broadcasts.enqueue(admin_id=ADMIN_ID, text="Hello", audience=ALL, language="en")
    await asyncio.wait_for(app.bot_data.broadcast_sender.wait_idle(), timeout=20)
    report_before = sent_texts(await admin.send("/broadcasts"))[-1]
    stats_before = sent_texts(await admin.send("/stats"))[-1]
    assert "Delivered: 2" in report_before and "messages delivered: 2" in stats_before

    await person.send("/forget")
    await person.press("Yes, forget me")

    assert await rows_naming(services, PERSON) == []
    assert sent_texts(await admin.send("/broadcasts"))[-1] == report_before
    stats_after = sent_texts(await admin.send("/stats"))[-1]
    assert "messages delivered: 2" in stats_after


async def test_forget_drops_what_was_not_sent_yet_and_resends_nothing_to_nobody(
    app: Application, api: LocalBotApi
) -> None:
    """A delivery still queued for a forgotten person is dropped (and no longer counted in the
    total); one that failed stays counted, but "resend to the failed" finds nobody."""
    services = services_of(app)
    await chat_for(app, api, PERSON).send("/start")
    other = 555_000_111
    await chat_for(app, api, other).send("/start")
    sender = app.bot_data.broadcast_sender
    await sender.stop()  # nothing is sent: both deliveries stay queued
    queued = await services.broadcasts.enqueue(
        admin_id=ADMIN_ID, text="Hello", audience=ALL, language="en"
    )
    async with services.sessions.begin() as session:
        await session.execute(
            update(Delivery).where(Delivery.user_id == other).values(status=DeliveryStatus.FAILED)
        )
    await services.privacy.forget_everything(other)
    await services.privacy.forget_everything(PERSON)

    report = await services.broadcasts.report(queued.broadcast_id)
    assert report is not None and report.total == 1 and report.failed == 1
    assert await services.broadcasts.resend_failed(queued.broadcast_id) == 0
    assert await rows_naming(services, PERSON) == []
    assert await rows_naming(services, other) == []


async def test_a_failure_half_way_through_forget_erases_nothing(
    app: Application, api: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/forget is one transaction: the requests' part done, the person's part failing, the
    requests are still whole (no half-erased person), and the organizers are told nothing."""
    from tests.proposal_support import submit_request

    services = services_of(app)
    person = chat_for(app, api, PERSON)
    await submit_request(person)
    notices_before = len(api.calls_to("sendMessage", ORGANIZER_CHAT_ID))
    erase_person = PrivacyService._erase_person

    async def fails_after(self: PrivacyService, session: AsyncSession, user_id: int) -> None:
        await erase_person(self, session, user_id)  # everything written, then the crash
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PrivacyService, "_erase_person", fails_after)
    await person.send("/forget")
    calls = await person.press("Yes, forget me")
    assert "something went wrong" in " ".join(
        sent_texts([c for c in calls if c.chat_id == PERSON])
    )
    async with services.sessions() as session:
        proposal = await session.scalar(select(Proposal))
        user = await session.get(User, PERSON)
    assert proposal is not None and proposal.user_id == PERSON
    assert (proposal.state, proposal.email, proposal.forgotten_at) == (
        "submitted",
        "ana@example.org",
        None,
    )
    assert user is not None
    assert len(api.calls_to("sendMessage", ORGANIZER_CHAT_ID)) == notices_before

    monkeypatch.undo()  # the next /forget does it all
    await person.send("/forget")
    await person.press("Yes, forget me")
    assert await rows_naming(services, PERSON) == []
