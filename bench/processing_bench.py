"""Metric 6: local cutout of a 12 MP photo, and thumbnails of a 12 MP JPEG (direct calls, median of 10)."""

from __future__ import annotations

import time

from bench.images import product_photo
from home_editor.processing.images import accept_upload
from home_editor.processing.local_processor import cut_out


def _times(function, repeat: int) -> list[float]:
    results = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        results.append(time.perf_counter() - started)
    return results


def processing_times(repeat: int = 10) -> dict[str, list[float]]:
    """Seconds per call for the cutout and the intake thumbnails (256 px, and the app's 512 px)."""
    photo = product_photo(4000, 3000)
    limits = {"max_bytes": 25 * 2**20, "max_pixels": 50_000_000}
    return {
        "cutout_12mp": _times(lambda: cut_out(photo, max_pixels=50_000_000), repeat),
        "thumb256_12mp": _times(lambda: accept_upload(photo, **limits, thumb_side=256), repeat),
        "intake512_12mp": _times(lambda: accept_upload(photo, **limits), repeat),
    }
