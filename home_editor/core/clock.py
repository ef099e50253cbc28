"""The app's clock: wall-clock milliseconds, the one time base of records, leases and back-offs."""

from __future__ import annotations

import time

_last_ms = 0


def now_ms() -> int:
    """Wall-clock time in milliseconds (leases and back-offs are compared across processes), strictly
    increasing within the process so that records made in one go keep their order ("oldest first")."""
    global _last_ms
    _last_ms = max(int(time.time() * 1000), _last_ms + 1)
    return _last_ms
