"""The bot states only what the source says: drafted times are marked wherever they show, no
invented hosts, partner cards in the bot's own voice with "More about", figures as given."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.answers import Nav
from bot.content import Content
from devtools.local_api import Call, LocalBotApi, LocalChat, LocalRequest, buttons_of, sent_texts
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from tests.conftest import CONTENT_DIR, chat_for, make_settings

CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
# What says "this time is a draft" in each language: the marker, or the list's draft note.
DRAFT_WORDS = {
    "en": ("(indicative)", "Draft programme"),
    "es": ("(orientativo)", "Programa provisional"),
    "ca": ("(orientatiu)", "Programa provisional"),
}
QUESTIONS = {
    "en": ["is there lunch?", "when is the North School side event", "coffee break", "closing"],
    "es": ["¿hay almuerzo?", "¿cuándo es el acto paralelo de North School?", "pausa café"],
    "ca": ["hi ha dinar?", "quan és l'acte paral·lel de North School?", "pausa cafè"],
}


def content_of(app: Application) -> Content:  # type: ignore[type-arg]
    return services_of(app).content.content


def shown(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method in {"sendMessage", "editMessageText"}]


def every_press(content: Content) -> list[str]:
    """Callback data of every view of the content: lists, cards, answers, "More about"."""
    data = ["prog:0", "prog:1", "side:0", "orgs:partner:0", "orgs:side_event_organizer:0"]
    data += [f"ses:{s.id}" for s in content.sessions]
    data += [f"ans:session:{s.id}" for s in content.sessions]
    data += [f"org:{o.id}" for o in content.organizations]
    data += [f"orgm:{o.id}" for o in content.organizations]
    data += [f"ans:faq:{f.id}" for f in content.faqs]
    data += [f"ans:nav:{n.value}" for n in Nav]
    return data


def assert_marked(call: Call, lang: str, where: str) -> None:
    labels = " ".join(b["text"] for b in call.buttons())
    if CLOCK.search(call.text) or CLOCK.search(labels):
        assert any(word in call.text for word in DRAFT_WORDS[lang]), (where, call.text)


@pytest.mark.parametrize("lang", ["en", "es", "ca"])
async def test_every_view_showing_a_time_says_it_is_indicative(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
    lang: str,
) -> None:
    content = content_of(app)
    assert content.draft
    chat = chat_for(app, api, user_id=70 + len(lang), language_code=lang)
    await chat.send("/start")
    seen_times = 0
    for data in every_press(content):
        for call in shown(await chat.press_data(data)):
            assert_marked(call, lang, data)
            seen_times += bool(CLOCK.search(call.text))
    for command in ("/programme", "/partners"):
        for call in shown(await chat.send(command)):
            assert_marked(call, lang, command)
    for question in QUESTIONS[lang]:
        calls = shown(await chat.send(question))
        assert calls, question
        for call in calls:
            assert_marked(call, lang, question)
            seen_times += bool(CLOCK.search(call.text))
    assert seen_times > len(content.sessions)  # the check above did look at times


async def test_session_card_marks_its_time(app: Application, api: LocalBotApi) -> None:  # type: ignore[type-arg]
    chat = chat_for(app, api)
    calls = await chat.send("is there lunch?")
    card = shown(calls)[-1].text
    assert "🕘 13:00–14:00 (indicative)" in card
    oasc = await chat.press_data("org:otn")
    assert "🕘 14:00–15:00 (indicative) · Shared sensors" in shown(oasc)[-1].text


@pytest.fixture
async def final_app(tmp_path: Path) -> AsyncIterator[tuple[Application, LocalBotApi]]:  # type: ignore[type-arg]
    """The same content with the programme confirmed (`draft: false`)."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, folder)
    programme = folder / "programme.yaml"
    programme.write_text(
        programme.read_text(encoding="utf-8").replace("draft: true", "draft: false"),
        encoding="utf-8",
    )
    api = LocalBotApi()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'final.sqlite3'}", CONTENT_DIR=str(folder)
    )
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        yield app, api


