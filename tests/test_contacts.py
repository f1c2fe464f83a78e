"""Recording who talks to the bot without delaying the reply, and the kept copy of drafts.

A contact is answered from memory and written in a batch within a second; whatever reads
people (stats, a broadcast's audience, /forget, shutting down) writes the queue first. A
speaking-slot step re-attaches the draft this process saved last instead of reading it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from telegram.ext import Application

from bot.app import build_application, running
from bot.broadcasts import ALL
from bot.content.store import ContentStore
from bot.db import create_engine, session_factory
from bot.local_api import LocalBotApi, LocalRequest
from bot.models import ProposalDraft, User
from bot.proposals import InvalidAnswer, ProposalService
from bot.schema import ensure_schema
from bot.services import Services, services_of
from bot.settings import Settings
from bot.users import UserService
from tests.conftest import CONTENT_DIR, chat_for


async def stored_users(services: Services) -> dict[int, User]:
    async with services.sessions() as session:
        return {user.id: user for user in await session.scalars(select(User))}


async def test_the_reply_does_not_wait_for_the_first_contact_write(
    app: Application, api: LocalBotApi
) -> None:
    services = services_of(app)
    calls = await chat_for(app, api, 31, language_code="es").send("/start")
    assert calls, "the greeting was sent"
    assert await stored_users(services) == {}  # queued, not written yet
    await services.users.flush()
    stored = await stored_users(services)
    assert stored[31].telegram_language == "es" and stored[31].subscribed


async def test_queued_contacts_are_written_in_one_batch_within_the_delay(
    settings: Settings,
) -> None:
    engine = create_engine(settings.database_url)
    await ensure_schema(engine)
    sessions = session_factory(engine)
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda *args: statements.append(str(args[2]).split()[0].upper()),
    )
    users = UserService(sessions, flush_delay=0.05)
    try:
        for user_id in range(1, 51):
            assert users.contact(user_id, "ca") == "ca"
        assert statements == []
        await asyncio.sleep(0.3)
        assert statements == ["INSERT"]  # fifty people, one statement
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 50
    finally:
        await users.close()
        await engine.dispose()


async def test_what_reads_people_sees_the_queued_contacts(
    app: Application, api: LocalBotApi
) -> None:
    services = services_of(app)
    await chat_for(app, api, 41).send("/start")
    await chat_for(app, api, 42, language_code="es").send("hola")
    assert await services.broadcasts.count(ALL) == 2
    stats = await services.users.subscriber_stats()
    assert stats.active == 2 and stats.by_language["es"] == 1


async def test_forget_right_after_the_first_contact_leaves_no_row(
    app: Application, api: LocalBotApi
) -> None:
    person = chat_for(app, api, 51)
    await person.send("/forget")  # the first contact is still queued
    await person.press("Yes, forget me")
    await services_of(app).users.flush()
    assert 51 not in await stored_users(services_of(app))


async def test_shutting_down_writes_the_queued_contacts(settings: Settings) -> None:
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        await chat_for(app, api, 61, language_code="ca").send("/start")
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            user = await session.get(User, 61)
        assert user is not None and user.telegram_language == "ca"
    finally:
        await engine.dispose()


async def test_a_chosen_language_is_known_after_a_restart(settings: Settings) -> None:
    api = LocalBotApi()
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        await services_of(app).users.set_language(71, "ca")
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        # Telegram says English; the person chose Catalan before the restart.
        assert services_of(app).users.contact(71, "en") == "ca"


@dataclass
class Drafts:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    service: ProposalService


@pytest.fixture
async def drafts(settings: Settings) -> AsyncIterator[Drafts]:
    engine = create_engine(settings.database_url)
    await ensure_schema(engine)
    sessions = session_factory(engine)
    service = ProposalService(sessions, ContentStore(CONTENT_DIR))
    await service.load()  # as the bot does at start-up
    yield Drafts(engine, sessions, service)
    await engine.dispose()


async def test_a_step_writes_the_kept_draft_without_reading_it(drafts: Drafts) -> None:
    service = drafts.service
    statements: list[str] = []
    event.listen(
        drafts.engine.sync_engine,
        "before_cursor_execute",
        lambda *args: statements.append(str(args[2]).split()[0].upper()),
    )
    await service.open_draft(81)
    statements.clear()
    draft = await service.answer(81, "Ana García")
    assert statements == ["UPDATE"]
    assert draft.name == "Ana García" and draft.step == "organization"
    assert (await service.draft_of(81)) is draft  # from memory
    assert statements == ["UPDATE"]


async def test_a_failed_step_keeps_no_stale_copy(drafts: Drafts) -> None:
    service = drafts.service
    await service.open_draft(82)
    await service.answer(82, "Ana García")
    # Something else removes the row (this never happens in one process): the next step
    # fails instead of writing into nothing, and the draft is read again afterwards.
    async with drafts.sessions.begin() as session:
        await session.execute(delete(ProposalDraft).where(ProposalDraft.user_id == 82))
    with pytest.raises(StaleDataError):
        await service.answer(82, "Ajuntament de Vic")
    assert await service.draft_of(82) is None
    draft = await service.open_draft(82)
    assert draft.step == "name" and draft.name is None


async def test_a_refused_answer_keeps_the_draft(drafts: Drafts) -> None:
    service = drafts.service
    await service.open_draft(83)
    await service.answer(83, "Ana García")
    with pytest.raises(InvalidAnswer):
        await service.answer(83, "x")  # too short for an organization
    draft = await service.draft_of(83)
    assert draft is not None and draft.name == "Ana García" and draft.step == "organization"


async def test_a_question_from_someone_without_a_draft_runs_no_query(
    app: Application, api: LocalBotApi
) -> None:
    engine = services_of(app).engine
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    calls = await chat_for(app, api, 91).send("who are the partners?")
    assert "Partners" in calls[-1].text
    assert statements == []
