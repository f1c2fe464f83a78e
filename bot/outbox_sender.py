"""OutboxSender: sends the notices of the outbox (bot/outbox.py says why notices are rows).

Nothing here knows Telegram. The sender is given a `NoticeTransport`: `await send(notice)`
renders the notice from the database as it is now and hands it to the messenger, translating
the messenger's answers into the outcomes of bot/broadcast_sender.py (handlers/outbox_sender.py
has Telegram's). A failed send is never repeated with the text it had: the outbox's own retry
renders the notice again when it leaves (a card retried after its author's /forget is the
anonymized card).

Runs on every worker: rows are claimed in one statement (bot/claims.py), so any worker may
send any notice; the worker that wrote one is woken to send it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final, Protocol

from bot.backoff import Backoff
from bot.broadcast_sender import DeliveryRejected, RecipientGone, RetryLater
from bot.outbox import Notice, Outbox

log = logging.getLogger(__name__)

IDLE_LOOK: Final = 1.0  # seconds between two looks when nothing woke the sender
BATCH: Final = 8
PRUNE_EVERY: Final = 600  # turns


class NothingToSend(Exception):
    """The notice has no one to go to any more (no organizers' group, the person was
    forgotten): done, nothing sent."""


class NoticeTransport(Protocol):
    """How the sender hands one notice to the messenger: `await send(notice)`.

    Returning means delivered. Otherwise it raises what happened: NothingToSend (done),
    RetryLater (flood control: tried again after that many seconds), RecipientGone or
    DeliveryRejected (refused: final); any other exception is retried with back-off (the
    notice is rendered again then).
    """

    async def __call__(self, notice: Notice, /) -> None: ...


class OutboxSender:
    def __init__(
        self, outbox: Outbox, send: NoticeTransport, *, idle_look: float = IDLE_LOOK
    ) -> None:
        self.outbox = outbox
        self._send_notice = send
        self.idle_look = idle_look
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self.backoff = Backoff("Sending the outbox", log)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Until nothing due is left to send (the tests and the terminal chat wait for it)."""
        await self._idle.wait()

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        turns = 0
        while not self._stopping:
            self._wake.clear()
            try:
                notices = await self.outbox.claim(BATCH)
                for notice in notices:
                    await self.send(notice)
                turns += 1
                if turns % PRUNE_EVERY == 0:
                    await self.outbox.prune()
            except Exception as error:
                self.outbox.lost_track()
                await self.backoff.pause(error, self._stopped)
                continue
            self.backoff.recovered()
            if not notices:
                if not self._wake.is_set():
                    self._idle.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_look)
        self._idle.set()

    async def send(self, notice: Notice) -> None:
        """Send one claimed notice and record its outcome (raises only for the database)."""
        try:
            await self._send_notice(notice)
        except NothingToSend:
            await self.outbox.sent(notice)
        except RetryLater as error:
            await self.outbox.retry(notice, str(error), after=error.seconds)
        except (RecipientGone, DeliveryRejected) as error:  # refused: final
            log.warning("Notice %s (%s) refused: %s", notice.id, notice.kind, error)
            await self.outbox.failed(notice, str(error))
        except Exception as error:  # 5xx, timeouts, dropped connections, the database
            log.info("Notice %s (%s) failed, will retry: %s", notice.id, notice.kind, error)
            if not await self.outbox.retry(notice, f"{type(error).__name__}: {error}"):
                log.warning("Notice %s (%s) given up: %s", notice.id, notice.kind, error)
        else:
            await self.outbox.sent(notice)
