"""The buttons: every kind declared in handlers/callbacks.py builds data its own pattern reads
back within Telegram's 64 bytes, reaches its own handler, and is registered; a forged press
gets the friendly answer and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from telegram.ext import Application, CallbackQueryHandler

from bot.models import Proposal
from devtools.local_api import LocalBotApi, LocalChat
from handlers import callbacks
from handlers.app import build_application
from handlers.callbacks import MAX_BYTES, Button
from handlers.context import services_of
from tests.conftest import chat_for, make_settings

KINDS: dict[str, Button] = {
    name: value for name, value in vars(callbacks).items() if isinstance(value, Button)
}
SLUG = "a" * 32
# The longest values each kind allows: a kind added to callbacks.py must be given its own.
LONGEST: dict[str, tuple[object, ...]] = {
    "MENU": (),
    "LANGUAGES": (),
    "LANGUAGE": ("ca",),
    "PROGRAMME": (999,),
    "SIDE_EVENTS": (999,),
    "ORGANIZATIONS": ("side_event_organizer", 999),
    "SESSION": (SLUG,),
    "ORGANIZATION": (SLUG,),
    "ORGANIZATION_MORE": (SLUG,),
    "ASK": (),
    "ANSWER": ("session:" + "a" * 32,),
    "AGENDA": (),
    "NOW": (),
    "NOW_ANSWER": (),
    "SETTINGS": (),
    "REMINDERS": (),
    "REMINDER": (30,),
    "SAVE": (SLUG,),
    "ICS": (SLUG,),
    "NOTICE": ("send", 999_999_999),
    "BROADCAST_AUDIENCE": ("speakers",),
    "BROADCAST_AUDIENCES": (),
    "BROADCAST_SEND": (),
    "BROADCAST_CANCEL": (),
    "BROADCAST_RESEND": (999_999_999,),
    "UPDATES": (),
    "SUBSCRIBE": ("off",),
    "FORGET": ("yes",),
    "DECIDE": ("dr", 9_999_999_999),
    "PROPOSALS": (),
    "PROPOSALS_IN_STATE": ("withdrawn",),
    "PROPOSAL": (9_999_999_999,),
    "MY_PROPOSALS": (),
    "WITHDRAW_ASK": (9_999_999_999,),
    "WITHDRAW": (9_999_999_999,),
    "PROPOSE_START": (),
    "STEP_CHOICE": ("organization", "a" * 32),
    "STEP_BACK": ("a" * 16,),
    "STEP_EDIT": ("a" * 16,),
    "PROPOSE_SUBMIT": (9_999_999_999,),
    "PROPOSE_CANCEL": (),
    "PROPOSE_CANCEL_ANSWER": ("n", 9_999_999_999),
    "LIVE_ROOM": (SLUG,),
    "LIVE_ASK": (SLUG,),
    "LIVE_ANONYMOUS": (),
    "LIVE_CANCEL": (),
    "LIVE_VOTE": (SLUG, 9_999_999_999),
    "LIVE_MODERATE": (SLUG,),
    "LIVE_SESSIONS": (),
    "LIVE_ACTION": ("pn", SLUG, 9_999_999_999),
    "LIVE_NO_REASON": (),
    "LIVE_STATE": ("closed", SLUG),
    "LIVE_SCREEN": (SLUG,),
    "LIVE_RATE": (SLUG, 5),
    "LIVE_COMMENT": (SLUG,),
}
# Data a real button never carries: no pattern of any kind lets it through.
FORGED = (
    "prog:9999",
    "prog:-1",
    "orgs:bogus:0",
    "ses:Not_A_Slug",
    "ses:" + "a" * 33,
    "lang:xyz",
    "rem:99",
    "ics:@everyone",
    "ntc:send:abc",
    "bc:aud:lang:fr",
    "bc:resend:1234567890",
    "fl:c:NAME:x",
    "fl:x:maybe:1",
    "fl:s:12345678901",
    "sub:maybe",
    "forget:perhaps",
    "pr:x:1",
    "pr:a:1; DROP TABLE proposals",
    "pr:l:pending",
    "menu:1",
    "ans:user:1",
    "lvv:panel-connectivity:12345678901",
    "lva:delete:panel-connectivity:1",
    "lvf:panel-connectivity:6",
    "lvo:reopen:panel-connectivity",
)


def test_every_kind_has_its_longest_values() -> None:
    assert set(LONGEST) == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_data_matches_its_own_pattern_within_64_bytes(name: str) -> None:
    kind, values = KINDS[name], LONGEST[name]
    data = kind.data(*values)
    assert len(data.encode()) <= MAX_BYTES, data
    match = kind.pattern.match(data)
    assert match is not None, data
    assert match.groups() == tuple(str(value) for value in values)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_no_other_kind_reads_its_data(name: str) -> None:
    data = KINDS[name].data(*LONGEST[name])
    readers = {other for other, kind in KINDS.items() if kind.pattern.match(data)}
    # "Now and next" among the "did you mean" answers is routed before the others.
    expected = {name, "ANSWER"} if name == "NOW_ANSWER" else {name}
    assert readers == expected


def test_the_data_of_existing_buttons_is_unchanged() -> None:
    """Buttons sent long ago in people's chats must keep working."""
    assert callbacks.PROGRAMME.data(2) == "prog:2"
    assert callbacks.ORGANIZATIONS.data("partner", 0) == "orgs:partner:0"
    assert callbacks.ANSWER.data("nav:now") == callbacks.NOW_ANSWER.data() == "ans:nav:now"
    assert callbacks.ICS.data(callbacks.ICS_AGENDA) == "ics:@agenda"
    assert callbacks.BROADCAST_AUDIENCE.data("lang:es") == "bc:aud:lang:es"
    assert callbacks.UPDATES.data() == "sub:menu"
    assert callbacks.DECIDE.data("ay", 7) == "pr:ay:7"
    assert callbacks.PROPOSALS_IN_STATE.data("submitted") == "pr:l:submitted"


