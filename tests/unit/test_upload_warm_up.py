"""A web process runs its upload checks once at start-up, so the first photo dropped pays no one-time
set-up (Pillow's format plugins, the HEIF opener, the upload and stream threads): that made a process's
first drop ~40–130 ms slower than the next, and a thread started from the event loop holds it up."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

FIRST_DROP = textwrap.dedent(
    """
    import asyncio, json, sys, threading
    from pathlib import Path
    from home_editor.processing.upload_checks import UploadChecks

    checks = UploadChecks(max_bytes=50 * 2**20, max_pixels=50_000_000)

    async def main():
        if sys.argv[1] == "warm":
            await checks.warm_up()
        modules, threads = set(sys.modules), {thread.name for thread in threading.enumerate()}
        for photo in sys.argv[2:]:
            data = Path(photo).read_bytes()
            streamed = checks.stream(data[:64])  # a JPEG is decoded while it arrives, on a thread of its own
            if streamed is not None:
                streamed.add(data)
                streamed.end()
            await checks(data, streamed)
        print(json.dumps({
            "new_modules": sorted(set(sys.modules) - modules),
            "new_threads": sorted({thread.name for thread in threading.enumerate()} - threads),
        }))

    asyncio.run(main())
    """
)


def _photos(folder: Path) -> list[str]:
    pixels = np.random.default_rng(3).integers(0, 255, (600, 800, 3), dtype=np.uint8)
    paths = []
    for name, kind in (("photo.jpg", "JPEG"), ("photo.png", "PNG"), ("photo.webp", "WEBP")):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, kind)
        (folder / name).write_bytes(buffer.getvalue())
        paths.append(str(folder / name))
    return paths


def _first_drop(folder: Path, *, warm: bool) -> dict[str, list[str]]:
    """Check photos in a fresh interpreter (nothing imported yet), after the warm-up or without it."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_DROP, "warm" if warm else "cold", *_photos(folder)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_after_the_warm_up_a_first_drop_imports_nothing_and_starts_no_thread(tmp_path: Path) -> None:
    first = _first_drop(tmp_path, warm=True)
    assert first == {"new_modules": [], "new_threads": []}


def test_without_it_the_first_drop_does_that_set_up(tmp_path: Path) -> None:
    """The case the warm-up exists for: it shows what the test above guards against."""
    first = _first_drop(tmp_path, warm=False)
    assert "PIL.JpegImagePlugin" in first["new_modules"] or "pi_heif" in first["new_modules"]
    assert any(name.startswith("home-editor-uploads") for name in first["new_threads"])
    assert any(name.startswith("home-editor-streamed-thumbnails") for name in first["new_threads"])
