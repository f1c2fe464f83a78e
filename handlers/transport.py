"""The Bot API side of sending: one budget for every message (replies first, broadcasts take
what is left), and the broadcast sender's transport.

Telegram allows about 30 messages per second per bot, counting replies and announcements
together. The broadcast sender paces itself at BROADCAST_RATE, but the people chatting with
the bot meanwhile need their share too: without a shared budget the two add up past the
limit and Telegram answers 429 to both. Every sending call goes through this limiter (it is
python-telegram-bot's rate-limiter hook): sends are spaced at most `rate` per second; a
reply takes the next free slot at once; a background send (the broadcast) only books a slot
when no backlog is waiting, so replies never queue behind an announcement.

A person never loses an answer to a passing problem: when Telegram answers a reply with a
flood wait (429, RetryAfter), every send of this process waits that long and the reply goes
again; a 5xx, a timeout or a dropped connection is tried again a few times within seconds.
Only a refusal (400, 403...) is final. Broadcast sends are not retried here: the broadcast
sender has its own policy (bot/broadcasts.py), and learns of the flood wait to pause:
`telegram_send` is its transport, Telegram's answers translated into the sender's terms.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Final

from telegram import TelegramObject
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.broadcast_sender import (
    DeliveryRejected,
    OutcomeUnknown,
    RecipientGone,
    RetryLater,
    Transport,
)

log = logging.getLogger(__name__)
Answer = bool | dict[str, Any] | list[dict[str, Any]]
# A reply meeting a transient failure is tried again after these pauses (seconds).
REPLY_RETRY_PAUSES: Final = (0.5, 1.0, 2.0)
# Seconds of flood waits a reply sits through before the error is final (Telegram's waits are
# seconds; a person would rather get a late answer than none).
MAX_FLOOD_WAIT: Final = 120.0
# Long polling is retried by python-telegram-bot itself.
NOT_RETRIED: Final = frozenset({"getUpdates", "setWebhook", "deleteWebhook"})

# What Telegram counts as a message; edits, callback answers and getUpdates are not limited
# here (they do not use the per-bot message budget).
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendLocation",
    }
)
BACKGROUND = {"background": True}  # rate_limit_args for sends that may wait (broadcasts)
# rate_limit_args for a send whose caller retries it itself, rendering it again (the outbox):
# paced like a reply, but a failure comes straight back instead of the same text going again.
ONCE = {"once": True}
# Keeps a reply for later: (Bot API method, its parameters as sent).
KeepForLater = Callable[[str, dict[str, Any]], Coroutine[Any, Any, None]]
# Telegram's answers meaning the person is gone for good (lower case).
GONE_MARKERS: Final = (
    "chat not found",
    "user is deactivated",
    "peer_id_invalid",
    "user not found",
)


class OutgoingRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Spaces sending calls at most `rate` per second, replies before background sends."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        # Where a reply that still fails after its quick retries is kept, to be sent again
        # later (the outbox: handlers/outbox_sender.py sets it); None: it is only logged.
        self.keep_for_later: KeepForLater | None = None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def acquire(self, *, background: bool = False) -> None:
        """Wait for this send's slot."""
        while True:
            now = self._clock()
            backlog = self._next_slot - now
            if not background or backlog <= self.interval:
                slot = max(now, self._next_slot)
                self._next_slot = slot + self.interval
                if slot > now:
                    await self._sleep(slot - now)
                return
            # Replies have booked the coming slots: look again once they are used.
            await self._sleep(backlog - self.interval)

    def hold_back(self, seconds: float) -> None:
        """Telegram asked for a pause: no send of this process before it is over."""
        self._next_slot = max(self._next_slot, self._clock() + seconds)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> Answer:
        background = bool(rate_limit_args and rate_limit_args.get("background"))
        once = (
            background
            or endpoint in NOT_RETRIED
            or bool(rate_limit_args and rate_limit_args.get("once"))
        )
        limited = endpoint in SENDING_METHODS
        waited = 0.0
        tries = 0
        pauses = iter(() if once else REPLY_RETRY_PAUSES)
        while True:
            if limited:
                await self.acquire(background=background)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait = retry_seconds(error)
                self.hold_back(wait)
                waited += wait
                if once or waited > MAX_FLOOD_WAIT:
                    raise
                log.info("Flood wait of %.0f s before %s: waiting, then sending", wait, endpoint)
                if not limited:
                    await self._sleep(wait)
            except BadRequest as error:
                if endpoint == "answerCallbackQuery" and press_expired(error):
                    # A press handled late (the bot was down): the handler goes on and its
                    # result still reaches the chat; False tells it the answer was not shown.
                    log.info("A button press was answered too late: %s", error)
                    return False
                raise  # a refusal: final
            except (Forbidden, InvalidToken):
                raise  # refusals: final
            except NetworkError as error:  # 5xx, timeouts, dropped connections
                tries += 1
                pause = next(pauses, None)
                if pause is None:
                    if tries > 1 and "chat_id" in data:  # a reply lost: said once (no text)
                        kept = await self._keep(endpoint, data)
                        log.warning(
                            "Gave up on %s to chat %s after %d tries (%s: %s): %s",
                            endpoint,
                            data.get("chat_id"),
                            tries,
                            type(error).__name__,
                            error.message[:100],
                            "kept to send again later" if kept else "not delivered",
                        )
                    raise
                log.info("%s failed (%s): trying again in %.1f s", endpoint, error, pause)
                await self._sleep(pause)

    async def _keep(self, endpoint: str, data: dict[str, Any]) -> bool:
        """Keep a reply that could not be sent (a message, not an edit: an edit sent late
        could undo a newer one); False if it cannot be kept (a file, no database)."""
        if self.keep_for_later is None or endpoint not in SENDING_METHODS:
            return False
        try:
            params = {key: as_json(value) for key, value in data.items() if value is not None}
        except TypeError:
            return False  # an upload: nothing to keep it with
        try:
            await self.keep_for_later(endpoint, params)
        except Exception as error:
            log.warning("Could not keep the %s to send it again: %s", endpoint, error)
            return False
        return True


