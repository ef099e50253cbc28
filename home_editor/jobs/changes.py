"""Per-library change counters that open tabs wait on, so they refresh the moment something changes."""

from __future__ import annotations

import asyncio
import collections
import contextlib


class ChangeHub:
    """`notify(library)` wakes every waiter of that library in this process (others poll)."""

    def __init__(self) -> None:
        self._versions: collections.Counter[str] = collections.Counter()
        self._events: dict[str, asyncio.Event] = {}

    def version(self, library_id: str) -> int:
        """How many changes the library has seen in this process."""
        return self._versions[library_id]

    def notify(self, library_id: str) -> None:
        """Record a change and wake the library's waiters."""
        self._versions[library_id] += 1
        event = self._events.pop(library_id, None)
        if event is not None:
            event.set()

    async def wait(self, library_id: str, seen_version: int, *, timeout: float) -> None:
        """Return once the library changed after `seen_version`, or after `timeout` seconds."""
        if self._versions[library_id] != seen_version:
            return
        event = self._events.setdefault(library_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
