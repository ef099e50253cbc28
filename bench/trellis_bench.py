"""Metric 8: Trellis status calls per minute at concurrency 2 during long 3D jobs, counted at the stub
(the app's real Trellis processor and runner against the loopback Trellis stub)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.images import product_photo
from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.settings import Settings
from tests.stubs.trellis_stub import TrellisStub


async def status_calls_per_minute(window_seconds: float = 60.0) -> dict[str, float]:
    """Two 3D jobs of ~90 s run at once; status calls seen by the stub in the window, per minute."""
    stub = TrellisStub(keys=("bench-key",), step_seconds=0.05).start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(
            {"TRELLIS_API_URL": stub.url, "TRELLIS_API_KEY": "bench-key", "HOME_EDITOR_MEDIA_DIR": f"{folder}/media"}
        )
        services = build_services(settings, db_url=f"sqlite:///{Path(folder) / 'b.db'}", public_base_url="http://b")
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        photo = product_photo(1600, 1200)
        items = [await services.library.add_upload(library, f"p{i}.jpg", photo + bytes([i])) for i in range(2)]
        await asyncio.wait_for(services.runner.until_idle(library), 60)
        stub.step_seconds, stub.queue_seconds = (window_seconds + 30) / 5, 5.0  # each model takes ~window + 35 s
        for item in items:
            await services.library.generate_model(library, item.id)
        while len(stub.submissions("trellis")) < 2:
            await asyncio.sleep(0.05)
        started = time.monotonic()
        await asyncio.sleep(window_seconds)
        calls = [r for r in stub.status_calls() if started <= r.at < started + window_seconds]
        await services.runner.shutdown()
    stub.stop()
    return {"calls": len(calls), "window_s": window_seconds, "per_minute": len(calls) * 60 / window_seconds}
