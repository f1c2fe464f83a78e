"""Admins through the real Application: /broadcast end to end, refusals, /broadcasts, /stats,
/reload. The background sender the runtime started does the sending."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram.ext import Application

from bot.broadcast_sender import BroadcastSender
from bot.models import Broadcast, BroadcastDraft, Delivery, Proposal
from bot.services import Services
from bot.settings import Settings
from devtools.local_api import LocalBotApi, LocalChat, LocalRequest, sent_texts
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from tests.conftest import ADMIN_ID, CONTENT_DIR, chat_for, make_settings

ANNOUNCEMENT = "Panel 2 moves to room B <b>now</b> & coffee is served"
PEOPLE = {1: "en", 2: "en", 3: "es", 4: "ca"}


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def app(settings: Settings, api: LocalBotApi) -> AsyncIterator[Application]:
    """The bot, its sender showing progress at every step (no waiting for real seconds)."""
    application = build_application(settings, request=LocalRequest(api))
    application.bot_data.sender_options = {"progress_interval": 0.0}
    async with running(application):
        yield application


@pytest.fixture
async def admin(app: Application, api: LocalBotApi) -> LocalChat:
    chat = chat_for(app, api, ADMIN_ID)
    await chat.send("/start")
    return chat


async def people(app: Application, api: LocalBotApi) -> None:
    for user_id, lang in PEOPLE.items():
        await chat_for(app, api, user_id, language_code=lang).send("/start")


def sender_of(app: Application) -> BroadcastSender:
    sender = app.bot_data.broadcast_sender
    assert isinstance(sender, BroadcastSender)
    return sender


async def finished(app: Application) -> None:
    await asyncio.wait_for(sender_of(app).wait_idle(), timeout=20)


def announcements(api: LocalBotApi, text: str = ANNOUNCEMENT) -> Counter[int]:
    return Counter(c.chat_id for c in api.calls_to("sendMessage") if c.text == text)


async def count_rows(services: Services, model: type) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_compose_preview_confirm_reaches_every_subscriber_once(
    app: Application, api: LocalBotApi, admin: LocalChat
) -> None:
    await people(app, api)
    calls = await admin.send(f"/broadcast {ANNOUNCEMENT}")
    labels = [b["text"] for b in calls[-1].buttons()]
    assert "All subscribers (5)" in labels  # four attendees and the admin
    calls = await admin.press("All subscribers")
    previews = [c for c in calls if c.method == "sendMessage" and c.text == ANNOUNCEMENT]
    # The preview is the message itself, sent the way recipients get it: no HTML parsing.
    assert len(previews) == 1 and "parse_mode" not in previews[0].params
    assert "recipients: <b>5</b>" in calls[-1].text
    assert announcements(api) == Counter({ADMIN_ID: 1})  # nothing sent to anyone yet

    await admin.press("Send to 5")
    await finished(app)
    assert announcements(api) == Counter({1: 1, 2: 1, 3: 1, 4: 1, ADMIN_ID: 2})
    sent = [c for c in api.calls_to("sendMessage") if c.text == ANNOUNCEMENT]
    assert all("parse_mode" not in c.params for c in sent)
    (report,) = [m["text"] for m in admin.bot_messages() if "finished" in m.get("text", "")]
    assert "Delivered: 5" in report and "Failed: 0" in report
    edits = [c.text for c in api.calls_to("editMessageText", ADMIN_ID)]
    assert any("sending to" in text for text in edits)  # progress before the report

    calls = await admin.send("/broadcasts")
    assert "Panel 2 moves to room B" in calls[-1].text and "Delivered: 5" in calls[-1].text


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Spanish", {3}), ("Catalan", {4}), ("English", {1, 2, ADMIN_ID})],
)
async def test_audience_by_language(
    app: Application, api: LocalBotApi, admin: LocalChat, label: str, expected: set[int]
) -> None:
    await people(app, api)
    await admin.send("/broadcast Hola")
    await admin.press(label)
    await admin.press("Send to")
    await finished(app)
    preview = {ADMIN_ID: 1}
    assert announcements(api, "Hola") == Counter(preview) + Counter(dict.fromkeys(expected, 1))


async def test_audience_of_people_with_a_speaking_request(
    app: Application, api: LocalBotApi, admin: LocalChat
) -> None:
    await people(app, api)
    services = services_of(app)
    async with services.sessions.begin() as session:
        session.add(
            Proposal(
                user_id=2,
                language="en",
                sector="company",
                format_id="talk",
                title="Village broadband",
                summary="A long enough summary " * 3,
                state="submitted",
            )
        )
    await admin.send("/broadcast Speakers: rehearsal at 8:30")
    calls = await admin.press("speaking request")
    assert "recipients: <b>1</b>" in calls[-1].text
    await admin.press("Send to 1")
    await finished(app)
    assert announcements(api, "Speakers: rehearsal at 8:30") == Counter({2: 1, ADMIN_ID: 1})


async def test_text_asked_for_then_cancelled_sends_nothing(
    app: Application, api: LocalBotApi, admin: LocalChat
) -> None:
    await people(app, api)
    calls = await admin.send("/broadcast")
    assert "Send me the announcement" in sent_texts(calls)[0]
    calls = await admin.send("   ")
    calls = await admin.send("x" * 4097)
    assert "4097 characters" in sent_texts(calls)[0]
    calls = await admin.send(ANNOUNCEMENT)
    assert "Who should receive it?" in sent_texts(calls)[0]
    await admin.press("All subscribers")
    calls = await admin.press("Cancel")
    assert "nothing was sent" in sent_texts(calls)[-1]
    await finished(app)
    assert await count_rows(services_of(app), Broadcast) == 0
    # The next text is a question again, not an announcement.
    calls = await admin.send("Where is the venue?")
    assert await count_rows(services_of(app), Broadcast) == 0


async def test_confirm_pressed_twice_queues_once(
    app: Application, api: LocalBotApi, admin: LocalChat
) -> None:
    await people(app, api)
    await admin.send(f"/broadcast {ANNOUNCEMENT}")
    await admin.press("All subscribers")
    confirm = admin.last_bot_message(with_buttons=True)
    await admin.press_data("bc:send", confirm)
    calls = await admin.press_data("bc:send", confirm)
    assert any("already sent or cancelled" in text for text in sent_texts(calls))
    await finished(app)
    assert await count_rows(services_of(app), Broadcast) == 1
    assert announcements(api)[1] == 1


async def test_non_admins_are_refused_and_nothing_is_sent(
    app: Application, api: LocalBotApi, chat: LocalChat
) -> None:
    await people(app, api)
    for command in ("/broadcast Free beer!", "/broadcast", "/broadcasts", "/stats", "/reload"):
        calls = await chat.send(command)
        assert sent_texts(calls) == ["⛔ Sorry, that is only for the event's admins."]
    # Forged buttons: every press re-checks the presser's id.
    for data in ("bc:aud:all", "bc:send", "bc:cancel", "bc:audiences", "bc:resend:1"):
        calls = await chat.press_data(data)
        (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
        assert "only for the event's admins" in answer.params["text"]
        assert [c for c in calls if c.method != "answerCallbackQuery"] == []
    # Even a draft planted in their state is refused when their text arrives.
    async with services_of(app).sessions.begin() as session:
        session.add(BroadcastDraft(admin_id=1, awaiting_text=True, text="Free beer!"))
    calls = await chat.send("Free beer for everyone")
    assert "Who should receive it?" not in " ".join(sent_texts(calls))  # a question
    async with services_of(app).sessions.begin() as session:
        draft = await session.get(BroadcastDraft, 1)
        assert draft is not None
        draft.awaiting_text, draft.audience = False, "all"
    await chat.press_data("bc:send")
    await finished(app)
    assert await count_rows(services_of(app), Broadcast) == 0
    assert await count_rows(services_of(app), Delivery) == 0
    # And their ordinary questions are still answered.
    calls = await chat.send("When does it start?")
    assert "only for the event's admins" not in " ".join(sent_texts(calls))


async def test_forged_audience_is_rejected(
    app: Application, api: LocalBotApi, admin: LocalChat
) -> None:
    await admin.send(f"/broadcast {ANNOUNCEMENT}")
    calls = await admin.press_data("bc:aud:lang:fr")  # no such audience: not even routed here
    assert await count_rows(services_of(app), Broadcast) == 0
    calls = await admin.press_data("bc:send")  # no audience chosen yet
    assert "already sent or cancelled" in sent_texts(calls)[0]
    assert await count_rows(services_of(app), Broadcast) == 0


async def test_bot_keeps_answering_during_a_broadcast(
    settings: Settings, api: LocalBotApi
) -> None:
    application = build_application(settings, request=LocalRequest(api))
    async with running(application) as app:
        services = services_of(app)
        for user_id in range(1000, 1060):
            await services.users.contact(user_id, "en")
        admin = chat_for(app, api, ADMIN_ID)
        await admin.send(f"/broadcast {ANNOUNCEMENT}")
        await admin.press("All subscribers")
        await admin.press("Send to")
        calls = await chat_for(app, api, 1).send("/start")
        assert "Welcome" in sent_texts([c for c in calls if c.chat_id == 1])[0]
        async with services.sessions() as session:
            pending = await session.scalar(
                select(func.count()).where(Delivery.status == "pending")
            )
        assert pending  # the answer did not wait for the broadcast
    # Stopped between two sends: nothing is left half-done.
    api2 = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api2))) as app:
        services = services_of(app)
        async with services.sessions() as session:
            rows = await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            states = {status: count for status, count in rows}
        assert "sending" not in states and "unknown" not in states


async def test_stats(app: Application, api: LocalBotApi, admin: LocalChat) -> None:
    await people(app, api)
    await chat_for(app, api, 2).send("/stop")
    calls = await admin.send("/stats")
    text = calls[-1].text
    assert "4 active · 1 unsubscribed · 0 blocked" in text
    assert "English 2 · Spanish 1 · Catalan 1" in text  # in the admin's language
    assert "Speaking requests" in text and "Broadcasts</b>: 0" in text


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


async def test_reload_with_broken_content_keeps_the_old_one(
    database_url: str, content_copy: Path, api: LocalBotApi
) -> None:
    settings = make_settings(database_url, CONTENT_DIR=str(content_copy))
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        admin = chat_for(app, api, ADMIN_ID)
        before = services_of(app).content.content
        (content_copy / "programme.yaml").write_text(
            "sessions:\n  - id: <b>broken</b>\n    title: 12\n", encoding="utf-8"
        )
        calls = await admin.send("/reload")
        text = calls[-1].text
        assert "previous content stays in use" in text
        assert "programme.yaml" in text and "<b>broken" not in text  # errors escaped
        assert services_of(app).content.content is before
        calls = await chat_for(app, api, 1).send("/programme")
        assert before.sessions[0].title.get("en") in calls[-1].text

        shutil.copy(CONTENT_DIR / "programme.yaml", content_copy / "programme.yaml")
        calls = await admin.send("/reload")
        assert "Content reloaded" in calls[-1].text
        assert services_of(app).content.content is not before


async def test_views_show_the_reloaded_content(
    database_url: str, content_copy: Path, api: LocalBotApi
) -> None:
    settings = make_settings(database_url, CONTENT_DIR=str(content_copy))
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        old_title = services_of(app).content.content.sessions[0].title.get("en")
        person = chat_for(app, api, 1)
        assert old_title in (await person.send("/programme"))[-1].text  # built and kept
        programme = content_copy / "programme.yaml"
        programme.write_text(
            programme.read_text("utf-8").replace(old_title, "Renamed opening"), encoding="utf-8"
        )
        calls = await chat_for(app, api, ADMIN_ID).send("/reload")
        assert "Content reloaded" in calls[-1].text
        text = (await person.send("/programme"))[-1].text
        assert "Renamed opening" in text and old_title not in text


async def test_broadcasts_are_prepared_in_private_and_cancel_works(
    app: Application, api: LocalBotApi
) -> None:
    in_group = chat_for(app, api, ADMIN_ID, chat_id=-200)
    calls = await in_group.send("/broadcast")
    assert "private chat" in " ".join(sent_texts(calls))
    assert await in_group.send("lunch is ready") == []  # group chatter is never captured
    admin = chat_for(app, api, ADMIN_ID)
    await admin.send("/broadcast")
    calls = await admin.send("/cancel")
    assert "cancel" in " ".join(sent_texts(calls)).lower()
    calls = await admin.send("how many employees does lumen telecom have")
    assert "12,400" in " ".join(sent_texts(calls))  # a question again, not an announcement
