"""How often to ask a remote service about a job: quickly while it moves, backing off while it waits."""

from __future__ import annotations

import email.utils
import time

MIN_SECONDS = 2.0
MAX_WHILE_PENDING = 10.0
MAX_WHILE_RUNNING = 6.0
GROWTH = 1.5


def next_poll_seconds(previous: float, *, status: str, changed: bool, floor: float = MIN_SECONDS) -> float:
    """The wait before the next status call.

    Args:
        previous: The last wait.
        status: The remote status just read.
        changed: Whether status, progress or message changed since the previous read.
        floor: The shortest wait (2 s; tests of other behaviour may lower it).

    Returns:
        The floor after a change; growing by half each unchanged read, up to 10 s while queued and
        6 s while running (scaled with the floor).
    """
    if changed:
        return floor
    cap = (MAX_WHILE_PENDING if status == "pending" else MAX_WHILE_RUNNING) * floor / MIN_SECONDS
    return min(max(previous, floor) * GROWTH, cap)


def retry_after_seconds(value: str | None, fallback: float, *, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), else `fallback`."""
    if not value:
        return fallback
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = time.time() if now is None else now
        return max(email.utils.parsedate_to_datetime(value).timestamp() - moment, 0.0)
    except (TypeError, ValueError):
        return fallback
