"""Per-library change numbers that open tabs wait on, so they refresh the moment something changes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable

MAX_KEPT_VERSIONS = 10_000  # libraries whose version is kept without a waiter (a bound for web-only processes)


def change_key(library_id: str) -> str:
    """What a change notice carries across processes instead of the library's id, which is its key: a
    hash that names the library to whoever already knows it, and nothing to whoever reads a log."""
    return hashlib.blake2b(library_id.encode(), digest_size=16, person=b"he-change").hexdigest()


class ChangeHub:
    """`notify(library)` wakes every waiter of that library in this process; with a `publish` hook (Redis)
    the change also goes to the other processes, whose hubs hear it through `notify_key`.

    Each change takes the next number of one process-wide sequence; a library's version is the number
    of its latest change. Only libraries that changed since they last went idle are kept: `forget` drops
    one, whose version then reads as the latest forgotten change (at least its own), so a tab that saw
    an older version still notices what it missed, and memory does not grow with every library served.
    """

    def __init__(self, publish: Callable[[str], None] | None = None) -> None:
        self._sequence = 0
        self._versions: dict[str, int] = {}
        self._forgotten = 0
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._watched: dict[str, str] = {}  # change key -> library id, for libraries a tab looks at
        self._publish = publish

    def set_publisher(self, publish: Callable[[str], None] | None) -> None:
        """Send every local change to other processes too (called with the library's change key)."""
        self._publish = publish

    def version(self, library_id: str) -> int:
        """A number that changes whenever the library changes (in this process, or anywhere with a publisher).
        Reading it marks the library as watched, so a change heard from elsewhere until the tab's wait ends
        is not missed."""
        self._watched[change_key(library_id)] = library_id
        return self._versions.get(library_id, self._forgotten)

    def notify(self, library_id: str) -> None:
        """Record a change, wake the library's waiters, and tell the other processes."""
        self._changed(library_id)
        if self._publish is not None:
            self._publish(change_key(library_id))

    def notify_key(self, key: str) -> None:
        """A change heard from another process: wake this process's waiters of that library, if any look."""
        library_id = self._watched.get(key)
        if library_id is not None:
            self._changed(library_id)

    def _changed(self, library_id: str) -> None:
        self._sequence += 1
        self._versions.pop(library_id, None)
        self._versions[library_id] = self._sequence  # newest last: the oldest are dropped first
        for event in self._waiters.pop(library_id, ()):
            event.set()
        while len(self._versions) > MAX_KEPT_VERSIONS:
            self.forget(next(iter(self._versions)))

    def forget(self, library_id: str) -> None:
        """Drop what is kept for a library that went idle (its version stays different from any older one)."""
        if library_id in self._versions:
            self._forgotten = max(self._forgotten, self._versions.pop(library_id))

    def tracked(self) -> int:
        """How many libraries the hub keeps anything for (versions, waiters or watches)."""
        return len(self._versions.keys() | self._waiters.keys() | set(self._watched.values()))

    async def wait(self, library_id: str, seen_version: int, *, timeout: float) -> None:
        """Return once the library changed after `seen_version`, or after `timeout` seconds."""
        if self.version(library_id) != seen_version:
            self._unwatch_if_idle(library_id)
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
            self._unwatch_if_idle(library_id)

    def _unwatch_if_idle(self, library_id: str) -> None:
        """The tab's wait ended (it reads the version again before its next snapshot): stop watching."""
        if library_id not in self._waiters:
            self._watched.pop(change_key(library_id), None)
