"""One budget for every message the bot sends: replies first, broadcasts take what is left.

Telegram allows about 30 messages per second per bot, counting replies and announcements
together. The broadcast sender paces itself at BROADCAST_RATE, but the people chatting with
the bot meanwhile need their share too: without a shared budget the two add up past the
limit and Telegram answers 429 to both. Every sending call goes through this limiter (it is
python-telegram-bot's rate-limiter hook): sends are spaced at most `rate` per second; a
reply takes the next free slot at once; a background send (the broadcast) only books a slot
when no backlog is waiting, so replies never queue behind an announcement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import BaseRateLimiter

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

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint in SENDING_METHODS:
            await self.acquire(
                background=bool(rate_limit_args and rate_limit_args.get("background"))
            )
        return await callback(*args, **kwargs)
