"""How much storage-lookup work a library's browser can cause: reconciling a mirror checks each file name
it claims with the storage (one Blob HEAD each, billed), and a forged mirror can claim thousands. Budgets
per library per time window (per process) bound that; each reconcile has its own caps as well."""

from __future__ import annotations

from collections.abc import Callable

MAX_LIBRARIES_REMEMBERED = 10_000


class LookupBudget:
    """At most `per_window` lookups per library in each window of `window_ms` (fixed windows)."""

    def __init__(self, *, per_window: int, window_ms: int, clock: Callable[[], int]) -> None:
        self.per_window = per_window
        self.window_ms = window_ms
        self._clock = clock
        self._used: dict[str, tuple[int, int]] = {}  # library id → (window start ms, lookups used)

    def left(self, library_id: str) -> int:
        """How many the library may still spend in this window."""
        now = self._clock()
        start, used = self._used.get(library_id, (now, 0))
        return self.per_window if now - start >= self.window_ms else max(0, self.per_window - used)

    def take(self, library_id: str) -> bool:
        """Spend one of the library's budget; False when none is left in this window."""
        now = self._clock()
        start, used = self._used.get(library_id, (now, 0))
        if now - start >= self.window_ms:
            start, used = now, 0
        if used >= self.per_window:
            return False
        self._used[library_id] = (start, used + 1)
        if len(self._used) > MAX_LIBRARIES_REMEMBERED:
            self._forget_ended_windows(now)
        return True

    def _forget_ended_windows(self, now: int) -> None:
        for library_id, (start, _) in list(self._used.items()):
            if now - start >= self.window_ms:
                del self._used[library_id]
