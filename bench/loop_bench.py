"""Event-loop responsiveness of the backend while work arrives: 50 photos dropped at once go through the
real intake, queue and local processor, while a probe measures how late a 10 ms sleep on the event loop
wakes up. Reported, not a target of the issue; it explains metric 4 (the UI round trip runs on this loop)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.images import product_photo
from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.settings import Settings

PROBE_SECONDS = 0.01


async def loop_stalls_ms(photos: int = 50) -> list[float]:
    """Milliseconds each 10 ms probe sleep overslept, from the drop until the queue is idle."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = Settings(media_dir=root / "media", execution_log=root / "journal.log", cutout_method="classical")
        services = build_services(settings, db_url=f"sqlite:///{root / 'app.db'}", public_base_url="http://app")
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        files = [(f"photo-{n:02d}.jpg", product_photo(1600, 1200, seed=n)) for n in range(photos)]
        stalls: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                before = time.perf_counter()
                await asyncio.sleep(PROBE_SECONDS)
                stalls.append((time.perf_counter() - before - PROBE_SECONDS) * 1000)

        prober = asyncio.create_task(probe())
        results = services.library.intake(library, files)
        while await results.get() is not None:
            pass
        await services.runner.until_idle(library)
        done.set()
        await prober
        await services.runner.shutdown()
        return stalls
