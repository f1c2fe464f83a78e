"""Updates in and out of the inbox: long polling that stores before it confirms, and the
worker's dispatcher that processes stored updates (bot/inbox.py says why).

    getUpdates (raw JSON) --store, commit--> next getUpdates confirms the batch
    webhook POST --store, commit--> 200                       (bot/webhook.py)
    UpdateRunner: claim ready updates --> Application.process_update --> done
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import warnings
from typing import Any, Final

from telegram import Update
from telegram.error import Conflict, InvalidToken
from telegram.warnings import PTBUserWarning

from bot.backoff import Backoff
from bot.i18n import normalize_language, plain, t
from bot.inbox import MAX_ATTEMPTS, Inbox, Received, language_of, owner_of, unreadable
from handlers.context import FocusApp, services_of
from handlers.runtime import Site, started

log = logging.getLogger(__name__)

ALLOWED_UPDATES: Final = ["message", "callback_query", "my_chat_member", "inline_query"]
CONCURRENCY: Final = 8  # updates of different chats processed at once by one worker
IDLE_LOOK: Final = 0.5  # seconds between two looks at the inbox when nothing woke us
PRUNE_EVERY: Final = 600.0  # seconds
POLL_TIMEOUT: Final = 10  # long-polling seconds
POLL_MAX_PAUSE: Final = 10.0  # seconds between two tries while Telegram or the database is away


class UpdateRunner:
    """Processes the updates stored in the inbox, on this worker, until stopped."""

    def __init__(self, application: FocusApp) -> None:
        self.application = application
        services = services_of(application)
        self.worker = services.worker  # its heartbeat runs from the runtime (handlers/runtime.py)
        self.inbox = Inbox(services.sessions, self.worker)
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self.backoff = Backoff("Reading the inbox", log)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        # Processed (update_id -> skipped), "done" not written yet: written with the next
        # claim, in its transaction (one transaction fewer per update).
        self._finished: dict[int, bool] = {}

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="update-runner")

    def wake(self) -> None:
        """Updates were stored: look now."""
        self._wake.set()

    @property
    def busy(self) -> bool:
        """Whether updates are being processed right now."""
        return bool(self._tasks)

    async def stop(self) -> None:
        """Claim nothing more, finish the updates in hand, then stop the heartbeat."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._finished:
            try:
                await self.inbox.finish_many(self._finished)
            except Exception as error:  # taken over by the next worker: processed again
                log.warning("Could not mark %d update(s) done: %s", len(self._finished), error)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pruned_at = loop.time()
        while not self._stopping:
            self._wake.clear()
            try:
                finished = dict(self._finished)
                free = CONCURRENCY - len(self._tasks)
                claimed = await self.inbox.claim(free, finished)
                for update_id in finished:
                    del self._finished[update_id]
                if loop.time() - pruned_at > PRUNE_EVERY:
                    pruned_at = loop.time()
                    await self.inbox.prune()
            except Exception as error:
                await self.backoff.pause(error, self._stopped)
                continue
            self.backoff.recovered()
            for received in claimed:
                task = asyncio.create_task(self._process(received))
                self._tasks.add(task)
                task.add_done_callback(self._done)
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_LOOK)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # the next update of that chat may be ready now

    async def _process(self, received: Received) -> None:
        skipped = False
        if received.attempts > MAX_ATTEMPTS:
            log.error(
                "Skipped update %s: it stopped a worker %d times",
                received.update_id,
                received.attempts - 1,
            )
            skipped = True
        elif (stub := unreadable(received)) is not None:
            skipped = True  # the inbox could not store it (and said so): tell its chat
            await self._tell_unreadable(*stub)
        else:
            try:
                update = Update.de_json(received.payload, self.application.bot)
            except Exception as error:
                # An update this library cannot read (e.g. from an older Bot API server):
                # said once, with its id, and skipped; the others go on.
                log.warning(
                    "Skipped update %s: unreadable (%s: %s)",
                    received.update_id,
                    type(error).__name__,
                    str(error)[:200],
                )
                skipped = True
                chat_id, _user_id = owner_of(received.payload)
                await self._tell_unreadable(chat_id, language_of(received.payload))
            else:
                try:
                    await self.application.process_update(update)
                except Exception:
                    log.exception("Update %s could not be processed", received.update_id)
        self._finished[received.update_id] = skipped  # written by the loop's next claim

    async def _tell_unreadable(self, chat_id: int | None, language: str | None) -> None:
        """A short word to the chat of an update that was skipped (if it has a chat)."""
        if chat_id is None:
            return
        try:
            text = t("error.unreadable", normalize_language(language))
            await self.application.bot.send_message(chat_id, text)
        except Exception as error:
            log.warning("Could not tell chat %s its message was unreadable: %s", chat_id, error)


async def poll_updates(application: FocusApp, runner: UpdateRunner) -> None:
    """Long polling: each batch is stored before the next getUpdates confirms it.

    Raises Conflict when another process polls with the same token.
    """
    bot = application.bot
    offset: int | None = None
    backoff = Backoff("Polling for updates", log, first=1.0, cap=POLL_MAX_PAUSE)
    while True:
        try:
            with warnings.catch_warnings():
                # The library would rather parse the batch itself (Bot.get_updates), but one
                # update it cannot read would then fail the whole batch, again and again.
                warnings.simplefilter("ignore", PTBUserWarning)
                batch = await bot.do_api_request(
                    "getUpdates",
                    api_kwargs={
                        "offset": offset,
                        "timeout": POLL_TIMEOUT,
                        "allowed_updates": ALLOWED_UPDATES,
                    },
                    read_timeout=POLL_TIMEOUT + 10,
                )
            payloads = [item for item in batch if valid_update(item)]
            if len(payloads) != len(batch):
                log.warning(
                    "Skipped %d item(s) of getUpdates without an update_id",
                    len(batch) - len(payloads),
                )
            await runner.inbox.store(payloads)
        except (Conflict, InvalidToken):
            raise
        except Exception as error:
            # Telegram or the database away: the batch is fetched again (not confirmed).
            await backoff.pause(error)
            continue
        backoff.recovered()
        if payloads:
            offset = max(p["update_id"] for p in payloads) + 1
            runner.wake()


INT64: Final = 2**63


def valid_update(item: Any) -> bool:
    """A JSON object with an update_id a database column can hold (a forged one may not)."""
    update_id = item.get("update_id") if isinstance(item, dict) else None
    # JSON's true is no update_id, although Python's bool is an int.
    return type(update_id) is int and 0 <= update_id < INT64


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (systemd, docker) and SIGINT (Ctrl+C) ask for a graceful stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def serve_polling(application: FocusApp, site: Site | None = None) -> bool:
    """Long polling until SIGTERM/SIGINT; False if another process polls with this token.

    Stopping: no new claim, the updates in hand finish, the broadcast sender pauses between
    two messages, then the database is closed (handlers/runtime.py, `started`)."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with started(application, updates=True, site=site) as runtime:
        runner = runtime.runner
        assert runner is not None
        await application.bot.delete_webhook()
        polling = asyncio.create_task(poll_updates(application, runner), name="polling")
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if polling.done():
            error = polling.exception()
            if isinstance(error, Conflict):
                log.error(plain("cli.polling_conflict", "en"))
                return False
            if error is not None:
                raise error
        log.info("Stop signal received: finishing the updates in progress")
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
    return True
