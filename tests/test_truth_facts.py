"""Answers about the date, venue, times and speakers follow the content's fields (in every
language), and check-content refuses a FAQ whose fixed text contradicts a field."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.content import ContentInvalid, load_content
from devtools.local_api import LocalBotApi, LocalChat, LocalRequest
from handlers.app import build_application
from handlers.runtime import running
from main import main
from tests.conftest import CONTENT_DIR, make_settings


def content_with(tmp_path: Path, *, date: str | None = None, venue: str | None = None) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    event = target / "event.yaml"
    text = event.read_text("utf-8")
    if date:
        text = text.replace("date: null", f"date: {date}")
    if venue:
        text = text.replace("venue: null", f'venue: "{venue}"')
    event.write_text(text, encoding="utf-8")
    return target


@asynccontextmanager
async def bot_on(database_url: str, content: Path, api: LocalBotApi) -> AsyncIterator[Application]:
    settings = make_settings(database_url, CONTENT_DIR=str(content))
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        yield app


async def reply(app: Application, api: LocalBotApi, text: str, lang: str = "en") -> str:
    person = LocalChat(app, api, user_id=501, language_code=lang)
    calls = await person.send(text)
    return calls[-1].text


QUESTIONS = {
    "en": ("when is the event?", "where is it held?"),
    "es": ("¿cuándo es el evento?", "¿dónde se celebra el evento?"),
    "ca": ("quan és l'esdeveniment?", "on se celebra l'esdeveniment?"),
}
NOT_ANNOUNCED = {"en": "not been announced", "es": "no se ha anunciado", "ca": "no s'ha anunciat"}


@pytest.mark.parametrize("lang", ["en", "es", "ca"])
async def test_date_and_venue_answers_follow_event_yaml(
    database_url: str, tmp_path: Path, api: LocalBotApi, lang: str
) -> None:
    content = content_with(tmp_path, date="2026-12-05", venue="Test Hall")
    when, where = QUESTIONS[lang]
    async with bot_on(database_url, content, api) as app:
        date_answer = await reply(app, api, when, lang)
        venue_answer = await reply(app, api, where, lang)
    assert "05/12/2026" in date_answer
    assert "Test Hall" in venue_answer
    for answer in (date_answer, venue_answer):
        assert NOT_ANNOUNCED[lang] not in answer


@pytest.mark.parametrize("lang", ["en", "es", "ca"])
async def test_without_a_date_the_answer_says_so_and_gives_the_days_hours(
    database_url: str, tmp_path: Path, api: LocalBotApi, lang: str
) -> None:
    async with bot_on(database_url, content_with(tmp_path), api) as app:
        date_answer = await reply(app, api, QUESTIONS[lang][0], lang)
        venue_answer = await reply(app, api, QUESTIONS[lang][1], lang)
    assert NOT_ANNOUNCED[lang] in date_answer and "09:00–18:00" in date_answer
    assert NOT_ANNOUNCED[lang] in venue_answer


async def test_speakers_come_from_the_sessions(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    content = content_with(tmp_path)
    programme = content / "programme.yaml"
    text = programme.read_text("utf-8")
    marker = "    speakers: []\n    topics: [fibre"
    assert marker in text
    programme.write_text(
        text.replace(marker, marker.replace("[]", '["Ada Lovelace"]'), 1), encoding="utf-8"
    )
    async with bot_on(database_url, content, api) as app:
        answer = await reply(app, api, "who are the speakers?")
    assert "Ada Lovelace" in answer and "Fibre along the valley" in answer
    assert "The speakers have not been announced yet" not in answer


@pytest.mark.parametrize(
    ("lang", "question", "expected"),
    [
        ("en", "what time does the lunch start", "13:00–14:00 (indicative)"),
        ("es", "a qué hora empieza la comida", "13:00–14:00 (orientativo)"),
        ("ca", "a quina hora comença el dinar", "13:00–14:00 (orientatiu)"),
        ("en", "when does it finish?", "17:45–18:00 (indicative) · Closing words"),
    ],
)
async def test_time_of_day_questions_get_the_programmes_times(
    database_url: str, tmp_path: Path, api: LocalBotApi, lang: str, question: str, expected: str
) -> None:
    async with bot_on(database_url, content_with(tmp_path), api) as app:
        answer = await reply(app, api, question, lang)
    assert expected in answer  # the date's answer gives only the day's span, 09:00–18:00


def stale_faq(content: Path) -> None:
    faq = content / "faq.yaml"
    text = faq.read_text("utf-8")
    faq.write_text(
        text.replace(
            "    answer_from: date\n",
            '    answer:\n      en: "The date has not been announced yet."\n',
            1,
        ),
        encoding="utf-8",
    )


def test_check_content_flags_a_faq_that_contradicts_the_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    content = content_with(tmp_path, date="2026-12-05")
    stale_faq(content)
    with pytest.raises(ContentInvalid) as caught:
        load_content(content)
    (error,) = caught.value.errors
    assert error.file == "faq.yaml" and error.key == "faq_contradicts_field"
    assert "event-when" in str(error) and "answer_from: date" in str(error)
    monkeypatch.setenv("CONTENT_DIR", str(content))
    assert main(["check-content"]) == 1
    assert "answer_from: date" in capsys.readouterr().err


def test_a_fixed_not_announced_answer_is_flagged_before_the_date_is_set(tmp_path: Path) -> None:
    content = content_with(tmp_path)
    stale_faq(content)
    with pytest.raises(ContentInvalid) as caught:
        load_content(content)
    assert [e.key for e in caught.value.errors] == ["faq_fixed_field"]


@pytest.mark.parametrize("question", ["is there lunch?", "what's on after lunch?"])
async def test_what_comes_after_lunch(
    database_url: str, tmp_path: Path, api: LocalBotApi, question: str
) -> None:
    async with bot_on(database_url, content_with(tmp_path), api) as app:
        answer = await reply(app, api, question)
    assert "14:00–15:00 (indicative) · Shared sensors for river levels" in answer
    assert "has not been announced" not in answer.split("\n")[0]


async def test_the_last_session_has_nothing_after_it(
    database_url: str, tmp_path: Path, api: LocalBotApi
) -> None:
    async with bot_on(database_url, content_with(tmp_path), api) as app:
        person = LocalChat(app, api, user_id=502)
        await person.send("/start")
        closing = (await person.press_data("ses:closing"))[-1].text
        coffee = (await person.press_data("ses:coffee-break"))[-1].text
    assert "Then:" not in closing
    assert "Then:" in coffee and "12:00–13:00 (indicative) · Skills for shopkeepers" in coffee
