"""The pace of a tab's page updates: a change after a quiet spell is shown at once; changes that follow an
update closely wait for the end of its gap, so a burst of job updates becomes one page update."""

from __future__ import annotations

MIN_GAP_SECONDS = 0.15


def wait_before_update(since_last_update: float, *, min_gap: float = MIN_GAP_SECONDS) -> float:
    """Seconds to wait before showing a change, given the seconds since the tab's last page update."""
    return max(0.0, min_gap - since_last_update)
