"""Benchmark 5: one `python main.py webhook` worker against two, on PostgreSQL behind nginx.

Real worker processes, as docs/DEPLOYING.md runs them (LOG_LEVEL=INFO, one log line per
update; only SEND_RATE_LIMIT is raised, see below), behind nginx (round robin, the DEPLOYING
config: tests/e2e/nginx.py), on the PostgreSQL of BENCH_POSTGRES_URL (emptied first),
talking to the Bot API stand-in of the end-to-end tests (tests/e2e/fake_bot_api.py) on
loopback, which answers at once and has no flood limit. Everything is on this machine: the
workers, PostgreSQL, nginx, and this process (the stand-in and the load) share its cores.

The load is the update benchmark's mix (bench/updates.py), each person's updates in their
order, POSTed through nginx with the webhook's secret header. A person sends their next
update once the bot's reply to the previous one has reached the stand-in (a message or an
edit in their chat, or the answer to their button press), after a pause. The latency of an
update is from its POST to that reply. Two loads, each bounded in count and time:

* saturated: every person at once with a short pause (SATURATED_PAUSE): as many updates as
  the workers can take; gives updates/s handled (and the latency of a queue);
* steady: PACED_RATE updates/s offered, which one worker can take: the latency a person sees
  when the bot is not overloaded.

The CPU time of the workers and of this process (stand-in and load) shows where the cores go.
With BENCH_PYSPY=<folder>, py-spy samples the first worker during the saturated load of the
first round (raw collapsed stacks, `python -m bench.workers <file>` summarizes them).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.harness import (
    ADMIN_ID,
    CONTENT_DIR,
    ORGANIZER_CHAT_ID,
    ORGANIZER_ID,
    create_schema,
    postgres_url,
    reset_postgres,
)
from bench.report import Section, percentile
from bench.updates import People, Step, load_questions, script
from bot.content import load_content
from bot.models import ProposalDraft
from handlers import callbacks
from tests.e2e.bot_process import BotProcess, bot_environment, free_port
from tests.e2e.fake_bot_api import FakeBotApiServer
from tests.e2e.nginx import Nginx, nginx_binary

TOKEN = "4242:bench-Secret-Token_value"
SECRET = "bench-webhook-Secret_42"
WEBHOOK_URL = "https://bot.example.org/telegram/webhook"
PATH = "/telegram/webhook"
REPLY_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)
FIRST_PERSON = 7_000_000
SATURATED_PAUSE = 0.2  # seconds a person waits after a reply (later replies of it come first)
PACED_RATE = 30.0  # updates/s offered in the steady load: what Telegram lets a bot answer
REPLY_TIMEOUT = 10.0  # an update without a reply by then counts as unanswered
TARGET_SCALE = 1.5  # 2 workers / 1 on 2 cores: a target for a machine where they do not share


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(value) for value in fields[11:15]) / ticks


@dataclass
class Load:
    """What one load produced."""

    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    wall: float = 0.0
    cpu_workers: float = 0.0
    cpu_harness: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


class Replies:
    """Watches the stand-in's calls: wakes the person an update was answered to."""

    def __init__(self, server: FakeBotApiServer) -> None:
        self.waiting: dict[int | str, asyncio.Future[float]] = {}
        server.api.interceptors.append(self._seen)

    def _seen(self, method: str, params: dict[str, Any]) -> None:
        if method in REPLY_METHODS:
            key: int | str | None = int(params.get("chat_id") or 0)
        elif method == "answerCallbackQuery":
            key = str(params.get("callback_query_id"))
        else:
            return None
        future = self.waiting.pop(key, None) if key is not None else None
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
        return None

    def expect(self, *keys: int | str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        for key in keys:
            self.waiting[key] = future
        return future

    def forget(self, *keys: int | str) -> None:
        for key in keys:
            self.waiting.pop(key, None)


class Cluster:
    """The stand-in, N workers on PostgreSQL, nginx in front; everything bounded."""

    def __init__(self, url: str, workers: int, workdir: Path) -> None:
        self.url = url
        self.count = workers
        self.workdir = workdir
        self.server = FakeBotApiServer(TOKEN)
        self.workers: list[BotProcess] = []
        self.nginx: Nginx | None = None
        self.engine: AsyncEngine = create_async_engine(url)

    async def __aenter__(self) -> Cluster:
        await reset_postgres(self.url)
        await create_schema(self.url)
        await self.server.start()
        ports = [free_port() for _ in range(self.count)]
        for number, port in enumerate(ports):
            env = bot_environment(
                BOT_TOKEN=TOKEN,
                BOT_API_URL=self.server.url,
                DATABASE_URL=self.url,
                ADMIN_IDS=str(ADMIN_ID),
                ORGANIZER_IDS=str(ORGANIZER_ID),
                ORGANIZER_CHAT_ID=str(ORGANIZER_CHAT_ID),
                CONTENT_DIR=str(CONTENT_DIR),
                WEBHOOK_URL=WEBHOOK_URL,
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),
                LOG_LEVEL="INFO",
                # The bot's capacity, not Telegram's 30 messages/s: each worker's send budget
                # (handlers/transport.py, 29/s by default) would cap replies at 29/s per worker.
                SEND_RATE_LIMIT="1000000",
            )
            worker = BotProcess(env, self.workdir / f"worker{number}", "webhook")
            self.workers.append(worker)
            await worker.start()
        for worker, port in zip(self.workers, ports, strict=True):
            await healthy(worker, port)
        self.nginx = Nginx(self.workdir / "nginx", free_port(), PATH, ports)
        await self.nginx.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.nginx is not None:
            await self.nginx.stop()
        for worker in self.workers:
            with contextlib.suppress(Exception):
                await worker.terminate(10)
            await worker.kill()
        await self.engine.dispose()
        await self.server.close()

    @property
    def post_url(self) -> str:
        assert self.nginx is not None
        return f"http://127.0.0.1:{self.nginx.port}{PATH}"

    def worker_cpu(self) -> float:
        return sum(cpu_seconds(w.process.pid) for w in self.workers if w.process is not None)

    def errors(self) -> int:
        return sum(w.output().count("Traceback") for w in self.workers)


