"""What a library snapshot puts on a page, worked out in full (plain computing: no Reflex, no I/O; it
runs on the store's thread, so a large library's encoding stays off the event loop)."""

from __future__ import annotations

import dataclasses
import hashlib

from home_editor.core.cards import Card, Stats, cards_for, stats_for
from home_editor.core.clock import now_ms
from home_editor.core.mirror import encode_items, encode_jobs
from home_editor.core.models import Snapshot


@dataclasses.dataclass(frozen=True)
class PageView:
    """A snapshot's cards, counts, their digest and the mirror's texts; `version` is the library's change
    number it was read at (a tab waits for the next change after it)."""

    snapshot: Snapshot
    cards: list[Card]
    stats: Stats
    digest: str
    items_text: str
    jobs_text: str
    version: int = 0


def page_view(snapshot: Snapshot, *, version: int = 0) -> PageView:
    """The page's view of a snapshot read at change number `version`."""
    cards, stats = cards_for(snapshot, now_ms=now_ms()), stats_for(snapshot)
    digest = hashlib.blake2b(repr((cards, stats)).encode(), digest_size=12).hexdigest()
    return PageView(
        snapshot, cards, stats, digest, encode_items(snapshot.items), encode_jobs(snapshot.jobs), version=version
    )
