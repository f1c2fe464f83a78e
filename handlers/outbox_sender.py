"""The outbox's Telegram side: each notice rendered from the database as it is now, and sent
(bot/outbox_sender.py sends the outbox through it; bot/outbox.py says why notices are rows).

A failed send is never repeated with the text it had: the transport's quick retries are off
for notices (`ONCE`), and the outbox's own retry renders the notice again when it leaves (a
card retried after its author's /forget is the anonymized card). The one exception is a
kept reply (`REPLY`): a reply that failed after its quick retries, sent again as it was.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Final

from telegram import ReplyParameters
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

from bot.i18n import t
from bot.outbox import CARD, GROUP, REPLY, SPEAKER, Notice, Outbox
from bot.outbox_sender import NothingToSend, OutboxSender
from bot.services import Services
from handlers import live_notices
from handlers.context import FocusApp, services_of
from handlers.proposal_views import GROUP_LANGUAGE, card_view, state_label
from handlers.transport import ONCE, KeepForLater, OutgoingRateLimiter, delivery_outcomes

log = logging.getLogger(__name__)

MISSING_CARD_MARKERS: Final = ("message to edit not found", "message can't be edited")


class TelegramNotices:
    """The outbox sender's transport (bot/outbox_sender.py NoticeTransport): each notice
    rendered from the database as it is now, sent once (`ONCE`: a failure comes back to the
    outbox, which renders it again for the next try)."""

    def __init__(self, application: FocusApp) -> None:
        self.application = application

    @property
    def services(self) -> Services:
        return services_of(self.application)

    async def __call__(self, notice: Notice) -> None:
        with delivery_outcomes():
            await self._deliver(notice)

    async def _deliver(self, notice: Notice) -> None:
        if live_notices.is_live_notice(notice):  # feedback requests, hidden questions' authors
            if not await live_notices.deliver(self.application, notice):
                raise NothingToSend()
            return
        if notice.kind == REPLY:
            await self._reply(notice)
            return
        if notice.proposal_id is None:
            raise NothingToSend()
        proposal = await self.services.requests.get(notice.proposal_id)
        if proposal is None:
            raise NothingToSend()
        if notice.kind == CARD:
            await self._card(proposal)
        elif notice.kind == SPEAKER:
            await self._speaker(proposal, notice)
        elif notice.kind == GROUP:
            await self._group(proposal, notice)
        else:
            raise NothingToSend()

    async def _card(self, proposal: Any) -> None:
        """Post the request's card to the organizers' group, or edit it to the request's
        current state (anonymized after /forget)."""
        chat_id = self.services.settings.organizer_chat_id
        if chat_id is None:
            raise NothingToSend()
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
        await self.services.reviews.set_organizer_message(proposal.id, chat_id, posted.message_id)

    async def _speaker(self, proposal: Any, notice: Notice) -> None:
        """A message to the request's author, in their language as it is now."""
        if proposal.user_id is None or notice.key is None:
            raise NothingToSend()  # they asked to be forgotten
        values = dict(notice.values)
        decision_event_id = values.pop("decision_event_id", None)
        lang = await self.services.users.language_of(proposal.user_id, proposal.language)
        if "state" in values:
            values["state"] = state_label(str(values["state"]), lang)
        text = t(notice.key, lang, reference=proposal.reference, title=proposal.title, **values)
        await self.application.bot.send_message(proposal.user_id, text, rate_limit_args=ONCE)
        if decision_event_id is not None:
            await self.services.reviews.mark_told(int(decision_event_id))

    async def _reply(self, notice: Notice) -> None:
        """A reply that failed after its quick retries, as it was rendered then; not to a
        person who has since asked to be forgotten."""
        params = notice.values.get("params")
        if notice.key is None or not isinstance(params, dict) or "chat_id" not in params:
            raise NothingToSend()
        chat_id = int(params["chat_id"])
        if chat_id > 0 and await self.services.users.get(chat_id) is None:
            raise NothingToSend()  # /forget since: what they were told goes with the rest
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBUserWarning)  # "use Bot.send_message": it was
            await self.application.bot.do_api_request(
                notice.key, api_kwargs=params, rate_limit_args=ONCE
            )

    async def _group(self, proposal: Any, notice: Notice) -> None:
        """A notice in the organizers' group, under the request's card when there is one."""
        chat_id = self.services.settings.organizer_chat_id
        if chat_id is None or notice.key is None:
            raise NothingToSend()
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


def outbox_sender(application: FocusApp) -> OutboxSender:
    """The outbox sender of this worker (started and stopped by the runtime,
    handlers/runtime.py), and where its replies that fail are kept: the rate limiter's
    `keep_for_later`, unhooked again by `unhook_kept_replies` at shutdown."""
    services = services_of(application)
    outbox = Outbox(services.sessions, services.worker)
    sender = OutboxSender(outbox, TelegramNotices(application))
    limiter = application.bot.rate_limiter
    if isinstance(limiter, OutgoingRateLimiter):
        limiter.keep_for_later = kept_reply(outbox, sender)
    return sender


def kept_reply(outbox: Outbox, sender: OutboxSender) -> KeepForLater:
    async def keep(method: str, params: dict[str, Any]) -> None:
        await outbox.keep_reply(method, params)
        sender.wake()

    return keep


def unhook_kept_replies(application: FocusApp) -> None:
    limiter = application.bot.rate_limiter
    if isinstance(limiter, OutgoingRateLimiter):
        limiter.keep_for_later = None


__all__ = ["OutboxSender", "TelegramNotices", "kept_reply", "outbox_sender", "unhook_kept_replies"]
