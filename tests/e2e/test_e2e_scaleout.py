"""Two `python main.py webhook` workers on one PostgreSQL behind nginx, as in production.

Updates reach the workers through nginx, in turn (round robin); the workers talk to the Bot
API stand-in, which allows 30 messages per second like Telegram. One worker is SIGKILLed in
the middle of a broadcast.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.leases import SENDER_ROLE
from bot.models import Broadcast, Delivery, Lease, Proposal
from devtools.local_api import Call, sent_texts
from tests.conftest import (
    ADMIN_ID,
    ORGANIZER_CHAT_ID,
    ORGANIZER_ID,
    SHIPPED_CONTENT_DIR,
    reset_postgres,
)
from tests.e2e.bot_process import BotProcess, bot_environment, free_port
from tests.e2e.conftest import E2E_TOKEN, WEBHOOK_SECRET, WEBHOOK_URL, wait_until_healthy
from tests.e2e.fake_bot_api import JSON, FakeBotApiServer, HttpChat
from tests.e2e.nginx import Nginx, nginx_binary

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not POSTGRES_URL or nginx_binary() is None,
    reason="needs PostgreSQL (TEST_POSTGRES_URL) and nginx: .ci/run installs and starts both",
)
WEBHOOK_PATH = "/telegram/webhook"
SUMMARY = (
    "We connected forty rural villages with community broadband and trained local volunteers "
    "to run the network."
)
ANNOUNCEMENT = "Room change: the connectivity panel moves to room B."
PEOPLE = range(5000, 5150)  # 150 subscribers


@dataclass
class Cluster:
    fake_api: FakeBotApiServer
    workers: list[BotProcess]
    nginx: Nginx
    engine: AsyncEngine
    http: aiohttp.ClientSession
    posted: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}{WEBHOOK_PATH}"

    async def post(self, update: JSON) -> None:
        """Deliver an update as Telegram does: POST through nginx, expecting 200."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with self.http.post(self.url, json=update, headers=headers) as response:
            assert response.status == 200, await response.text()
        self.posted.append(update["update_id"])

    def handled(self, update_id: int) -> bool:
        return any(worker.has_handled(update_id) for worker in self.workers)

    def handled_by(self, worker: BotProcess) -> set[int]:
        return {int(n) for n in re.findall(r"bot\.updates: update (\d+) ", worker.output())}

    def person(self, user_id: int) -> ClusterChat:
        return ClusterChat(None, self.fake_api.api, user_id=user_id, cluster=self)  # type: ignore[arg-type]

    async def count(self, model: type, *where: object) -> int:
        async with self.engine.connect() as connection:
            query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int((await connection.execute(query)).scalar() or 0)


@dataclass
class ClusterChat(HttpChat):
    """A person whose updates travel through nginx to whichever worker nginx picks."""

    cluster: Cluster | None = None

    async def feed(self, payload: JSON) -> list[Call]:
        cluster = self.cluster
        assert cluster is not None
        before, update_id = len(self.api.calls), self.api.next_update_id()
        await cluster.post({"update_id": update_id, **payload})
        await cluster.fake_api.wait_for(
            lambda: cluster.handled(update_id), f"a worker to handle {payload}"
        )
        return self.api.calls[before:]


def worker_environment(fake_api: FakeBotApiServer, port: int) -> dict[str, str]:
    assert POSTGRES_URL is not None
    return bot_environment(
        BOT_TOKEN=E2E_TOKEN,
        BOT_API_URL=fake_api.url,
        DATABASE_URL=POSTGRES_URL,
        ADMIN_IDS=str(ADMIN_ID),
        ORGANIZER_IDS=str(ORGANIZER_ID),
        ORGANIZER_CHAT_ID=str(ORGANIZER_CHAT_ID),
        CONTENT_DIR=str(SHIPPED_CONTENT_DIR),
        WEBHOOK_URL=WEBHOOK_URL,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="INFO",
    )


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    assert POSTGRES_URL is not None
    await reset_postgres(POSTGRES_URL)
    fake_api = FakeBotApiServer(E2E_TOKEN)
    fake_api.message_rate = 30  # Telegram's limit: beyond it, 429 with retry_after
    await fake_api.start()
    ports = [free_port(), free_port()]
    # The schema first, once, as a deployment does before starting the workers.
    migrate = BotProcess(worker_environment(fake_api, ports[0]), tmp_path / "migrate", "migrate")
    await migrate.start()
    assert await migrate.run_to_end() == 0, migrate.output()
    workers = [
        BotProcess(worker_environment(fake_api, port), tmp_path / f"worker{n}", "webhook")
        for n, port in enumerate(ports)
    ]
    nginx = Nginx(tmp_path / "nginx", free_port(), WEBHOOK_PATH, ports)
    engine = create_async_engine(POSTGRES_URL)
    http = aiohttp.ClientSession()
    try:
        for worker, port in zip(workers, ports, strict=True):
            await worker.start()
            await wait_until_healthy(fake_api, worker, port)
        await nginx.start()
        yield Cluster(fake_api, workers, nginx, engine, http)
    finally:
        await http.close()
        await nginx.stop()
        for worker in workers:
            await worker.kill()
        await engine.dispose()
        await fake_api.close()


