"""The outbox's Telegram side: render each notice from the database as it is now, send it,
and record what happened (bot/outbox.py says why notices are rows).

A failed send is never repeated with the text it had: the transport's quick retries are off
for notices (`ONCE`), and the outbox's own retry renders the notice again when it leaves (a
card retried after its author's /forget is the anonymized card).

Runs on every worker: rows are claimed one by one, so any worker may send any notice; the
worker that wrote one is woken to send it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final

from telegram import ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.backoff import Backoff
from bot.i18n import t
from bot.outbox import CARD, GROUP, SPEAKER, Notice, Outbox
from bot.services import Services
from handlers import live_notices
from handlers.context import OUTBOX_KEY, FocusApp, services_of
from handlers.proposal_views import GROUP_LANGUAGE, card_view, state_label
from handlers.transport import ONCE, retry_seconds

log = logging.getLogger(__name__)

IDLE_LOOK: Final = 1.0  # seconds between two looks when nothing woke the sender
BATCH: Final = 8
SENDER_KEY: Final = OUTBOX_KEY
MISSING_CARD_MARKERS: Final = ("message to edit not found", "message can't be edited")


class Skip(Exception):
    """Nothing to send any more (no organizers' group, the person was forgotten)."""


class OutboxSender:
    def __init__(self, application: FocusApp) -> None:
        self.application = application
        services = services_of(application)
        self.outbox = Outbox(services.sessions, services.worker)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self.backoff = Backoff("Sending the outbox", log)
        self._task: asyncio.Task[None] | None = None

    @property
    def services(self) -> Services:
        return services_of(self.application)

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
                    await self._send(notice)
                turns += 1
                if turns % 600 == 0:
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
                    await asyncio.wait_for(self._wake.wait(), IDLE_LOOK)
        self._idle.set()

    async def _send(self, notice: Notice) -> None:
        try:
            await self._deliver(notice)
        except Skip:
            await self.outbox.sent(notice)
        except RetryAfter as error:
            await self.outbox.retry(notice, str(error), after=retry_seconds(error))
        except (BadRequest, Forbidden) as error:  # refused: final
            log.warning("Notice %s (%s) refused: %s", notice.id, notice.kind, error)
            await self.outbox.failed(notice, str(error))
        except Exception as error:  # 5xx, timeouts, dropped connections, the database
            log.info("Notice %s (%s) failed, will retry: %s", notice.id, notice.kind, error)
            await self.outbox.retry(notice, f"{type(error).__name__}: {error}")
        else:
            await self.outbox.sent(notice)

    async def _deliver(self, notice: Notice) -> None:
        if live_notices.is_live_notice(notice):  # feedback requests, hidden questions' authors
            if not await live_notices.deliver(self.application, notice):
                raise Skip()
            return
        if notice.proposal_id is None:
            raise Skip()
        proposal = await self.services.proposals.get(notice.proposal_id)
        if proposal is None:
            raise Skip()
        if notice.kind == CARD:
            await self._card(proposal)
        elif notice.kind == SPEAKER:
            await self._speaker(proposal, notice)
        elif notice.kind == GROUP:
            await self._group(proposal, notice)
        else:
            raise Skip()

    async def _card(self, proposal: Any) -> None:
        """Post the request's card to the organizers' group, or edit it to the request's
        current state (anonymized after /forget)."""
        chat_id = self.services.settings.organizer_chat_id
        if chat_id is None:
            raise Skip()
        view = card_view(self.services.content.content, proposal, GROUP_LANGUAGE, back=False)
        bot = self.application.bot
        if proposal.organizer_message_id is not None:
            try:
                await bot.edit_message_text(
                    view.text,
                    chat_id=proposal.organizer_chat_id,
                    message_id=proposal.organizer_message_id,
                    reply_markup=view.keyboard,
                    disable_web_page_preview=True,
                    rate_limit_args=ONCE,
                )
                return
            except BadRequest as error:
                message = error.message.lower()
                if "not modified" in message:
                    return
                if not any(marker in message for marker in MISSING_CARD_MARKERS):
                    raise
                # The card was deleted in the group: post it again below.
        posted = await bot.send_message(
            chat_id,
            view.text,
            reply_markup=view.keyboard,
            disable_web_page_preview=True,
            rate_limit_args=ONCE,
        )
        await self.services.proposals.set_organizer_message(
            proposal.id, chat_id, posted.message_id
        )

    async def _speaker(self, proposal: Any, notice: Notice) -> None:
        """A message to the request's author, in their language as it is now."""
        if proposal.user_id is None or notice.key is None:
            raise Skip()  # they asked to be forgotten
        values = dict(notice.values)
        decision_event_id = values.pop("decision_event_id", None)
        lang = await self.services.users.language_of(proposal.user_id, proposal.language)
        if "state" in values:
            values["state"] = state_label(str(values["state"]), lang)
        text = t(notice.key, lang, reference=proposal.reference, title=proposal.title, **values)
        await self.application.bot.send_message(proposal.user_id, text, rate_limit_args=ONCE)
        if decision_event_id is not None:
            await self.services.proposals.mark_told(int(decision_event_id))

    async def _group(self, proposal: Any, notice: Notice) -> None:
        """A notice in the organizers' group, under the request's card when there is one."""
        chat_id = self.services.settings.organizer_chat_id
        if chat_id is None or notice.key is None:
            raise Skip()
        values = {k: v for k, v in notice.values.items() if k != "reply_to_card"}
        text = t(
            notice.key,
            GROUP_LANGUAGE,
            reference=proposal.reference,
            title=proposal.title,
            **values,
        )
        reply = None
        if notice.values.get("reply_to_card") and proposal.organizer_message_id:
            reply = ReplyParameters(
                proposal.organizer_message_id, allow_sending_without_reply=True
            )
        await self.application.bot.send_message(
            chat_id, text, reply_parameters=reply, rate_limit_args=ONCE
        )


def start_outbox_sender(application: FocusApp) -> None:
    if SENDER_KEY not in application.bot_data:
        sender = OutboxSender(application)
        application.bot_data[SENDER_KEY] = sender
        sender.start()


async def stop_outbox_sender(application: FocusApp) -> None:
    sender = application.bot_data.pop(SENDER_KEY, None)
    if isinstance(sender, OutboxSender):
        await sender.stop()


__all__ = ["OutboxSender", "TelegramError", "start_outbox_sender", "stop_outbox_sender"]