def as_json(value: object) -> Any:
    """A request parameter as JSON (what the Bot API is sent); TypeError for a file."""
    if isinstance(value, TelegramObject):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    raise TypeError(f"not a JSON parameter: {type(value).__name__}")


def press_expired(error: BadRequest) -> bool:
    """Telegram no longer takes an answer to this button press (about 15 s after it)."""
    message = error.message.lower()
    return "query is too old" in message or "query id is invalid" in message


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@contextlib.contextmanager
def delivery_outcomes() -> Iterator[None]:
    """Telegram's refusals and flood waits, in the senders' terms (bot/broadcast_sender.py):
    RetryAfter -> RetryLater; 403 or a chat that is gone -> RecipientGone; another 400 ->
    DeliveryRejected. Anything else goes through as it is (the senders retry it)."""
    try:
        yield
    except RetryAfter as error:
        raise RetryLater(retry_seconds(error)) from error
    except Forbidden as error:
        raise RecipientGone(error.message) from error
    except BadRequest as error:
        if any(marker in error.message.lower() for marker in GONE_MARKERS):
            raise RecipientGone(error.message) from error
        raise DeliveryRejected(error.message) from error


def telegram_send(bot: ExtBot[Any]) -> Transport:
    """The broadcast sender's transport: plain text, Telegram's errors translated."""

    async def send(chat_id: int, text: str) -> None:
        try:
            with delivery_outcomes():
                # Plain text, exactly as the admin wrote it (no HTML to break).
                await bot.send_message(chat_id, text, parse_mode=None, rate_limit_args=BACKGROUND)
        except TimedOut as error:
            if "pool" in error.message.lower():
                raise  # never left this process: retried like any other failure
            raise OutcomeUnknown(error.message) from error

    return send
