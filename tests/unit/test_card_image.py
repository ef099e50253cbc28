"""Which image a card shows: the thumbnail until there is a cutout, then the cutout's small WebP preview
(on the checkerboard); "open cutout" always links the full PNG."""

from __future__ import annotations

from home_editor.core.cards import card_for
from home_editor.core.models import JobStatus
from tests.factories import item

URLS = {"original.jpg": "/o", "thumb.webp": "/t", "cutout-abcdefghijkm.png": "/c.png"}


def test_before_its_cutout_a_card_shows_the_thumbnail() -> None:
    card = card_for(item(urls=URLS), None, None, now_ms=0)
    assert card.image_url == "/t" and card.cutout_url == ""


def test_with_a_cutout_a_card_shows_its_preview_and_links_the_full_png() -> None:
    done = item(
        cutout="cutout-abcdefghijkm.png",
        cutout_status=JobStatus.COMPLETED,
        urls=URLS | {"cutout-abcdefghijkm.webp": "/c.webp"},
    )
    card = card_for(done, None, None, now_ms=0)
    assert card.image_url == "/c.webp" and card.cutout_url == "/c.png"


def test_a_cutout_made_before_previews_existed_is_shown_itself() -> None:
    done = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED, urls=URLS)
    assert card_for(done, None, None, now_ms=0).image_url == "/c.png"
