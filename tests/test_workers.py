"""Several workers on one database: any worker answers any update.

Two real Applications share one database and one Bot API stand-in; each update of a person
goes to whichever worker the test picks, as a round-robin proxy would send it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram.ext import Application

from bot.broadcast_sender import BroadcastSender
from bot.broadcasts import ALL
from bot.models import Broadcast, Delivery, Proposal, User
from bot.settings import Settings
from devtools.local_api import JSON, ApiError, LocalBotApi, LocalChat, LocalRequest, sent_texts
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from handlers.transport import telegram_send
from tests.conftest import ADMIN_ID, CONTENT_DIR, make_settings

SUMMARY = (
    "We connected forty rural villages with community broadband and trained local volunteers "
    "to run the network."
)


@dataclass
class Workers:
    first: Application  # type: ignore[type-arg]
    second: Application  # type: ignore[type-arg]
    api: LocalBotApi

    def chat(self, user_id: int, **fields: object) -> LocalChat:
        return LocalChat(self.first, self.api, user_id=user_id, **fields)  # type: ignore[arg-type]

    def on(self, chat: LocalChat, n: int) -> LocalChat:
        """Route the person's next update to worker `n % 2` (round robin)."""
        chat.application = self.first if n % 2 == 0 else self.second
        return chat


@asynccontextmanager
async def start_workers(settings: Settings, api: LocalBotApi) -> AsyncIterator[Workers]:
    async with AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(
                running(build_application(settings, request=LocalRequest(api)))
            )
            for _ in range(2)
        ]
        yield Workers(apps[0], apps[1], api)


@pytest.fixture
async def workers(settings: Settings, api: LocalBotApi) -> AsyncIterator[Workers]:
    async with start_workers(settings, api) as pair:
        yield pair


async def count(app: Application, model: type, *where: object) -> int:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def settled(app: Application, limit: float = 15.0) -> None:  # type: ignore[type-arg]
    """Until no delivery is pending or being sent."""
    for _ in range(int(limit / 0.05)):
        if not await count(app, Delivery, Delivery.status.in_(("pending", "sending"))):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the broadcast never finished")


async def test_a_speaking_request_whose_steps_alternate_workers_completes(
    workers: Workers,
) -> None:
    chat = workers.chat(31)
    steps = [
        ("send", "/propose"),
        ("send", "Ana Pérez"),
        ("send", "Ajuntament de Vic"),
        ("press", "Local or regional government"),
        ("send", "ana@example.org"),
        ("press", "Short talk"),
        ("send", "Community broadband in rural villages"),
        ("send", SUMMARY),
        ("press", "Skip"),
        ("press", "I agree"),
        ("press", "No preference"),
        ("press", "Submit"),
    ]
    for n, (kind, value) in enumerate(steps):
        worker_chat = workers.on(chat, n)
        if kind == "send":
            await worker_chat.send(value)
        else:
            await worker_chat.press(value)
    async with services_of(workers.second).sessions() as session:
        proposal = (await session.scalars(select(Proposal))).one()
    assert (proposal.name, proposal.organization, proposal.sector) == (
        "Ana Pérez",
        "Ajuntament de Vic",
        "government",
    )
    assert proposal.email == "ana@example.org" and proposal.summary == SUMMARY
    assert proposal.title == "Community broadband in rural villages"


async def test_a_broadcast_composed_on_one_worker_is_confirmed_on_the_other(
    workers: Workers,
) -> None:
    for user_id in (41, 42, 43):
        await workers.on(workers.chat(user_id), user_id).send("/start")
    admin = workers.chat(ADMIN_ID)
    await workers.on(admin, 0).send("/broadcast")
    calls = await workers.on(admin, 1).send("Room change: panel 2 moves to room B")
    assert "Who should receive it?" in sent_texts(calls)[0]
    await workers.on(admin, 0).press("All subscribers")
    await workers.on(admin, 1).press("Send to")
    calls = await workers.on(admin, 0).press_data("bc:send")  # again, on the other worker
    assert any("already sent or cancelled" in text for text in sent_texts(calls))
    assert await count(workers.first, Broadcast) == 1
    assert await count(workers.second, Delivery) == 4  # three people and the admin


async def test_a_chosen_language_is_known_to_every_worker(workers: Workers) -> None:
    chat = workers.chat(51)
    await workers.on(chat, 0).send("/language")
    await workers.on(chat, 1).press("Català")
    calls = await workers.on(chat, 0).send("/help")
    assert "Què puc fer" in sent_texts(calls)[0]
    assert await services_of(workers.second).users.language_of(51) == "ca"


async def test_reload_on_one_worker_reaches_the_other(
    tmp_path: Path, database_url: str, api: LocalBotApi
) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    settings = make_settings(database_url, CONTENT_DIR=str(content))
    async with start_workers(settings, api) as pair:
        event = content / "event.yaml"
        event.write_text(
            event.read_text(encoding="utf-8").replace(
                "Small towns, big networks", "Small towns, big answers"
            ),
            encoding="utf-8",
        )
        admin = pair.chat(ADMIN_ID)
        calls = await pair.on(admin, 0).send("/reload")
        assert "reloaded" in sent_texts(calls)[0].lower()
        # The second worker has not reloaded anything itself: it follows the version.
        calls = await pair.on(pair.chat(61), 1).send("/start")
        assert "big answers" in sent_texts(calls)[0]
        assert services_of(pair.second).content_version.version == (
            services_of(pair.first).content_version.version
        )


