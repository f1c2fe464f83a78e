"""The claim queue (bot/claims.py) under the inbox, the outbox and the deliveries: a claim
takes at most what was asked, two workers never take the same row, a dead worker's claims
are taken over and its late outcome is refused; `affected` never guesses a row count."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from bot.db import affected
from bot.inbox import PROCESSING, Inbox
from bot.leases import ALIVE_PREFIX, SendingRole
from bot.models import InboxUpdate
from bot.services import Services, create_services
from bot.settings import Settings


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    made = await create_services(settings)
    yield made
    await made.engine.dispose()


def message(update_id: int, chat_id: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
            "text": "hello",
        },
    }


async def alive(services: Services, worker: str) -> SendingRole:
    """The worker's heartbeat, as bot/leases.py Heartbeat keeps it."""
    beat = SendingRole(services.sessions, worker, name=f"{ALIVE_PREFIX}{worker}")
    assert await beat.acquire()
    return beat


async def processing(services: Services) -> dict[int, str | None]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.claimed_by).where(
                InboxUpdate.status == PROCESSING
            )
        )
        return {update_id: worker for update_id, worker in rows}


async def test_a_claim_takes_no_more_than_asked(services: Services) -> None:
    inbox = Inbox(services.sessions, "w1")
    await alive(services, "w1")
    await inbox.store([message(n, 1000 + n) for n in range(1, 8)])
    claimed = await inbox.claim(3)
    assert [r.update_id for r in claimed] == [1, 2, 3]
    assert await processing(services) == {1: "w1", 2: "w1", 3: "w1"}


async def test_two_workers_claiming_at_once_never_take_the_same_update(
    services: Services,
) -> None:
    first, second = Inbox(services.sessions, "w1"), Inbox(services.sessions, "w2")
    await alive(services, "w1")
    await alive(services, "w2")
    await first.store([message(n, 2000 + n) for n in range(1, 13)])
    a, b = await asyncio.gather(first.claim(5), second.claim(5))
    c, d = await asyncio.gather(first.claim(5), second.claim(5))
    ids = [r.update_id for r in (*a, *b, *c, *d)]
    assert sorted(ids) == list(range(1, 13))  # each once
    assert all(len(batch) <= 5 for batch in (a, b, c, d))


async def test_one_update_of_a_chat_at_a_time(services: Services) -> None:
    inbox = Inbox(services.sessions, "w1")
    await alive(services, "w1")
    await inbox.store([message(1, 7), message(2, 7), message(3, 8)])
    assert [r.update_id for r in await inbox.claim(8)] == [1, 3]
    assert await inbox.claim(8) == []  # 2 waits for 1
    await inbox.finish(1)
    assert [r.update_id for r in await inbox.claim(8)] == [2]


async def test_a_dead_workers_claim_is_taken_over_and_its_late_outcome_refused(
    services: Services,
) -> None:
    dead, live = Inbox(services.sessions, "dead"), Inbox(services.sessions, "live")
    heartbeat = await alive(services, "dead")
    await alive(services, "live")
    await dead.store([message(1, 5)])
    assert [r.update_id for r in await dead.claim(1)] == [1]
    assert await live.claim(1) == []  # its holder is alive
    await heartbeat.release()  # the heartbeat expires: the worker died
    taken = await live.claim(1)
    assert [(r.update_id, r.attempts) for r in taken] == [(1, 2)]
    async with services.sessions.begin() as session:
        assert not await dead.finish_in(session, 1)  # too late: no longer its claim
        assert await live.finish_in(session, 1)


async def test_a_claim_its_worker_lost_track_of_is_taken_back(services: Services) -> None:
    inbox = Inbox(services.sessions, "w1")
    await alive(services, "w1")
    await inbox.store([message(1, 5)])
    await inbox.claim(1)
    assert await inbox.claim(1) == []  # working on it
    restarted = Inbox(services.sessions, "w1")  # the claim's answer was lost: not held
    assert [r.update_id for r in await restarted.claim(1)] == [1]


async def test_affected_counts_the_rows_changed_and_refuses_to_guess(
    services: Services,
) -> None:
    await Inbox(services.sessions, "w1").store([message(1, 5), message(2, 6)])
    async with services.sessions.begin() as session:
        result = await session.execute(update(InboxUpdate).values(attempts=1))
        assert affected(result) == 2
    with pytest.raises(TypeError):
        affected(object())  # no row count at all: never read as "0 rows"
