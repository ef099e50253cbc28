"""The completion toast matches what happened: "Background removed" only when it was."""

from __future__ import annotations

import pytest

from home_editor.core.cutout_notes import doubtful_note, kept_whole_note
from home_editor.core.models import Item, JobStatus
from home_editor.processing.local_processor import LOW_CONFIDENCE
from home_editor.state.refresh import CUTOUT_TEXTS, _batch_toast, _news


def _outcome(note: str, name: str = "chair.jpg") -> list[str]:
    item = Item(id="i1", name=name, created_ms=1, updated_ms=2, cutout_status=JobStatus.COMPLETED, cutout_note=note)
    cutout, model = _news(item, "processing/none", "completed/none")
    assert cutout is not None and model is None
    return cutout


def _toast_text(note: str) -> str:
    return str(_batch_toast([_outcome(note)], CUTOUT_TEXTS))


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


def test_a_batch_with_photos_kept_whole_counts_only_the_real_cutouts() -> None:
    outcomes = [_outcome("", f"{index}.jpg") for index in range(3)]
    outcomes += [_outcome(kept_whole_note("the model kept almost nothing"), "blank.jpg")]
    text = str(_batch_toast(outcomes, CUTOUT_TEXTS))
    assert '"warning"' in text and "Background removed from 3 of 4 photos; 1 kept whole or doubtful" in text
    assert "Background removed from 4" not in text