async def test_a_confirmed_programme_shows_plain_times(
    final_app: tuple[Application, LocalBotApi],  # type: ignore[type-arg]
) -> None:
    app, api = final_app
    content = content_of(app)
    assert not content.draft
    chat = LocalChat(app, api)
    for data in every_press(content):
        for call in shown(await chat.press_data(data)):
            for words in DRAFT_WORDS.values():
                assert not any(word in call.text for word in words), (data, call.text)
    card = shown(await chat.press_data("ses:river-lunch"))[-1].text
    assert "🕘 13:00–14:00 · " in card


async def test_no_invented_hosts(app: Application, api: LocalBotApi) -> None:  # type: ignore[type-arg]
    content = content_of(app)
    chat = chat_for(app, api)
    for session in content.sessions:
        card = shown(await chat.press_data(f"ses:{session.id}"))[-1]
        assert "Hosted by" not in card.text
        if session.kind.value != "side_event":
            assert session.host is None, session.id  # the source names no host for a panel
            assert "🏢" not in card.text and not any("About" in b["text"] for b in card.buttons())
        else:
            # The source lists the side events' organizers: those, and only those, organize.
            host = content.organization(session.host or "")
            assert host is not None and host.role.value == "side_event_organizer"
            assert f"Organized by {host.name}" in card.text


@pytest.mark.parametrize(
    ("org_id", "card_facts", "more_facts"),
    [
        ("lumen", ["1999", "12,400", "41 countries"], ["one week a year"]),
        ("river-council", ["11 towns", "86,000"], ["1962"]),
    ],
)
async def test_partner_card_is_short_then_more_about(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
    org_id: str,
    card_facts: list[str],
    more_facts: list[str],
) -> None:
    org = content_of(app).organization(org_id)
    assert org is not None
    chat = chat_for(app, api)
    card = shown(await chat.press_data(f"org:{org_id}"))[-1]
    body = card.text.split("\n\n", 1)[1].split("\n\n<b>In the programme")[0]
    assert len(body) <= 330 and body.count(". ") <= 2, body  # two or three lines of facts
    for fact in card_facts:
        assert fact in card.text, fact  # figures exactly as the content gives them
    labels = [b["text"] for b in card.buttons()]
    assert f"📖 More about {org.name}" in labels
    assert any(b.get("url") == org.more_info_url for b in card.buttons())
    more = shown(await chat.press(f"More about {org.name}"))[-1]
    for fact in more_facts:
        assert fact in more.text, fact
    back = shown(await chat.press(f"Back to {org.name}"))[-1]
    assert back.text == card.text


async def test_more_about_in_spanish_and_catalan(app: Application, api: LocalBotApi) -> None:  # type: ignore[type-arg]
    spanish = chat_for(app, api, user_id=81, language_code="es")
    card = shown(await spanish.press_data("org:lumen"))[-1]
    assert "12.400 empleados" in card.text
    more = shown(await spanish.press("Más sobre Lumen Telecom"))[-1]
    assert "sin coste" in more.text
    catalan = chat_for(app, api, user_id=82, language_code="ca")
    await catalan.press_data("org:river-council")
    more = shown(await catalan.press("Més sobre"))[-1]
    assert "el 1962" in more.text


async def test_a_short_description_has_no_more_button(app: Application, api: LocalBotApi) -> None:  # type: ignore[type-arg]
    chat = chat_for(app, api)
    card = shown(await chat.press_data("org:north-school"))[-1]
    assert "North School" in card.text
    assert not any("More about" in b["text"] for b in card.buttons())
    # A forged "More about" for an unknown id falls back to the menu.
    calls = await chat.press_data("orgm:nobody")
    assert any("no longer valid" in str(c.params.get("text", "")) for c in calls)


async def test_did_you_mean_buttons_show_no_bare_times(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    chat = chat_for(app, api)
    for question in ("panel", "break", "side event", "session"):
        await chat.send(question)
        message = chat.last_bot_message(with_buttons=True)
        assert message is not None
        for button in buttons_of(message):
            if button.get("callback_data", "").startswith("ans:"):
                assert not CLOCK.search(button["text"]), button["text"]


async def test_topic_tags_are_shown_in_the_persons_language(
    app: Application, api: LocalBotApi
) -> None:
    chat = chat_for(app, api, user_id=77, language_code="es")
    calls = await chat.press_data("ses:river-lunch")
    text = " ".join(sent_texts(calls))
    assert "almuerzo, pausa, networking" in text and "lunch" not in text.lower().split("temas")[-1]
