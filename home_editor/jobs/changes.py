"""Per-library change numbers that open tabs wait on, so they refresh the moment something changes."""

from __future__ import annotations

import asyncio
import contextlib


class ChangeHub:
    """`notify(library)` wakes every waiter of that library in this process (others poll).

    Each change takes the next number of one process-wide sequence; a library's version is the number
    of its latest change. Only libraries that changed since they last went idle are kept: `forget` drops
    one, whose version then reads as the latest forgotten change (at least its own), so a tab that saw
    an older version still notices what it missed, and memory does not grow with every library served.
    """

    def __init__(self) -> None:
        self._sequence = 0
        self._versions: dict[str, int] = {}
        self._forgotten = 0
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def version(self, library_id: str) -> int:
        """A number that changes whenever the library changes in this process."""
        return self._versions.get(library_id, self._forgotten)

    def notify(self, library_id: str) -> None:
        """Record a change and wake the library's waiters."""
        self._sequence += 1
        self._versions[library_id] = self._sequence
        for event in self._waiters.pop(library_id, ()):
            event.set()

    def forget(self, library_id: str) -> None:
        """Drop what is kept for a library that went idle (its version stays different from any older one)."""
        if library_id in self._versions:
            self._forgotten = max(self._forgotten, self._versions.pop(library_id))

    def tracked(self) -> int:
        """How many libraries the hub keeps anything for (versions or waiters)."""
        return len(self._versions.keys() | self._waiters.keys())

    async def wait(self, library_id: str, seen_version: int, *, timeout: float) -> None:
        """Return once the library changed after `seen_version`, or after `timeout` seconds."""
        if self.version(library_id) != seen_version:
            return
        event = asyncio.Event()
        waiters = self._waiters.setdefault(library_id, set())
        waiters.add(event)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancel (see Runner)
                    await event.wait()
        finally:
            waiters.discard(event)
            if not waiters and self._waiters.get(library_id) is waiters:
                del self._waiters[library_id]