async def test_a_flood_wait_on_a_reply_is_waited_out_and_the_reply_arrives(
    settings: Settings, api: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    answered: list[int] = []

    def flood_once(method: str, params: JSON) -> ApiError | None:
        if method == "sendMessage" and not answered:
            answered.append(1)
            return ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        return None

    api.interceptors.append(flood_once)
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        calls = await LocalChat(app, api, user_id=71).send("/start")
    texts = sent_texts(calls)
    assert len(texts) == 1 and "Welcome" in texts[0]  # the answer, and no apology
    assert not [c for c in calls if c.chat_id == ADMIN_ID]  # no alert either


async def test_server_errors_on_a_reply_are_retried(settings: Settings, api: LocalBotApi) -> None:
    failures: list[int] = []

    def bad_gateway_twice(method: str, params: JSON) -> ApiError | None:
        if method == "sendMessage" and len(failures) < 2:
            failures.append(1)
            return ApiError(502, "Bad Gateway")
        return None

    api.interceptors.append(bad_gateway_twice)
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        calls = await LocalChat(app, api, user_id=72).send("/start")
    assert ["Welcome" in text for text in sent_texts(calls)] == [True]


async def test_only_one_worker_sends_and_another_takes_over_when_it_dies(
    settings: Settings, api: LocalBotApi
) -> None:
    async with start_workers(settings, api) as pair:
        services = services_of(pair.first)
        for user_id in range(100, 130):
            await services.users.contact(user_id, "en")
        # The application's own senders stand aside; two of ours, on short leases, compete.
        for app in (pair.first, pair.second):
            await app.bot_data.stop_broadcast_sender()
        senders = [
            BroadcastSender(
                services_of(app).sessions,
                telegram_send(app.bot),
                rate=200.0,
                lease_ttl=0.6,
                idle_poll=0.05,
            )
            for app in (pair.first, pair.second)
        ]
        first, second = senders
        first.start()
        await asyncio.sleep(0.2)
        second.start()
        await asyncio.sleep(0.2)
        assert first.lease.holder != second.lease.holder
        assert not second._holding()  # the first one holds the role

        dead = asyncio.Event()
        original = first._send

        async def send_then_die(chat_id: int, text: str) -> None:
            if dead.is_set():
                await asyncio.Event().wait()  # a frozen process: never answers
            await original(chat_id, text)
            if first.sent_count >= 10:
                dead.set()

        first._send = send_then_die
        await services.broadcasts.enqueue(
            admin_id=ADMIN_ID, text="Doors open at 9", audience=ALL, language="en"
        )
        await asyncio.wait_for(dead.wait(), 10)
        # The first worker "dies": its tasks stop, its lease is not released.
        assert first._task is not None and first._renewing is not None
        first._renewing.cancel()
        first._task.cancel()
        await asyncio.gather(first._task, first._renewing, return_exceptions=True)
        first._renewing = None  # (so that nothing releases the lease on its behalf)

        await settled(pair.second)
        await second.stop()
        delivered = Counter(c.chat_id for c in api.calls_to("sendMessage") if c.chat_id >= 100)
        assert max(delivered.values()) == 1  # nobody twice
        async with services.sessions() as session:
            rows = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    )
                ).all()
            )
        # Only what was in flight when the first worker froze is unknown; the rest arrived.
        assert rows.get("unknown", 0) <= 8 and rows.get("sent", 0) + rows.get("unknown", 0) == 30


async def test_blocking_never_creates_or_resubscribes_anyone(workers: Workers) -> None:
    known = workers.chat(81)
    await known.send("/start")

    def member_update(chat: LocalChat, status: str) -> JSON:
        return {
            "my_chat_member": {
                "chat": chat.chat,
                "from": chat.user,
                "date": 0,
                "old_chat_member": {"status": "member", "user": workers.api.bot_user},
                "new_chat_member": {
                    "status": status,
                    "user": workers.api.bot_user,
                    **({"until_date": 0} if status == "kicked" else {}),
                },
            }
        }

    await known.feed(member_update(known, "kicked"))
    users = services_of(workers.first).users
    user = await users.get(81)
    assert user is not None and user.blocked_at is not None and not user.subscribed
    await known.feed(member_update(known, "member"))  # unblocked: reachable, not subscribed
    user = await users.get(81)
    assert user is not None and user.blocked_at is None and not user.subscribed

    stranger = workers.chat(82)
    await stranger.feed(member_update(stranger, "kicked"))
    assert await users.get(82) is None

    forgotten = workers.chat(83)
    await forgotten.send("/start")
    await forgotten.send("/forget")
    await forgotten.press("Yes")
    assert await users.get(83) is None
    await forgotten.feed(member_update(forgotten, "kicked"))
    assert await users.get(83) is None


async def test_odd_language_codes_are_ignored_on_every_backend(workers: Workers) -> None:
    for user_id, code in ((91, "x" * 20), (92, "es\x00"), (93, "pt-BR"), (94, "ca-ES")):
        await workers.chat(user_id, language_code=code).send("/start")
    async with services_of(workers.first).sessions() as session:
        rows = dict((await session.execute(select(User.id, User.telegram_language))).all())
    assert rows == {91: None, 92: None, 93: None, 94: "ca"}
    stats = await services_of(workers.second).users.subscriber_stats()
    assert stats.active == 4 and stats.by_language["ca"] == 1
