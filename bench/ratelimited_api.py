"""A Bot API stand-in with Telegram's flood limits, for the broadcast benchmark.

Every message-sending call counts against a sliding one-second window: at most `per_second`
messages in all and one per chat per `per_chat_interval`. Over either limit the answer is
429 "Too Many Requests: retry after N" (N whole seconds, at least 1, as Telegram gives it);
a chat in `blocked` answers 403 "Forbidden: bot was blocked by the user". Accepted messages
are recorded with their time, so duplicates, losses and the sustained rate can be counted.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from devtools.local_api import JSON, ApiError, LocalBotApi

SENDING_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}
)


class RateLimitedBotApi(LocalBotApi):
    """LocalBotApi that enforces ~30 messages/s overall and 1/s per chat, and blocks some."""

    def __init__(
        self,
        *,
        per_second: int = 30,
        per_chat_interval: float = 1.0,
        blocked: frozenset[int] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval
        self.blocked = blocked
        self._clock = clock
        self._window: deque[float] = deque()
        self._last_by_chat: dict[int, float] = {}
        self.too_many: Counter[int] = Counter()  # chat -> 429 answers
        self.blocked_answers: Counter[int] = Counter()  # chat -> 403 answers
        self.accepted: list[tuple[float, int, str]] = []  # (time, chat, text)
        self.refused: list[tuple[float, int]] = []  # (time, chat) of each 403 "blocked"

    def handle(
        self,
        method: str,
        params: JSON,
        files: dict[str, bytes] | None = None,
        file_names: dict[str, str] | None = None,
    ) -> Any:
        if method in SENDING_METHODS:
            self._admit(int(params["chat_id"]))
        result = super().handle(method, params, files, file_names)
        if method in SENDING_METHODS:
            self.accepted.append((self._clock(), int(params["chat_id"]), str(params.get("text"))))
        return result

    def _admit(self, chat_id: int) -> None:
        """Raise 429 over a limit, 403 for a blocked chat; otherwise count this message."""
        now = self._clock()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        wait = 0.0
        if len(self._window) >= self.per_second:
            wait = self._window[0] + 1.0 - now
        last = self._last_by_chat.get(chat_id)
        if last is not None and now - last < self.per_chat_interval:
            wait = max(wait, last + self.per_chat_interval - now)
        if wait > 0:
            self.too_many[chat_id] += 1
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        # A refused message still used the budget: Telegram counts requests, not deliveries.
        self._window.append(now)
        self._last_by_chat[chat_id] = now
        if chat_id in self.blocked:
            self.blocked_answers[chat_id] += 1
            self.refused.append((now, chat_id))
            raise ApiError(403, "Forbidden: bot was blocked by the user")
