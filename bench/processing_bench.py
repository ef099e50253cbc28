"""Metric 6: local cutout of a 12 MP photo, and the thumbnail and intake of a 12 MP JPEG (direct calls,
median of 10)."""

from __future__ import annotations

import asyncio
import time

from bench.images import product_photo
from home_editor.processing.images import accept_upload, thumbnail_of
from home_editor.processing.local_processor import cut_out
from home_editor.processing.upload_checks import UploadChecks

MAX_BYTES = 25 * 2**20
MAX_PIXELS = 50_000_000


def _times(function, repeat: int) -> list[float]:
    results = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        results.append(time.perf_counter() - started)
    return results


def processing_times(repeat: int = 10) -> dict[str, list[float]]:
    """Seconds per call for the cutout; a 256 px thumbnail; the app's intake of the photo (`UploadChecks`:
    its checks and hash on one upload thread beside the 512 px thumbnail's decode on the other); and every
    check and the 256 px thumbnail one after another on one thread (`accept_upload`, as for other formats)."""
    photo = product_photo(4000, 3000)
    return {
        "cutout_12mp": _times(lambda: cut_out(photo, max_pixels=MAX_PIXELS), repeat),
        "thumb256_12mp": _times(lambda: thumbnail_of(photo, MAX_PIXELS, thumb_side=256), repeat),
        "intake_12mp": asyncio.run(_intake_times(photo, repeat)),
        "serial256_12mp": _times(
            lambda: accept_upload(photo, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, thumb_side=256), repeat
        ),
    }


async def _intake_times(photo: bytes, repeat: int) -> list[float]:
    checks = UploadChecks(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    await checks.warm_up()  # as the app's start-up does
    results = []
    for _ in range(repeat):
        started = time.perf_counter()
        await checks(photo)
        results.append(time.perf_counter() - started)
    return results
