"""Metric 9: how many library snapshots (what every open tab reads after each change) a SQLite store
serves per second while the runner claims and settles jobs of another library, with reads in deferred
transactions (as shipped) and, for comparison in the same run, with every read taking the write lock
first (BEGIN IMMEDIATE, the earlier behaviour).

python -m bench.read_bench     # this figure alone
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from pathlib import Path

from home_editor.core.models import Item, Job, JobType, new_id, new_library_id
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executors import Outcome
from home_editor.jobs.runner import Runner, now_ms
from home_editor.settings import Settings
from home_editor.store.async_store import AsyncLibraryStore
from home_editor.store.library_store import LibraryStore
from home_editor.store.schema import create_engine, for_writes


class RefillingExecutor:
    """Finishes each job at once and queues another in its place (so the queue never runs dry)."""

    def __init__(self, store: AsyncLibraryStore) -> None:
        self.store = store
        self.finished = 0

    async def run(self, library_id: str, job: Job, hooks: object) -> Outcome:
        await self.store.add_item(library_id, *_new_item_and_job())
        self.finished += 1
        return Outcome(name=f"cutout-{new_id()}.png", url="u", note="", keys=[])

    async def discard(self, keys: list[str]) -> None:
        return None

    async def cancel_remote(self, job: Job) -> None:
        return None


def _new_item_and_job() -> tuple[Item, Job]:
    now = now_ms()
    item = Item(id=new_id(), name="bench.jpg", created_ms=now, updated_ms=now, original="original.jpg")
    return item, Job(id=new_id(), item_id=item.id, type=JobType.REMBG, created_ms=now, updated_ms=now)


ITEMS_SHOWN = 50
JOBS_QUEUED = 20  # each finished job queues another, so the runner claims all the time
READERS = 2


def _fill(store: LibraryStore, library: str, count: int) -> None:
    store.ensure_library(library, now_ms())
    for _ in range(count):
        store.add_item(library, *_new_item_and_job())


def _read_until(store: LibraryStore, library: str, stop: threading.Event, counts: list[int]) -> None:
    while not stop.is_set():
        store.snapshot(library)
        counts.append(1)


async def snapshots_per_second(seconds: float, *, reads_take_write_lock: bool) -> dict[str, float]:
    """Snapshots/s of a 50-item library read by two threads (tabs) for `seconds`, while a runner drains
    another library's queue of instant jobs; also the runner's claims/s meanwhile."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        sync = LibraryStore(for_writes(engine) if reads_take_write_lock else engine)
        shown, busy = new_library_id(), new_library_id()
        _fill(sync, shown, ITEMS_SHOWN)
        _fill(sync, busy, JOBS_QUEUED)
        store = AsyncLibraryStore(sync)
        executor = RefillingExecutor(store)
        runner = Runner(store, executor, ChangeHub(), settings=Settings())
        stop, counts = threading.Event(), []
        readers = [threading.Thread(target=_read_until, args=(sync, shown, stop, counts)) for _ in range(READERS)]
        runner.wake(busy)
        started = time.perf_counter()
        for reader in readers:
            reader.start()
        await asyncio.sleep(seconds)
        stop.set()
        elapsed = time.perf_counter() - started
        claimed = executor.finished
        await runner.shutdown()
        for reader in readers:
            reader.join()
        return {"snapshots_per_s": len(counts) / elapsed, "claims_per_s": claimed / elapsed}


async def read_metrics(seconds: float = 5.0) -> dict[str, dict[str, float]]:
    """Both modes, one after the other in the same run."""
    return {
        "deferred": await snapshots_per_second(seconds, reads_take_write_lock=False),
        "write_locked": await snapshots_per_second(seconds, reads_take_write_lock=True),
    }


if __name__ == "__main__":
    for mode, figures in asyncio.run(read_metrics()).items():
        reads, jobs = figures["snapshots_per_s"], figures["claims_per_s"]
        print(f"{mode:<13} {reads:6.0f} snapshots/s · runner {jobs:4.0f} jobs/s")
