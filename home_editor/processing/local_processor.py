"""The embedded default processor: background removal with the learned model (see `cutout_model`) once
its file is ready, else (chosen, or the model could not be had) the classical method (see `cutout`)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
from pathlib import Path

import numpy as np
from PIL import Image

from home_editor.core.model_wait import waiting_message
from home_editor.processing.base import Cutout, JobContext, Model3D, ProgressReport
from home_editor.processing.cutout import compute_mask
from home_editor.processing.cutout_model import model_cut_out
from home_editor.processing.images import load_for_processing
from home_editor.processing.model_state import PREPARING, CutoutModelState
from home_editor.processing.pools import run_job_work
from home_editor.processing.previews import PREVIEW_SIDE, make_preview
from home_editor.processing.relief import relief_glb
from home_editor.storage.local_files import read_stored_file

OUTPUT_SIDE = 1024  # the card shows the cutout itself, and 3D generation wants ≤ 1024 px
WORK_SIDE = 1024
MODEL_WAIT_SECONDS = 1.0  # how often a waiting cutout reports the model's preparation
RELIEF_NOTE = "2.5D preview: an inflated silhouette, not a 3D reconstruction (the back mirrors the front)."
LOW_CONFIDENCE = "Low confidence: {reason}; the photo is kept as it was. A plain background works best."


def cut_out(data: bytes, *, max_pixels: int) -> Cutout:
    """Decode at ≤ 1024 px, find the object, and encode an RGBA PNG of the same size."""
    image = load_for_processing(data, max_side=OUTPUT_SIDE, max_pixels=max_pixels)
    if image.mode == "RGBA" and np.asarray(image.getchannel("A")).min() < 250:
        return Cutout(png=_png(image), note="The image was already transparent; kept as it was.")
    rgb = image.convert("RGB")
    work = rgb.copy()
    work.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    mask = compute_mask(np.asarray(work))
    alpha = Image.fromarray(mask.alpha, mode="L")
    if alpha.size != rgb.size:
        alpha = alpha.resize(rgb.size, Image.Resampling.BILINEAR)
    rgb.putalpha(alpha)
    note = "" if mask.confident else LOW_CONFIDENCE.format(reason=mask.reason)
    return Cutout(png=_png(rgb), note=note)


def cut_out_with_preview(photo: bytes | Path, *, model_path: str | None, max_pixels: int) -> Cutout:
    """In a processing worker: the cutout of a photo (its bytes, or its stored file, read here), by the model
    when it has a file, else by the classical method, with the card's preview made in the same call. So
    neither the photo nor the cutout's PNG crosses to the server process and back for the preview."""
    data = read_stored_file(photo) if isinstance(photo, Path) else photo
    if model_path is not None:
        cutout = model_cut_out(data, model_path=model_path, max_pixels=max_pixels)
    else:
        cutout = cut_out(data, max_pixels=max_pixels)
    return dataclasses.replace(cutout, preview=make_preview(cutout.png, PREVIEW_SIDE))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


class LocalProcessor:
    """Runs cutouts (model or classical) and reliefs in the processing pool."""

    def __init__(
        self,
        *,
        max_pixels: int,
        slow_motion_seconds: float = 0.0,
        hold_file: Path | None = None,
        model: CutoutModelState | None = None,
    ) -> None:
        self._max_pixels = max_pixels
        self._slow_motion = slow_motion_seconds
        self._hold_file = hold_file
        self._model = model or CutoutModelState(method="classical", model_dir=Path())

    @property
    def label(self) -> str:
        """The backend's name for the page."""
        if self._model.model_path is not None:
            return "Local (learned cutout model)"
        if self._model.phase == PREPARING:
            return "Local (cutout model being prepared)"
        return "Local (classical cutout)"

    async def remove_background(self, context: JobContext) -> Cutout:
        """The cutout of the job's image, with the card's preview (waits, reporting, while the model is being
        prepared). A photo on this machine's disk is read by the processing worker itself."""
        photo = context.image_path or await context.load_image()
        model_path = await self._wait_for_model(context.report)
        await context.report(10, "Removing the background…")
        work = functools.partial(cut_out_with_preview, model_path=model_path, max_pixels=self._max_pixels)
        result = await run_job_work(work, photo)
        await self._pace(context.report, "Removing the background…")
        await context.report(90, "Saving the cutout…")
        return result

    async def generate_model(self, context: JobContext) -> Model3D:
        """The honest local stand-in for 3D: a 2.5D relief of the cutout's silhouette."""
        cutout = await context.load_image()
        await context.report(10, "Building the 2.5D relief…")
        glb = await run_job_work(relief_glb, cutout)
        await self._pace(context.report, "Building the 2.5D relief…")
        await context.report(90, "Saving the model…")
        return Model3D(glb=glb, relief=True, note=RELIEF_NOTE)

    async def cancel_remote(self, remote_id: str) -> None:
        """Local work has no remote job."""

    async def _wait_for_model(self, report: ProgressReport) -> str | None:
        """The model file once it is ready, or None (classical) if it is not to be had in this run; meanwhile
        the job says it is waiting for the model (the page shows it as waiting, see `core.model_wait`)."""
        shown = -1
        while not await asyncio.to_thread(self._model.wait, MODEL_WAIT_SECONDS):
            if self._model.percent != shown:
                shown = self._model.percent
                await report(0, waiting_message(shown))
        return self._model.model_path

    async def _pace(self, report: ProgressReport, message: str) -> None:
        """Slow motion for demos and tests (HOME_EDITOR_LOCAL_DELAY_SECONDS): the work is real, only
        its end is held back, with progress (and the job's own message) reported meanwhile like a
        remote service would."""
        steps = 4
        for step in range(steps if self._slow_motion > 0 else 0):
            await asyncio.sleep(self._slow_motion / steps)
            await report(10 + 20 * (step + 1), message)
        await self._hold()

    async def _hold(self) -> None:
        """A test hook, off unless HOME_EDITOR_TEST_HOLD_FILE is set (only the server's environment can set
        it): while that file exists, a running local job waits here, so a test can act on a job that is
        provably running (cancel it, reload, kill the server) and then release it by removing the file."""
        while self._hold_file is not None and await asyncio.to_thread(self._hold_file.exists):
            await asyncio.sleep(0.05)