def test_a_builder_refuses_the_wrong_number_of_values() -> None:
    with pytest.raises(TypeError):
        callbacks.SESSION.data()
    with pytest.raises(TypeError):
        callbacks.MENU.data("extra")


@pytest.mark.parametrize("data", FORGED)
def test_forged_data_matches_no_kind(data: str) -> None:
    assert [name for name, kind in KINDS.items() if kind.pattern.match(data)] == []


@pytest.fixture(scope="module")
def button_handlers(tmp_path_factory: pytest.TempPathFactory) -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    """The application's button handlers with a pattern, in the order they are tried."""
    database = tmp_path_factory.mktemp("callbacks") / "bot.sqlite3"
    application = build_application(make_settings(f"sqlite+aiosqlite:///{database}"))
    return [
        handler
        for group in sorted(application.handlers)
        for handler in application.handlers[group]
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern)
    ]


def test_every_kind_is_registered_and_every_pattern_is_a_kind(
    button_handlers: list[CallbackQueryHandler],  # type: ignore[type-arg]
) -> None:
    registered = [handler.pattern.pattern for handler in button_handlers]  # type: ignore[union-attr]
    kinds = {kind.pattern.pattern for kind in KINDS.values()}
    assert kinds <= set(registered), kinds - set(registered)
    assert set(registered) <= kinds
    assert len(registered) == len(set(registered))  # each kind has one handler


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_reaches_its_own_handler(
    name: str,
    button_handlers: list[CallbackQueryHandler],  # type: ignore[type-arg]
) -> None:
    """The first handler whose pattern matches the data is the one registered for the kind
    (the order of registration matters where patterns overlap: "ans:nav:now")."""
    data = KINDS[name].data(*LONGEST[name])
    first = next(h for h in button_handlers if h.pattern.match(data))  # type: ignore[union-attr]
    assert first.pattern == KINDS[name].pattern


async def test_forged_buttons_get_the_friendly_answer_and_change_nothing(
    chat: LocalChat,
) -> None:
    await chat.send("/start")
    menu = chat.last_bot_message(with_buttons=True)
    assert menu is not None
    for data in ("prog:9999", "orgs:bogus:0", "rem:99", "bc:aud:lang:fr", "pr:l:pending"):
        calls = await chat.press_data(data, menu)
        (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
        assert "no longer valid" in answer.params["text"], data
        assert [c for c in calls if c.method.startswith("edit")] == [], data


FRIENDLY_REFUSALS = ("only for the event's organizers", "can't find that request")


async def test_a_decision_forged_on_a_missing_request_by_a_stranger_is_refused(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    stranger = chat_for(app, api, user_id=71)
    for data in ("pr:ay:999", "pr:dy:12345", "pr:o:999", "pr:wy:999"):
        calls = await stranger.press_data(data)
        (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answer.params.get("show_alert"), data
        assert any(words in answer.params["text"] for words in FRIENDLY_REFUSALS), data
        assert [c.method for c in calls] == ["answerCallbackQuery"], data
    async with services_of(app).sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Proposal)) == 0
