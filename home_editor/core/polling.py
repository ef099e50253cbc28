"""How often to ask a remote service about a job: quickly while it moves, backing off while it waits."""

from __future__ import annotations

import email.utils
import math
import re
import time

MIN_SECONDS = 2.0
MAX_WHILE_PENDING = 10.0
MAX_WHILE_RUNNING = 6.0
GROWTH = 1.5
MAX_RETRY_AFTER_SECONDS = 60.0
MAX_HEADER_CHARS = 64
DELAY_SECONDS = re.compile(r"[0-9]{1,9}")  # RFC 9110 delay-seconds: digits only (no sign, dot, nan or inf)


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


def retry_after_seconds(
    value: str | None, fallback: float, *, now: float | None = None, longest: float = MAX_RETRY_AFTER_SECONDS
) -> float:
    """Seconds to wait from a Retry-After header, never trusted as is.

    Args:
        value: The header: delay-seconds (digits only) or an HTTP date.
        fallback: The wait when the header is absent or unusable (a finite number).
        now: The current Unix time (for HTTP dates; tests pin it).
        longest: The longest wait honoured; longer asks are cut to it.

    Returns:
        A finite wait in [0, longest]; `fallback` for anything else (nan, inf, negative or fractional
        numbers, garbage, an unparseable or absurd date).
    """
    if not value or len(value) > MAX_HEADER_CHARS:
        return fallback
    if DELAY_SECONDS.fullmatch(value.strip()):
        seconds = float(value.strip())
    else:
        try:
            moment = time.time() if now is None else now
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - moment
        except (TypeError, ValueError, OverflowError, IndexError):
            return fallback
    if not math.isfinite(seconds):
        return fallback
    return min(max(seconds, 0.0), longest)
