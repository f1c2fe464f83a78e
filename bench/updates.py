"""Benchmark 1: one worker's update handling, in-process, on SQLite and on PostgreSQL.

The real `Application` (`build_application`) runs over a `LocalRequest` that answers at once,
and gets pre-built `Update` objects through `process_update`, one at a time, as a worker
does (python-telegram-bot handles one update after the other). So the numbers are the cost
of one worker itself: routing, handlers, the database (every update reads the person's row
and the content version: nothing about a person is kept in the process), rendering, and the
Bot API calls' serialization; not building updates, nor HTTP.

The mix, from a few hundred distinct people: /start first (their first update writes them to
the database), then menu presses on the bot's own message, free-text questions from
tests/data/questions.yaml, a few commands, rarely a language change (a write), and one
person in ten goes through the whole speaking-slot request (a draft row read and written at
each step).

A bare python-telegram-bot bot making the same Bot API calls with pre-rendered views (no
database, no matching) runs the same updates: what python-telegram-bot alone costs.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bench.harness import (
    CONTENT_DIR,
    QUESTIONS_PATH,
    TOKEN,
    ErrorCounter,
    bench_settings,
    postgres_url,
    reset_postgres,
    sqlite_url,
)
from bench.report import Section, percentile
from bot.content import Content, load_content
from bot.i18n import LANGUAGES
from devtools.local_api import LocalBotApi, LocalRequest
from handlers import callbacks, views
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running

JSON = dict[str, Any]
FIRST_USER_ID = 100_000
WARMUP_USER_ID = 90_000
TARGET_RATE = 300.0  # updates/s on 2 cores: 10 times Telegram's 30 messages/s


@dataclass(frozen=True)
class Step:
    """One update a person sends, before it gets an update id: its kind labels the results.

    `late` steps depend on the bot's state (the draft id on the "Submit" button): their payload
    is made just before they are fed, outside the timed section.
    """

    kind: str
    payload: JSON
    late: Callable[[Application], Awaitable[JSON]] | None = None  # type: ignore[type-arg]


@dataclass
class Timings:
    """Latency (seconds) of every update, by kind, and the wall time of the whole run."""

    latencies: list[float]
    kinds: list[str]
    wall: float
    errors: int
    first_error: str | None
    statements: list[int]  # SQL statements run per update (empty for the bare bots)
    cpu: float = 0.0  # CPU seconds of this process (all its threads) during the run

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / len(self.latencies)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall

    def of_kind(self, kind: str) -> list[float]:
        return [value for value, k in zip(self.latencies, self.kinds, strict=True) if k == kind]


class People:
    """Builds the updates of many people, each with their own chat and the bot's menu message."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api
        self._message_ids = iter(range(1_000_000, 10**9))

    def user(self, user_id: int) -> JSON:
        lang = ("en", "es", "ca", "en-GB")[user_id % 4]
        return {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": lang}

    def message(self, user_id: int, text: str) -> Step:
        fields: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
            "from": self.user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        kind = "command" if text.startswith("/") else "question"
        return Step(kind, {"message": fields})

    def press(self, user_id: int, data: str, message: JSON) -> Step:
        query = {
            "id": str(next(self._message_ids)),
            "from": self.user(user_id),
            "chat_instance": str(user_id),
            "data": data,
            "message": message,
        }
        return Step("press", {"callback_query": query})

    def bot_message(self, user_id: int) -> JSON:
        """A message from the bot in this person's chat, as if the menu had been sent before."""
        return dict(self.api.handle("sendMessage", {"chat_id": user_id, "text": "menu"}))


def load_questions() -> list[str]:
    return [str(item["q"]) for item in yaml.safe_load(QUESTIONS_PATH.read_text("utf-8"))]


def press_choices(content: Content) -> list[tuple[float, Callable[[random.Random], str]]]:
    """Buttons people press, with how often (a language change writes to the database)."""
    sessions = [s.id for s in content.sessions]
    orgs = [o.id for o in content.organizations]
    faqs = [f.id for f in content.faqs]
    return [
        (3, lambda rng: callbacks.MENU.data()),
        (3, lambda rng: callbacks.PROGRAMME.data(rng.randrange(2))),
        (4, lambda rng: callbacks.SESSION.data(rng.choice(sessions))),
        (2, lambda rng: callbacks.ORGANIZATIONS.data("partner", 0)),
        (1, lambda rng: callbacks.ORGANIZATIONS.data("side_event_organizer", 0)),
        (3, lambda rng: callbacks.ORGANIZATION.data(rng.choice(orgs))),
        (1, lambda rng: callbacks.SIDE_EVENTS.data(0)),
        (1, lambda rng: callbacks.ASK.data()),
        (2, lambda rng: callbacks.ANSWER.data(f"faq:{rng.choice(faqs)}")),
        (0.5, lambda rng: callbacks.LANGUAGES.data()),
        (0.3, lambda rng: callbacks.LANGUAGE.data(rng.choice(LANGUAGES))),
    ]


PROPOSAL_TEXTS = (
    "Ana García",
    "Ajuntament de Vilanova",
    "ana.garcia@example.org",
    "Fibre for small towns",
    "How a town of 8,000 people brought fibre to every home with a public-private partnership.",
)


def proposal_steps(people: People, user_id: int, message: JSON) -> list[Step]:
    """The whole speaking-slot request, /propose to Submit (empty if the feature is absent)."""
    try:
        from bot.proposals import NO_PREFERENCE, SKIP
        from bot.proposals import Step as FlowStep
    except ImportError:
        return []
    name, organization, email, title, summary = PROPOSAL_TEXTS
    texts = {"name": name, "organization": organization, "email": email, "title": title}

    def typed(text: str) -> Step:
        return Step("speaking slot", people.message(user_id, text).payload)

    def pressed(step: FlowStep, value: str) -> Step:
        data = callbacks.STEP_CHOICE.data(step, value)
        return Step("speaking slot", people.press(user_id, data, message).payload)

    async def submit_payload(application: Application) -> JSON:  # type: ignore[type-arg]
        services = getattr(application.bot_data, "_services", None)  # the bare bots have none
        draft = await services.drafts.draft_of(user_id) if services else None
        data = callbacks.PROPOSE_SUBMIT.data(draft.id if draft is not None else 0)
        return people.press(user_id, data, message).payload

    return [
        Step("speaking slot", people.message(user_id, "/propose").payload),
        typed(texts["name"]),
        typed(texts["organization"]),
        pressed(FlowStep.SECTOR, "government"),
        typed(texts["email"]),
        pressed(FlowStep.FORMAT, "panel-contribution"),
        typed(texts["title"]),
        typed(summary),
        pressed(FlowStep.LINK, SKIP),
        pressed(FlowStep.CONSENT, "yes"),
        pressed(FlowStep.SPOT, NO_PREFERENCE),
        Step("speaking slot submit", {}, late=submit_payload),
    ]


def script(
    people: People,
    user_id: int,
    length: int,
    rng: random.Random,
    content: Content,
    questions: list[str],
) -> list[Step]:
    """What one person does: /start, then presses (55%), questions (35%), commands (10%).

    One person in ten also asks for a speaking slot, start to finish, after a first look.
    """
    steps = [Step("first contact", people.message(user_id, "/start").payload)]
    message = people.bot_message(user_id)
    weights, makers = zip(*press_choices(content), strict=True)
    if user_id % 10 == 0:
        steps.append(people.press(user_id, callbacks.PROGRAMME.data(0), message))
        steps += proposal_steps(people, user_id, message)
    while len(steps) < length:
        roll = rng.random()
        if roll < 0.55:
            data = rng.choices(makers, weights)[0](rng)
            steps.append(people.press(user_id, data, message))
        elif roll < 0.90:
            steps.append(people.message(user_id, rng.choice(questions)))
        else:
            command = rng.choice(("/start", "/menu", "/help", "/programme", "/partners"))
            steps.append(people.message(user_id, command))
    return steps


def interleave(scripts: list[list[Step]], rng: random.Random) -> list[Step]:
    """Everyone's steps mixed as they would arrive, each person's in their own order."""
    queues = [list(reversed(s)) for s in scripts]
    out: list[Step] = []
    while queues:
        pick = rng.randrange(len(queues))
        out.append(queues[pick].pop())
        if not queues[pick]:
            queues[pick] = queues[-1]
            queues.pop()
    return out


Prepared = tuple[str, "Update | Step"]


def as_updates(application: Application, steps: list[Step]) -> list[Prepared]:  # type: ignore[type-arg]
    """Updates built before the run; late steps stay steps until their turn."""
    bot = application.bot
    return [
        (step.kind, step if step.late else Update.de_json({"update_id": n, **step.payload}, bot))
        for n, step in enumerate(steps, start=1)
    ]


class StatementCounter:
    """Counts the SQL statements an engine runs: a load-independent view of database work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


async def timed(
    application: Application,  # type: ignore[type-arg]
    updates: list[Prepared],
    sql: StatementCounter | None = None,
) -> Timings:
    """Feed each update and time it (building a late one is not timed); count logged errors."""
    latencies: list[float] = []
    statements: list[int] = []
    clock = time.perf_counter
    untimed = 0.0
    with ErrorCounter() as errors:
        cpu = time.process_time()
        start = clock()
        for number, (_, item) in enumerate(updates):
            if isinstance(item, Step):
                building = clock()
                payload = await item.late(application)  # type: ignore[misc]
                item = Update.de_json({"update_id": 10**6 + number, **payload}, application.bot)
                untimed += clock() - building
            executed = sql.count if sql else 0
            before = clock()
            await application.process_update(item)
            latencies.append(clock() - before)
            if sql:
                statements.append(sql.count - executed)
        wall = clock() - start - untimed
        cpu = time.process_time() - cpu
    kinds = [k for k, _ in updates]
    return Timings(latencies, kinds, wall, errors.count, errors.first, statements, cpu)


def our_steps(
    api: LocalBotApi, content: Content, first_user: int, users: int, per_user: int, seed: int
) -> list[Step]:
    rng = random.Random(seed)
    people = People(api)
    questions = load_questions()
    scripts = [
        script(people, first_user + n, per_user, rng, content, questions) for n in range(users)
    ]
    return interleave(scripts, rng)


async def run_ours(
    database_url: str,
    users: int,
    per_user: int,
    seed: int = 6,
    after_warmup: Callable[[], Awaitable[None]] | None = None,
) -> tuple[Timings, LocalBotApi]:
    """One worker on `database_url` (a new, empty database): warm-up, then the timed mix."""
    api = LocalBotApi()
    # What the bot costs per update, not Telegram's 30 messages/s: the shared send budget
    # (handlers/transport.py) would space these sends; the broadcast benchmark measures it.
    settings = bench_settings(database_url, SEND_RATE_LIMIT=1_000_000)
    application = build_application(settings, request=LocalRequest(api))
    async with running(application):
        content = services_of(application).content.content
        warmup = our_steps(api, content, WARMUP_USER_ID, 5, 20, seed + 1)
        await timed(application, as_updates(application, warmup))
        if after_warmup is not None:
            await after_warmup()
        steps = our_steps(api, content, FIRST_USER_ID, users, per_user, seed)
        sql = StatementCounter(services_of(application).engine)
        timings = await timed(application, as_updates(application, steps), sql)
    return timings, api


def bare_application(api: LocalBotApi) -> Application:  # type: ignore[type-arg]
    request = LocalRequest(api)
    builder = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(request)
    return builder.build()


class SameTraffic:
    """A bare bot making our Bot API calls with pre-rendered views: PTB's floor for our traffic.

    A message gets a new message with a menu; a press is answered and its message edited
    (alternating two views so the edit always changes something). No database, no matching,
    no rendering: the difference to ours is what our own code costs.
    """

    def __init__(self, content: Content) -> None:
        self.views = [
            views.View(views.greeting(content, "en"), views.main_menu("en")),
            views.programme(content, "en"),
        ]
        self.turn: dict[int, int] = defaultdict(int)

    def next_view(self, chat_id: int) -> views.View:
        self.turn[chat_id] += 1
        return self.views[self.turn[chat_id] % 2]

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is not None:
            view = self.next_view(chat.id)
            await chat.send_message(
                view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
            )

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is not None and query.message is not None:
            view = self.next_view(query.message.chat.id)
            await query.answer()
            await query.edit_message_text(
                view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
            )


async def run_same_traffic(users: int, per_user: int, seed: int = 6) -> Timings:
    api = LocalBotApi()
    application = bare_application(api)
    content = load_content(CONTENT_DIR)
    mirror = SameTraffic(content)
    application.add_handler(MessageHandler(filters.ALL, mirror.on_message))
    application.add_handler(CallbackQueryHandler(mirror.on_press))
    async with application:
        await application.start()
        warmup = our_steps(api, content, WARMUP_USER_ID, 5, 20, seed + 1)
        await timed(application, as_updates(application, warmup))
        steps = our_steps(api, content, FIRST_USER_ID, users, per_user, seed)
        timings = await timed(application, as_updates(application, steps))
        await application.stop()
    return timings


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def kind_table(timings: Timings) -> list[str]:
    by_kind: dict[str, int] = defaultdict(int)
    for kind in timings.kinds:
        by_kind[kind] += 1
    lines = [
        "| Update kind | Count | p50 | p99 | mean | SQL statements / update |",
        "|---|---|---|---|---|---|",
    ]
    for kind in sorted(by_kind):
        values = timings.of_kind(kind)
        sql = [n for n, k in zip(timings.statements, timings.kinds, strict=True) if k == kind]
        lines.append(
            f"| {kind} | {len(values)} | {ms(percentile(values, 0.5))} | "
            f"{ms(percentile(values, 0.99))} | {ms(sum(values) / len(values))} | "
            f"{sum(sql) / len(sql):.1f} |"
        )
    return lines


@dataclass
class Rounds:
    """The backends (and the bare bot) run in turns, so a slow spell hits them alike."""

    by_backend: dict[str, list[Timings]]
    same: list[Timings]

    @staticmethod
    def rate(runs: list[Timings]) -> float:
        return statistics.median([r.per_second for r in runs])

    @staticmethod
    def p(runs: list[Timings], fraction: float) -> float:
        return statistics.median([percentile(r.latencies, fraction) for r in runs])

    @staticmethod
    def middle(runs: list[Timings]) -> Timings:
        """The round with the median throughput."""
        return sorted(runs, key=lambda r: r.per_second)[len(runs) // 2]


async def run_backend(backend: str, users: int, per_user: int, seed: int) -> Timings:
    """One round of the worker on a new database of this backend."""
    if backend == "PostgreSQL":
        url = postgres_url()
        assert url is not None
        await reset_postgres(url)
        timings, _ = await run_ours(url, users, per_user, seed)
        return timings
    with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
        timings, _ = await run_ours(sqlite_url(Path(tmp)), users, per_user, seed)
    return timings


async def measure(backends: list[str], users: int, per_user: int, rounds: int) -> Rounds:
    result = Rounds({backend: [] for backend in backends}, [])
    for number in range(rounds):
        seed = 6 + number
        for backend in backends:
            result.by_backend[backend].append(await run_backend(backend, users, per_user, seed))
        result.same.append(await run_same_traffic(users, per_user, seed))
    return result


def backends() -> list[str]:
    return ["SQLite"] + (["PostgreSQL"] if postgres_url() else [])


async def run(quick: bool = False) -> Section:
    """One worker on each backend and the bare bot, in turns; medians over rounds."""
    users, per_user, count = (100, 8, 2) if quick else (200, 10, 3)
    section = Section("Update handling")
    chosen = backends()
    measured = await measure(chosen, users, per_user, count)
    for backend, runs in measured.by_backend.items():
        rate = measured.rate(runs)
        section.add(
            f"one worker, {backend}: updates/s",
            f"{rate:,.0f}",
            f">= {TARGET_RATE:,.0f}/s",
            rate >= TARGET_RATE,
        )
        section.add(
            f"one worker, {backend}: p50 / p99 latency",
            f"{ms(measured.p(runs, 0.5))} / {ms(measured.p(runs, 0.99))}",
        )
        cpu = statistics.median(r.cpu_per_update for r in runs)
        section.add(f"one worker, {backend}: CPU per update (the worker's process)", ms(cpu))
    same = measured.same
    section.add(
        "python-telegram-bot alone making the same calls: updates/s, p50 / p99",
        f"{measured.rate(same):,.0f}, {ms(measured.p(same, 0.5))} / {ms(measured.p(same, 0.99))}",
    )
    all_runs = [r for runs in measured.by_backend.values() for r in runs]
    errors = sum(r.errors for r in all_runs)
    section.add("errors logged", str(errors), "0", errors == 0)
    middle = Rounds.middle(next(iter(measured.by_backend.values())))
    by_round = " | ".join(
        " / ".join(
            f"{runs[n].per_second:,.0f} (p99 {ms(percentile(runs[n].latencies, 0.99))})"
            for runs in (*measured.by_backend.values(), same)
        )
        for n in range(count)
    )
    names = " / ".join([*measured.by_backend, "python-telegram-bot alone"])
    section.details += [
        f"{count} rounds; in each, {len(middle.latencies):,} updates from {users} distinct "
        f"people ({per_user} each, 12 more for those who ask for a speaking slot: /start "
        "first, then ~55% button presses, ~35% questions, ~10% commands; one person in ten "
        "also asks for a speaking slot from /propose to Submit), fed one after the other to "
        "one worker on a new database: a SQLite file in a temporary folder"
        + (", and PostgreSQL on loopback (`BENCH_POSTGRES_URL`)" if len(chosen) > 1 else "")
        + ". The same updates then go to python-telegram-bot alone making the same Bot API "
        "calls with pre-rendered views (no database). They take turns, so that a slow spell "
        "of a shared machine does not favour one; the table gives medians over the rounds. "
        "Nothing about a person is kept in the process: each update reads the content "
        "version and the person's row, a speaking-slot step reads and writes its draft. "
        "CPU per update counts every thread of the worker's process (aiosqlite's too), not "
        "the PostgreSQL server's.",
        "",
        f"Updates/s by round, {names}: {by_round}.",
    ]
    if len(chosen) == 1:
        section.details += [
            "",
            "PostgreSQL was not measured: set `BENCH_POSTGRES_URL` (or `--postgres URL`) to a "
            "database the benchmark may empty.",
        ]
    for backend, runs in measured.by_backend.items():
        section.details += [
            "",
            f"{backend}, the round with the median throughput, by kind of update:",
            "",
            *kind_table(Rounds.middle(runs)),
        ]
    first_error = next((r.first_error for r in all_runs if r.first_error), None)
    if first_error:
        section.details += ["", f"First error logged: `{first_error}`"]
    return section
