"""The completion toast matches what happened: "Background removed" only when it was."""

from __future__ import annotations

import pytest

from home_editor.core.cutout_notes import doubtful_note, kept_whole_note
from home_editor.core.models import Item, JobStatus
from home_editor.processing.local_processor import LOW_CONFIDENCE
from home_editor.state.refresh import _news


def _toast_text(note: str) -> str:
    item = Item(
        id="i1", name="chair.jpg", created_ms=1, updated_ms=2, cutout_status=JobStatus.COMPLETED, cutout_note=note
    )
    (toast,) = _news(item, "processing/none", "completed/none")
    return str(toast)


@pytest.mark.parametrize(
    "note",
    [
        kept_whole_note("the model kept almost nothing"),
        LOW_CONFIDENCE.format(reason="the background is too busy for the local method"),
        "The image was already transparent; kept as it was.",
    ],
)
def test_a_photo_kept_whole_is_not_announced_as_removed(note: str) -> None:
    text = _toast_text(note)
    assert '"warning"' in text and "Background not removed: “chair.jpg”." in text
    assert "Background removed:" not in text


def test_a_doubtful_cutout_says_so() -> None:
    text = _toast_text(doubtful_note("the model was unsure where the object ends"))
    assert '"warning"' in text and "Background removed, but doubtful: “chair.jpg”." in text


def test_a_clean_cutout_is_announced_as_removed() -> None:
    text = _toast_text("")
    assert '"success"' in text and "Background removed: “chair.jpg”." in text
