"""Live questions beyond one chat: votes pressed at the same moment count once, questions open
and close with the session's time, feedback requests go out when a session ends (once), and
the screen's JSON answers only to its key and never names an anonymous asker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from telegram.ext import Application

from bot.live import LiveRefused, LiveService
from bot.models import LiveVote, OutboxNotice
from devtools.local_api import LocalBotApi
from handlers.context import background_done, services_of
from handlers.webapp_http import add_web_app_routes
from tests.agenda_support import WallClock, agenda_app, agenda_settings, at, dated_content
from tests.conftest import ORGANIZER_ID, chat_for

PANEL = "panel-fibre"  # 09:30-10:30 on the dated copy of the content


async def approved_question(service: LiveService, user_id: int, text: str) -> int:
    await service.set_state(ORGANIZER_ID, PANEL, "open")
    await service.begin_question(user_id, PANEL)
    question = await service.ask(user_id, f"Person {user_id}", text)
    await service.moderate(ORGANIZER_ID, PANEL, question.id, "approve")
    return question.id


async def test_votes_pressed_at_once_count_once(app: Application) -> None:  # type: ignore[type-arg]
    service = services_of(app).live
    question_id = await approved_question(service, 1, "Who pays for rural fibre?")
    people = range(100, 160)
    # Everyone at once, and each of the first ten pressing twice at the same moment.
    presses = [service.vote(p, PANEL, question_id) for p in people]
    presses += [service.vote(p, PANEL, question_id) for p in people[:10]]
    outcomes = await asyncio.gather(*presses, return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    async with services_of(app).sessions() as session:
        rows = await session.scalar(
            select(func.count()).where(LiveVote.question_id == question_id)
        )
        distinct = await session.scalar(
            select(func.count(func.distinct(LiveVote.user_id))).where(
                LiveVote.question_id == question_id
            )
        )
    assert rows == distinct  # never a person twice
    assert 50 <= int(rows or 0) <= 60  # the double presses leave 0 or 1 each
    board = await service.board(PANEL, None, moderator=False)
    assert board.questions[0].votes == rows


async def test_questions_follow_the_sessions_time_and_feedback_follows_its_end(
    database_url: str, api: LocalBotApi, tmp_path: Path
) -> None:
    content = dated_content(tmp_path)
    clock = WallClock(at(8, 0))
    settings = agenda_settings(database_url, content)
    async with agenda_app(settings, api, clock) as app:
        service = services_of(app).live
        saver = chat_for(app, api, 2)
        await saver.press_data(f"ses:{PANEL}")
        await saver.press("Save")
        with pytest.raises(LiveRefused, match="closed"):
            await service.begin_question(1, PANEL)  # 08:00: not yet
        clock.now = at(9, 45)  # during the session: open by itself
        await service.begin_question(1, PANEL)
        await chat_for(app, api, 1).send("Is the rural plan funded?")
        assert (await service.board(PANEL, 1, moderator=True)).mine is not None
        ticker = app.bot_data.live_clock
        assert ticker is not None
        assert await ticker.tick() == 0  # not ended: nobody asked for feedback
        clock.now = at(10, 31)
        with pytest.raises(LiveRefused, match="closed"):
            await service.begin_question(3, PANEL)  # ended: closed by itself
        before = len(api.calls)
        assert await ticker.tick() == 2  # the one who saved it and the one who asked
        assert await ticker.tick() == 0  # once
        await background_done(app)
        # (A reminder of the saved session may leave too: the agenda's, not ours.)
        sent = [c for c in api.calls[before:] if c.method == "sendMessage" and "How was" in c.text]
        assert sorted(c.chat_id for c in sent) == [1, 2]
        assert all(len(c.buttons()) == 6 for c in sent)  # 1-5 stars and a comment
        async with services_of(app).sessions() as session:
            notices = await session.scalar(
                select(func.count()).where(OutboxNotice.kind == "live_feedback")
            )
        assert notices == 2


@pytest.fixture
async def client(app: Application) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    server = web.Application()
    add_web_app_routes(server, app)
    async with TestClient(TestServer(server)) as test_client:
        yield test_client


async def test_the_screen_answers_only_to_its_key_and_hides_anonymous_names(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
) -> None:
    service = services_of(app).live
    named = await approved_question(service, 1, "Named question <script>x</script>")
    await service.begin_question(2, PANEL)
    await service.toggle_anonymous(2)
    hidden_name = await service.ask(2, "Secret Name", "Anonymous question")
    await service.moderate(ORGANIZER_ID, PANEL, hidden_name.id, "approve")
    await service.vote(3, PANEL, hidden_name.id)
    await service.begin_question(4, PANEL)
    await service.ask(4, "Pending Person", "Not approved yet")
    with pytest.raises(LiveRefused, match="not_moderator"):
        await service.screen_key(5, PANEL)
    key = await service.screen_key(ORGANIZER_ID, PANEL)
    assert await service.screen_key(ORGANIZER_ID, PANEL) == key  # one per session

    for url in (f"/live/{PANEL}?key=wrong", f"/live/{PANEL}/questions", "/live/nope/questions"):
        response = await client.get(url)
        assert response.status == 403, url
    other_key = await service.screen_key(ORGANIZER_ID, "panel-libraries")
    assert (await client.get(f"/live/{PANEL}/questions?key={other_key}")).status == 403

    page = await client.get(f"/live/{PANEL}?key={key}&lang=ca")
    assert page.status == 200
    assert "Fibra al llarg de la vall" in await page.text()
    data = await (await client.get(f"/live/{PANEL}/questions?key={key}")).json()
    assert [(q["text"], q["name"], q["votes"]) for q in data["questions"]] == [
        ("Anonymous question", None, 1),
        ("Named question <script>x</script>", "Person 1", 0),
    ]
    assert "Secret Name" not in str(data) and "Pending Person" not in str(data)
    assert named in [q["id"] for q in data["questions"]]
