"""The pace of a tab's page updates: a change after a quiet spell is shown at once; changes that follow an
update closely wait for the end of its gap, so a burst of job updates becomes one page update. The gap grows
with the library, as every update sends the whole list of cards: 20 ms for a few cards, 120 ms at 1,000.
(The browser re-renders only the cards that changed, so the gap is kept short: a job's end that follows
its "Saving…" step closely waits at most that long.)"""

from __future__ import annotations

BASE_GAP_SECONDS = 0.02
GAP_SECONDS_PER_CARD = 0.0001


def update_gap(cards: int) -> float:
    """The shortest time between two page updates of a tab showing `cards` cards."""
    return BASE_GAP_SECONDS + GAP_SECONDS_PER_CARD * cards


def wait_before_update(since_last_update: float, *, cards: int) -> float:
    """Seconds to wait before showing a change, given the seconds since the tab's last page update."""
    return max(0.0, update_gap(cards) - since_last_update)
