"""The whole features over real HTTP: a speaking-slot request and its decision, a broadcast,
and a restart in the middle of a conversation."""

from __future__ import annotations

import signal

from devtools.local_api import ApiError, Call, buttons_of
from tests.conftest import ADMIN_ID, ORGANIZER_CHAT_ID, ORGANIZER_ID
from tests.e2e.conftest import Launch, person
from tests.e2e.fake_bot_api import JSON, FakeBotApiServer, HttpChat
from tests.proposal_support import SUMMARY, TITLE, text_of


def button_starting(chat: HttpChat, prefix: str) -> str:
    """The callback data of the first button on the latest keyboard that starts with `prefix`."""
    message = chat.last_bot_message(with_buttons=True) or {}
    return next(
        b["callback_data"]
        for b in buttons_of(message)
        if b.get("callback_data", "").startswith(prefix)
    )


async def answer_the_rest(chat: HttpChat) -> list[Call]:
    """From the sector question to the summary of the request (buttons in any language)."""
    await chat.press_data("fl:c:sector:government")
    await chat.send("ana@example.org")
    await chat.press_data("fl:c:format:short-talk")
    await chat.send(TITLE)
    await chat.send(SUMMARY)
    await chat.press_data("fl:c:link:skip")
    await chat.press_data("fl:c:consent:yes")
    return await chat.press_data(button_starting(chat, "fl:c:spot:"))


async def test_a_speaking_slot_request_reaches_the_organizers_and_the_decision_comes_back(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    speaker = person(fake_api, 51, language_code="es")
    organizers = person(fake_api, ORGANIZER_ID, chat_id=ORGANIZER_CHAT_ID, first_name="Olga")

    submitted = await submit_over_http(fake_api, speaker)
    (card,) = fake_api.api.calls_to("sendMessage", ORGANIZER_CHAT_ID)
    await organizers.press("Accept")
    await organizers.press("Yes, accept")
    # The speaker's notice leaves through the outbox, right after the decision's commit.
    await fake_api.wait_for(lambda: notices_to(fake_api, 51), "the speaker's notice")

    assert "FS-0001" in submitted
    assert "FS-0001" in card.text and TITLE in card.text
    (told,) = notices_to(fake_api, 51)
    assert "aceptada" in told.text and "FS-0001" in told.text
    assert await bot.terminate() == 0


async def submit_over_http(fake_api: FakeBotApiServer, speaker: HttpChat) -> str:
    """A whole request, submitted; until its card reached the organizers (the outbox)."""
    await speaker.send("/propose")
    await speaker.send("Ana Pérez")
    await speaker.send("Ajuntament de Vic")
    await answer_the_rest(speaker)
    submitted = text_of(await speaker.press_data(button_starting(speaker, "fl:s:")))
    await fake_api.wait_for(
        lambda: fake_api.api.calls_to("sendMessage", ORGANIZER_CHAT_ID), "the organizers' card"
    )
    return submitted


def notices_to(fake_api: FakeBotApiServer, chat_id: int) -> list[Call]:
    return [c for c in fake_api.api.calls_to("sendMessage", chat_id) if "aceptada" in c.text]


async def test_a_kill_between_a_decisions_commit_and_its_notice_loses_nothing(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    speaker = person(fake_api, 51, language_code="es")
    organizers = person(fake_api, ORGANIZER_ID, chat_id=ORGANIZER_CHAT_ID, first_name="Olga")
    await submit_over_http(fake_api, speaker)
    # Telegram fails every message to the speaker (a 500) while the decision is taken...
    failing: list[int] = []

    def server_error(method: str, params: JSON) -> ApiError | None:
        if method == "sendMessage" and int(params["chat_id"]) == 51:
            failing.append(1)
            return ApiError(500, "Internal Server Error")
        return None

    fake_api.api.interceptors.append(server_error)
    await organizers.press("Accept")
    await organizers.press("Yes, accept")
    await fake_api.wait_for(lambda: failing, "the notice's first try")
    # ... and the worker is killed after the commit, before the notice got through.
    assert bot.process is not None
    bot.process.send_signal(signal.SIGKILL)
    await bot.process.wait()
    fake_api.api.interceptors.remove(server_error)

    await launch()
    await fake_api.wait_for(lambda: notices_to(fake_api, 51), "the notice, after the restart", 30)
    await fake_api.settle()
    assert len(notices_to(fake_api, 51)) == 1


async def test_sigterm_mid_conversation_then_the_restart_continues_it(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    bot = await launch()
    speaker = person(fake_api, 52)
    await speaker.send("/propose")
    await speaker.send("Ana Pérez")
    asked_sector = text_of(await speaker.send("Ajuntament de Vic"))
    assert "sector" in asked_sector
    assert await bot.terminate() == 0

    await launch()
    summary = text_of(await answer_the_rest(speaker))

    for part in ("Ana Pérez", "Ajuntament de Vic", "ana@example.org", TITLE):
        assert part in summary


async def test_an_admin_broadcast_reaches_every_subscriber(
    launch: Launch, fake_api: FakeBotApiServer
) -> None:
    await launch()
    attendees = [person(fake_api, user_id) for user_id in (61, 62)]
    admin = person(fake_api, ADMIN_ID)
    for attendee in attendees:
        await attendee.send("/start")
    announcement = "The keynote moves to room B at 10:00."

    await admin.send(f"/broadcast {announcement}")
    await admin.press("All subscribers")
    send = next(b for b in buttons_of(admin.last_bot_message(with_buttons=True) or {}))
    assert "Send" in send["text"]
    await admin.press("Send")
    await fake_api.wait_for(
        lambda: all(
            any(c.text == announcement for c in fake_api.api.calls_to("sendMessage", a.user_id))
            for a in attendees
        ),
        "the announcement to reach both attendees",
    )
