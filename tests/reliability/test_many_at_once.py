"""Fifty photos in one drop, through the real intake, queue and local processor: all stored, never
more than two processed at once, and the server's event loop stays responsive throughout."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from home_editor.core.models import JobStatus, new_library_id
from home_editor.services import build_services
from home_editor.settings import Settings
from tests.images import photo_bytes

KINDS = ("plain", "gradient", "textured", "shadow")


@pytest.mark.reliability(
    "F8 50 images in one drop", "all stored and cut out; at most 2 at once; event loop never stalls > 100 ms"
)
async def test_fifty_photos_in_one_drop(tmp_path: Path) -> None:
    settings = Settings(media_dir=tmp_path / "media", execution_log=tmp_path / "journal.log", poll_seconds=0.5)
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    files = [(f"photo-{index:02d}.jpg", photo_bytes(KINDS[index % 4], "ellipse", 300 + index)) for index in range(50)]

    stalls: list[float] = []
    done = asyncio.Event()

    async def watch_the_loop() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before - 0.01)

    watcher = asyncio.create_task(watch_the_loop())
    results = services.library.intake(library, files)
    stored = []
    while (result := await asyncio.wait_for(results.get(), 60)) is not None:
        stored.append(result)
    await asyncio.wait_for(services.runner.until_idle(library), 180)
    done.set()
    await watcher
    await services.runner.shutdown()

    assert all(result.item is not None for result in stored) and len(stored) == 50
    snapshot = await services.library.snapshot(library)
    assert len(snapshot.items) == 50 and {item.cutout_status for item in snapshot.items} == {JobStatus.COMPLETED}
    running = peak = 0
    for line in sorted(
        settings.execution_log.read_text().splitlines(), key=lambda row: (int(row.split()[0]), "start" in row)
    ):
        running += 1 if " start " in line else -1
        peak = max(peak, running)
    assert peak == 2
    assert max(stalls) < 0.1, f"the event loop stalled for {max(stalls) * 1000:.0f} ms"
