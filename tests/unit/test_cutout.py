"""Local background removal on synthetic photos with a known answer."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from home_editor.processing.cutout import compute_mask
from home_editor.processing.local_processor import cut_out
from tests.images import encode, object_photo

CASES = [
    (kind, shape)
    for kind in ("plain", "gradient", "textured", "shadow")
    for shape in ("ellipse", "box", "border", "ring")
]


def iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float((predicted & truth).sum() / max((predicted | truth).sum(), 1))


def test_mean_iou_is_at_least_095_over_plain_gradient_shadow_and_border_cases() -> None:
    scores = {}
    for kind, shape in CASES:
        photo, truth = object_photo(kind, shape, size=512)
        mask = compute_mask(photo)
        assert mask.confident, (kind, shape)
        scores[(kind, shape)] = iou(mask.alpha > 127, truth)
    assert np.mean(list(scores.values())) >= 0.95, scores
    assert min(scores.values()) >= 0.9, scores


def test_the_hole_of_a_ring_becomes_transparent() -> None:
    photo, _ = object_photo("plain", "ring", size=512)
    mask = compute_mask(photo)
    assert mask.alpha[int(512 * 0.55), 256] == 0  # the centre of the ring


def test_edges_are_soft() -> None:
    photo, _ = object_photo("plain", "ellipse", size=512)
    alpha = compute_mask(photo).alpha
    assert ((alpha > 10) & (alpha < 245)).sum() > 100


def test_a_busy_background_is_flagged_low_confidence_not_cut_silently() -> None:
    photo, _ = object_photo("busy", "ellipse", size=512)
    mask = compute_mask(photo)
    assert not mask.confident and "busy" in mask.reason
    assert mask.alpha.min() == 255  # the photo is kept whole


def test_a_blank_photo_is_flagged_low_confidence() -> None:
    mask = compute_mask(np.full((256, 256, 3), 200, np.uint8))
    assert not mask.confident


def test_cut_out_returns_an_rgba_png_at_most_1024_px_with_a_note_when_unsure() -> None:
    photo, _ = object_photo("plain", "ellipse", size=512)
    big = Image.fromarray(photo).resize((2000, 2000))
    result = cut_out(encode(big, "JPEG", quality=90), max_pixels=50_000_000)
    image = Image.open(io.BytesIO(result.png))
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (1024, 1024)
    assert result.note == ""
    busy, _ = object_photo("busy", "ellipse", size=256)
    assert "Low confidence" in cut_out(encode(Image.fromarray(busy), "PNG"), max_pixels=50_000_000).note


@pytest.mark.parametrize("mode", ["RGBA"])
def test_an_already_transparent_image_is_kept(mode: str) -> None:
    image = Image.new(mode, (100, 100), (10, 20, 30, 0))
    image.paste((200, 0, 0, 255), (20, 20, 80, 80))
    result = cut_out(encode(image, "PNG"), max_pixels=50_000_000)
    assert "already transparent" in result.note
    assert Image.open(io.BytesIO(result.png)).getpixel((5, 5))[3] == 0
