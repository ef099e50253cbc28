"""The float32 copy of the fetched model: made once next to the verified file, atomically, with only the
mask output; it gives the same mask; if it cannot be made the verified file is used as it is; and the app's
model state hands the copy to the workers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from PIL import Image

from home_editor.processing.cutout_model import predict
from home_editor.processing.model_convert import float32_model, float32_name
from home_editor.processing.model_fetch import ISNET, fetch_model
from home_editor.processing.model_state import READY, CutoutModelState
from home_editor.settings import Settings
from tests.cutout_set import sample


@pytest.fixture(scope="module")
def verified() -> Path:
    """The verified model file, fetched like a user's first start if it is not cached yet."""
    return fetch_model(Settings.from_env(os.environ).model_dir)


def test_the_copy_is_float32_with_one_output_and_gives_the_same_mask(verified: Path, tmp_path: Path) -> None:
    source = tmp_path / ISNET.file_name
    source.symlink_to(verified)
    (tmp_path / ".convert-killed.part").write_bytes(b"half a model")  # left by a conversion that was killed
    copy = float32_model(source)
    assert copy == tmp_path / float32_name() and copy.stat().st_size > 1.9 * verified.stat().st_size
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([source.name, copy.name])
    session = onnxruntime.InferenceSession(str(copy), providers=["CPUExecutionProvider"])
    assert [output.name for output in session.get_outputs()] == ["output"]
    assert float32_model(source) == copy  # made once

    rgb = Image.fromarray(sample("photo", 3)[0])
    mask_before, high_before = predict(rgb, str(verified), threads=2)
    mask_after, high_after = predict(rgb, str(copy), threads=2)
    assert np.abs(mask_after - mask_before).max() < 1e-3 and abs(high_after - high_before) < 1e-3


def test_when_no_copy_can_be_made_the_verified_file_is_used_and_nothing_is_left(tmp_path: Path) -> None:
    source = tmp_path / ISNET.file_name
    source.write_bytes(b"not an onnx file")
    assert float32_model(source) == source
    assert [path.name for path in tmp_path.iterdir()] == [source.name]


def test_the_model_state_hands_the_workers_the_copy(tmp_path: Path) -> None:
    fetched, converted = tmp_path / "model.onnx", tmp_path / "model-float32.onnx"

    def fetch(_directory: Path, *, npm, progress) -> Path:
        progress(1.0)
        return fetched

    model = CutoutModelState(
        method="model", model_dir=tmp_path, fetch=fetch, convert=lambda path: converted if path == fetched else path
    )
    model.prepare()
    assert model.phase == READY and model.model_path == str(converted)
