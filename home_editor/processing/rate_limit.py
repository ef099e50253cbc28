"""A token bucket shared by every job using one API key, so polling stays inside the provider's budget."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """At most `per_minute` calls per minute on average, with bursts of up to `burst`."""

    def __init__(self, *, per_minute: float, burst: int = 4) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until a call is allowed."""
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)
