"""How a process that claims jobs finds libraries with work that no tab woke: at once when another
process says it queued some, and every poll in the janitor's sweep (after a restart, or a notice that
never came), which also drops settled jobs past their time to live now and then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from home_editor.database.async_store import AsyncLibraryStore
from home_editor.settings import Settings

logger = logging.getLogger(__name__)


class Janitor:
    """Wakes the runner's libraries that have work, when told and every poll (one per runner)."""

    def __init__(
        self,
        store: AsyncLibraryStore,
        *,
        settings: Settings,
        clock: Callable[[], int],
        wake: Callable[[str], None],
        before_sweep: Callable[[], None],
    ) -> None:
        """Args:
        store, settings, clock: The runner's.
        wake: Starts (or nudges) a library's drain.
        before_sweep: The runner's own upkeep at each sweep (it forgets what no longer holds anything back).
        """
        self._store = store
        self._settings = settings
        self._clock = clock
        self._wake = wake
        self._before_sweep = before_sweep
        self._sweeping: asyncio.Task[None] | None = None
        self._looking: asyncio.Task[None] | None = None
        self._look_again = False
        self._last_cleanup_ms = 0

    def look_now(self) -> None:
        """Wake every library that has work (one look at a time; a call during a look makes one more, so
        nothing queued meanwhile waits for the poll)."""
        if self._looking is not None and not self._looking.done():
            self._look_again = True
            return
        self._looking = asyncio.create_task(self._look(), name="home-editor-look-for-work")

    async def _look(self) -> None:
        while True:
            self._look_again = False
            try:
                for library_id in await self._store.libraries_with_work():
                    self._wake(library_id)
            except Exception:
                logger.exception("Could not look for work; the next poll will")
            if not self._look_again:
                return

    def start(self) -> None:
        """Sweep every poll from now on (once: a second start changes nothing)."""
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.create_task(self._sweep_forever(), name="home-editor-janitor")

    async def sweep(self) -> None:
        """One step: wake libraries that have work (e.g. after a restart); drop old settled jobs."""
        self._before_sweep()
        for library_id in await self._store.libraries_with_work():
            self._wake(library_id)
        if self._clock() - self._last_cleanup_ms >= self._settings.cleanup_interval_seconds * 1000:
            removed = await self._store.cleanup(now_ms=self._clock(), ttl_ms=self._settings.job_ttl_ms)
            self._last_cleanup_ms = self._clock()
            if removed:
                logger.info("Removed %d settled jobs older than the time to live", removed)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                logger.exception("Janitor sweep failed; trying again")
            await asyncio.sleep(self._settings.poll_seconds)

    def tasks(self) -> list[asyncio.Task[None]]:
        """Its tasks, for the runner's shutdown to cancel."""
        return [task for task in (self._sweeping, self._looking) if task is not None]
