"""A job worker whose jobs are stubs (`python -m bench.stub_worker SECONDS`): the real runner, store, change
hub and Redis bus of `python -m home_editor.worker` (settings from the same environment), but each job only
sleeps SECONDS and succeeds, so the benchmark measures the queue across processes, not the processing."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from home_editor.core.models import Job, new_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import Outcome
from home_editor.jobs.redis_bus import RedisBus
from home_editor.jobs.runner import Runner
from home_editor.settings import db_url_from
from home_editor.worker import READY, worker_settings


class SleepingExecutor:
    """Every job sleeps `seconds`, then succeeds with a made-up result."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def run(self, library_id: str, job: Job, claim: object) -> Outcome:
        await asyncio.sleep(self.seconds)
        return Outcome(name=f"cutout-{new_id()}.png", url="u", note="", keys=[])

    async def discard(self, keys: list[str]) -> None:
        return None

    async def cancel_remote(self, job: Job) -> None:
        return None


async def _main(seconds: float) -> None:
    settings = worker_settings(dict(os.environ))
    store = AsyncLibraryStore(LibraryStore(create_engine(db_url_from(os.environ))))
    hub = ChangeHub()
    runners: list[Runner] = []
    bus = RedisBus(settings.redis_url, hub, on_work=lambda: runners[0].look_for_work()) if settings.redis_url else None
    runner = Runner(store, SleepingExecutor(seconds), hub, settings=settings)
    runners.append(runner)
    runner.start_janitor()
    if bus is not None:
        bus.start()
        await bus.listening.wait()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    logging.getLogger("home_editor.worker").info("%s (stub jobs of %.3f s)", READY, seconds)
    await stop.wait()
    await runner.shutdown()
    if bus is not None:
        await bus.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main(float(sys.argv[1])))