async def start_everyone(cluster: Cluster, people: range) -> None:
    """`/start` from every person at once, through nginx; until each has been answered."""
    chats = [cluster.person(user_id) for user_id in people]
    command = [{"type": "bot_command", "offset": 0, "length": len("/start")}]
    updates = [
        {
            "update_id": chat.api.next_update_id(),
            "message": chat._message(text="/start", entities=command),
        }
        for chat in chats
    ]
    await asyncio.gather(*(cluster.post(update) for update in updates))
    api = cluster.fake_api.api

    def everyone_welcomed() -> bool:
        welcomed = {c.chat_id for c in api.calls_to("sendMessage") if "Welcome" in c.text}
        return set(people) <= welcomed

    await cluster.fake_api.wait_for(everyone_welcomed, "every /start to be answered", 90)


async def test_a_request_whose_steps_alternate_workers_keeps_every_answer(
    cluster: Cluster,
) -> None:
    chat = cluster.person(31)
    await chat.send("/propose")
    await chat.send("Ana Pérez")
    await chat.send("Ajuntament de Vic")
    await chat.press("Local or regional government")
    await chat.send("ana@example.org")
    await chat.press("Short talk")
    await chat.send("Community broadband in rural villages")
    await chat.send(SUMMARY)
    await chat.press("Skip")
    await chat.press("I agree")
    await chat.press("No preference")
    calls = await chat.press("Submit")
    assert any("FS-0001" in text for text in sent_texts(calls))
    first, second = (cluster.handled_by(worker) for worker in cluster.workers)
    steps = set(cluster.posted)
    # nginx hands the updates to the workers in turn; whichever claims one from the inbox
    # processes it: both must have taken steps of this one conversation.
    assert len(first & steps) >= 2 and len(second & steps) >= 2, "both workers took steps"
    async with cluster.engine.connect() as connection:
        row = (await connection.execute(select(Proposal))).one()
    assert (row.name, row.organization, row.sector, row.email) == (
        "Ana Pérez",
        "Ajuntament de Vic",
        "government",
        "ana@example.org",
    )
    assert row.summary == SUMMARY and row.format_id == "short-talk"


async def test_a_burst_of_150_starts_under_telegrams_limit_answers_everyone(
    cluster: Cluster,
) -> None:
    await start_everyone(cluster, PEOPLE)
    api = cluster.fake_api.api
    assert cluster.fake_api.refused_for_flood > 0, "the burst met the 30 messages/s limit"
    texts = [c.text for c in api.calls_to("sendMessage")]
    assert not [t for t in texts if "went wrong" in t], "a flood wait is never an error"
    assert not api.calls_to("sendMessage", ADMIN_ID), "and never an alert"
    for worker in cluster.workers:
        assert "Traceback" not in worker.output()


async def test_a_broadcast_survives_the_sending_worker_being_killed(cluster: Cluster) -> None:
    await start_everyone(cluster, PEOPLE)
    admin = cluster.person(ADMIN_ID)
    await admin.send(f"/broadcast {ANNOUNCEMENT}")
    await admin.press("All subscribers")  # the admin gets a preview: the exact text
    api = cluster.fake_api.api
    confirmed_at = len(api.calls)
    await admin.press("Send to")

    def delivered() -> Counter[int]:
        calls = api.calls[confirmed_at:]
        return Counter(
            c.chat_id for c in calls if c.method == "sendMessage" and c.text == ANNOUNCEMENT
        )

    await cluster.fake_api.wait_for(lambda: sum(delivered().values()) >= 40, "40 deliveries")
    async with cluster.engine.connect() as connection:
        holder = (
            await connection.execute(select(Lease.holder).where(Lease.name == SENDER_ROLE))
        ).scalar_one()
    pid = int(holder.split(":")[1])
    (sender,) = [w for w in cluster.workers if w.process and w.process.pid == pid]
    (survivor,) = [w for w in cluster.workers if w is not sender]
    assert sender.process is not None
    sender.process.send_signal(signal.SIGKILL)
    await sender.process.wait()

    async def finished() -> bool:
        return await cluster.count(Broadcast, Broadcast.status == "done") == 1

    for _ in range(600):  # the survivor takes the role over within seconds
        if await finished():
            break
        await asyncio.sleep(0.1)
    assert await finished(), survivor.output()[-3000:]

    counts = delivered()
    total = len(PEOPLE) + 1  # and the admin, who wrote to the bot too
    unknown = await cluster.count(Delivery, Delivery.status == "unknown")
    sent = await cluster.count(Delivery, Delivery.status == "sent")
    assert max(counts.values()) == 1, "nobody got it twice"
    assert sent + unknown == total and unknown <= 8, (sent, unknown)
    assert len(counts) >= total - unknown
    reports = [c.text for c in api.calls if c.chat_id == ADMIN_ID and "Broadcast #1" in c.text]
    final = reports[-1]
    assert "finished" in final and re.search(rf"Delivered: {sent}\b", final), final
    if unknown:
        assert re.search(rf"Unconfirmed \(.*\): {unknown}\b", final), final
    # nginx passes updates to the live worker: people are still answered.
    answer = sent_texts(await cluster.person(5000).send("/help"))
    assert answer and "What I can do" in answer[0]