async def healthy(worker: BotProcess, port: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if worker.exited:
                raise RuntimeError(f"a worker exited:\n{worker.output()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"a worker never became healthy:\n{worker.output()[-2000:]}")


class Person:
    """One person's updates, sent one at a time, each after the reply to the previous one."""

    def __init__(self, user_id: int, steps: list[Step]) -> None:
        self.user_id = user_id
        self.steps = steps


async def submit_payload(cluster: Cluster, people: People, person: Person) -> dict[str, Any]:
    """The Submit button carries the draft's id: read it from the database."""
    async with cluster.engine.connect() as connection:
        draft_id = await connection.scalar(
            select(ProposalDraft.id).where(ProposalDraft.user_id == person.user_id)
        )
    message = people.bot_message(person.user_id)
    return people.press(
        person.user_id, callbacks.PROPOSE_SUBMIT.data(draft_id or 0), message
    ).payload


UPDATE_IDS = itertools.count(1)


async def send_one(
    cluster: Cluster,
    http: aiohttp.ClientSession,
    replies: Replies,
    people: People,
    person: Person,
    step: Step,
    update_id: int,
) -> float | None:
    """POST one update through nginx; seconds until its reply reached the stand-in."""
    payload = await submit_payload(cluster, people, person) if step.late else step.payload
    keys: list[int | str] = [person.user_id]
    if "callback_query" in payload:
        keys.append(str(payload["callback_query"]["id"]))
    answered = replies.expect(*keys)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    started = time.perf_counter()
    async with http.post(
        cluster.post_url, json={"update_id": update_id, **payload}, headers=headers
    ) as response:
        if response.status != 200:
            replies.forget(*keys)
            return None
    try:
        return await asyncio.wait_for(answered, REPLY_TIMEOUT) - started
    except TimeoutError:
        replies.forget(*keys)
        return None


def everyone(api: Any, count: int, per_user: int, seed: int) -> tuple[People, list[Person]]:
    rng = random.Random(seed)
    people = People(api)
    content = load_content(CONTENT_DIR)
    questions = load_questions()
    return people, [
        Person(user_id, script(people, user_id, per_user, rng, content, questions))
        for user_id in range(FIRST_PERSON, FIRST_PERSON + count)
    ]


async def drive(
    cluster: Cluster,
    persons: list[Person],
    people: People,
    *,
    pause: float,
    rate: float | None,
    limit: float,
) -> Load:
    """Each person sends their steps in order; with `rate`, starts are paced overall."""
    replies = Replies(cluster.server)
    ids = UPDATE_IDS  # never reused: the workers' inbox drops an update_id it has seen
    load = Load()
    deadline = time.perf_counter() + limit
    pacing = asyncio.Lock()
    next_start = time.perf_counter()

    async def paced() -> None:
        nonlocal next_start
        if rate is None:
            return
        async with pacing:
            next_start = max(next_start + 1 / rate, time.perf_counter())
            await asyncio.sleep(max(0.0, next_start - time.perf_counter()))

    async def act(http: aiohttp.ClientSession, person: Person) -> None:
        for step in person.steps:
            if time.perf_counter() > deadline:
                return
            await paced()
            latency = await send_one(cluster, http, replies, people, person, step, next(ids))
            if latency is None:
                load.unanswered += 1
            else:
                load.latencies.append(latency)
            await asyncio.sleep(pause)

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as http:
        cpu_workers, cpu_harness = cluster.worker_cpu(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(act(http, person) for person in persons))
        load.wall = time.perf_counter() - started
        load.cpu_workers = cluster.worker_cpu() - cpu_workers
        load.cpu_harness = time.process_time() - cpu_harness
    return load


@dataclass
class Measured:
    saturated: dict[int, list[Load]] = field(default_factory=lambda: defaultdict(list))
    steady: dict[int, list[Load]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0


async def one_round(url: str, workers: int, quick: bool, seed: int, measured: Measured) -> None:
    count, per_user, limit = (90, 8, 15.0) if quick else (160, 10, 20.0)
    with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
        async with Cluster(url, workers, Path(tmp)) as cluster:
            people, persons = everyone(cluster.server.api, count, per_user, seed)
            warm, persons = persons[:10], persons[10:]
            await drive(cluster, warm, people, pause=0.0, rate=None, limit=10.0)
            half = len(persons) // 2
            spy = await start_py_spy(cluster, seed, limit / 2)
            measured.saturated[workers].append(
                await drive(
                    cluster, persons[:half], people, pause=SATURATED_PAUSE, rate=None, limit=limit
                )
            )
            if spy is not None:
                await spy.wait()
            measured.steady[workers].append(
                await drive(
                    cluster, persons[half:], people, pause=0.0, rate=PACED_RATE, limit=limit / 2
                )
            )
            measured.errors += cluster.errors()


async def start_py_spy(
    cluster: Cluster, seed: int, seconds: float
) -> asyncio.subprocess.Process | None:
    """py-spy on the first worker, if BENCH_PYSPY names a folder and py-spy is installed."""
    folder = os.environ.get("BENCH_PYSPY")
    binary = shutil.which("py-spy") or shutil.which(
        "py-spy", path=str(Path(sys.executable).parent)
    )
    worker = cluster.workers[0].process
    if not folder or binary is None or worker is None:
        return None
    os.makedirs(folder, exist_ok=True)
    out = Path(folder) / f"worker-{cluster.count}w-{seed}.txt"
    return await asyncio.create_subprocess_exec(
        binary,
        "record",
        "--pid",
        str(worker.pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


# What a sampled stack was doing: the first of these found anywhere in it names it (so a
# socket write on behalf of asyncpg counts as the database, not as the event loop).
SHARES = (
    ("database: pool_pre_ping (BEGIN, ';', ROLLBACK)", ("_async_ping",)),
    ("database: the rest (SQLAlchemy, asyncpg)", ("sqlalchemy/", "asyncpg/")),
    ("Bot API calls (PTB's request, httpx)", ("_do_post", "httpx/", "httpcore/")),
    ("webhook server (aiohttp), reading updates", ("aiohttp/", "bot/webhook.py")),
    ("logging", ("logging/",)),
    ("handlers and python-telegram-bot, the rest", ("process_update",)),
    ("idle (epoll)", ("EpollSelector.select",)),
)


def py_spy_summary(path: Path) -> list[tuple[str, float]]:
    """Share of samples by what the stack was doing (SHARES), in order of size."""
    counts: dict[str, int] = defaultdict(int)
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        total += int(number)
        label = next(
            (name for name, parts in SHARES if any(part in stack for part in parts)),
            "other (event loop, connections, timers)",
        )
        counts[label] += int(number)
    return sorted(((k, v / total) for k, v in counts.items()), key=lambda item: -item[1])


def summary(loads: list[Load]) -> tuple[float, float, float, int, float, float]:
    """Median over rounds: updates/s, p50, p99 (s), unanswered (sum), CPU ms per update."""
    rate = statistics.median(load.per_second for load in loads)
    p50 = statistics.median(percentile(load.latencies, 0.5) for load in loads)
    p99 = statistics.median(percentile(load.latencies, 0.99) for load in loads)
    unanswered = sum(load.unanswered for load in loads)
    worker_ms = statistics.median(load.cpu_workers / len(load.latencies) * 1000 for load in loads)
    harness_ms = statistics.median(load.cpu_harness / len(load.latencies) * 1000 for load in loads)
    return rate, p50, p99, unanswered, worker_ms, harness_ms


async def run(quick: bool = False) -> Section:
    section = Section("Workers (PostgreSQL, nginx)")
    url = postgres_url()
    if url is None or nginx_binary() is None:
        section.add("1 vs 2 workers", "not measured", "", None)
        section.details.append(
            "Needs PostgreSQL (`BENCH_POSTGRES_URL` or `--postgres URL`, a database it may "
            "empty) and nginx."
        )
        return section
    rounds = 1 if quick else 2
    measured = Measured()
    for number in range(rounds):
        for workers in (1, 2):
            await one_round(url, workers, quick, 6 + number, measured)
    rows: dict[int, tuple[float, float, float, int, float, float]] = {}
    for workers in (1, 2):
        rows[workers] = rate, p50, p99, unanswered, worker_ms, harness_ms = summary(
            measured.saturated[workers]
        )
        section.add(
            f"{workers} worker{'s' if workers > 1 else ''}, saturated: updates/s, p50 / p99",
            f"{rate:,.0f}, {p50 * 1000:,.0f} / {p99 * 1000:,.0f} ms",
        )
        steady = summary(measured.steady[workers])
        section.add(
            f"{workers} worker{'s' if workers > 1 else ''}, {PACED_RATE:g} updates/s offered: "
            "p50 / p99",
            f"{steady[1] * 1000:,.1f} / {steady[2] * 1000:,.1f} ms",
        )
    scale = rows[2][0] / rows[1][0] if rows[1][0] else 0.0
    section.add("2 workers / 1, updates/s", f"{scale:.2f}")
    unanswered = sum(
        load.unanswered
        for loads in (*measured.saturated.values(), *measured.steady.values())
        for load in loads
    )
    section.add("updates without a reply", str(unanswered), "0", unanswered == 0)
    section.add("tracebacks in the workers' logs", str(measured.errors), "0", measured.errors == 0)
    cores = os.cpu_count() or 0
    section.details += [
        f"{rounds} round(s) of each, 1 then 2 workers, medians over rounds. Per round: a new "
        "database, the workers started and healthy, 10 people to warm up; then half the "
        f"people all at once, each pausing {SATURATED_PAUSE * 1000:.0f} ms after each reply "
        f"(saturated); then the other half at {PACED_RATE:g} updates/s in all (steady). "
        f"All on this machine's {cores} cores: PostgreSQL, nginx, the workers, and the "
        "benchmark process (stand-in and load), which takes a share of them (below).",
        "",
        "| Workers | Load | Updates/s | p50 | p99 | No reply | Worker CPU / update | "
        "Harness CPU / update |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for workers in (1, 2):
        for name, loads in (
            ("saturated", measured.saturated[workers]),
            (f"{PACED_RATE:g}/s offered", measured.steady[workers]),
        ):
            rate, p50, p99, missing, worker_ms, harness_ms = summary(loads)
            section.details.append(
                f"| {workers} | {name} | {rate:,.0f} | {p50 * 1000:,.1f} ms | "
                f"{p99 * 1000:,.1f} ms | {missing} | {worker_ms:.2f} ms | {harness_ms:.2f} ms |"
            )
    by_round = "; ".join(
        f"{workers} worker(s): "
        + ", ".join(f"{load.per_second:,.0f}" for load in measured.saturated[workers])
        for workers in (1, 2)
    )
    section.details += ["", f"Saturated updates/s by round: {by_round}."]
    return section


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(name)
        for label, share in py_spy_summary(Path(name)):
            print(f"  {label:45s} {share:6.1%}")
