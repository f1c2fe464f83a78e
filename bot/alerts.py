"""AlertThrottle: tell admins about an error kind at most once per interval."""

from __future__ import annotations

import time
from collections.abc import Callable


class AlertThrottle:
    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}

    def allow(self, kind: str) -> bool:
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            return False
        self._last[kind] = now
        return True
