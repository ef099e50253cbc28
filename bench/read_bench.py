"""Metric 9: how many library snapshots (what every open tab reads after each change) a SQLite store
serves per second while the runner claims and settles jobs of another library, and how fast the runner
goes meanwhile: with reads in deferred transactions (as shipped) and, for comparison in the same run,
with every read taking the write lock first (BEGIN IMMEDIATE, the earlier behaviour). The readers run in
a second process, so the figures show the database's locking rather than the two sharing one GIL.

python -m bench.read_bench     # this figure alone
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.stats import percentile
from home_editor.core.clock import now_ms
from home_editor.core.models import Item, Job, JobType, new_id, new_library_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine, for_writes
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import Outcome
from home_editor.jobs.runner import Runner
from home_editor.settings import Settings


class RefillingExecutor:
    """Finishes each job at once and queues another in its place (so the queue never runs dry)."""

    def __init__(self, store: AsyncLibraryStore) -> None:
        self.store = store
        self.finished_at: list[float] = []

    async def run(self, library_id: str, job: Job, claim: object) -> Outcome:
        await self.store.add_item(library_id, *_new_item_and_job())
        self.finished_at.append(time.time())
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


def _read_for(db_url: str, library: str, seconds: float, write_locked: bool) -> tuple[float, float, list[float]]:
    """In a process of its own (its own GIL, like another worker): two threads read snapshots for
    `seconds`. Returns the window (epoch seconds) and every snapshot's duration in ms."""
    engine = create_engine(db_url)
    store = LibraryStore(for_writes(engine) if write_locked else engine)
    store.snapshot(library)  # connect before the window opens
    stop, durations = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            store.snapshot(library)
            durations.append((time.perf_counter() - started) * 1000)

    readers = [threading.Thread(target=read) for _ in range(READERS)]
    opened = time.time()
    for reader in readers:
        reader.start()
    time.sleep(seconds)  # the measuring window
    stop.set()
    for reader in readers:
        reader.join()
    return opened, time.time(), durations


async def snapshots_per_second(seconds: float, *, reads_take_write_lock: bool) -> dict[str, float]:
    """Snapshots/s of a 50-item library read by two threads (tabs) of another process for `seconds`, and
    their p95 time, while a runner drains another library's queue of instant jobs; also the runner's
    jobs/s in that window."""
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = create_engine(db_url)
        sync = LibraryStore(for_writes(engine) if reads_take_write_lock else engine)
        shown, busy = new_library_id(), new_library_id()
        _fill(sync, shown, ITEMS_SHOWN)
        _fill(sync, busy, JOBS_QUEUED)
        store = AsyncLibraryStore(sync)
        executor = RefillingExecutor(store)
        runner = Runner(store, executor, ChangeHub(), settings=Settings())
        runner.wake(busy)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            opened, closed, durations = await asyncio.get_running_loop().run_in_executor(
                pool, _read_for, db_url, shown, seconds, reads_take_write_lock
            )
        await runner.shutdown()
        finished = sum(opened <= at <= closed for at in executor.finished_at)
        return {
            "snapshots_per_s": len(durations) / (closed - opened),
            "snapshot_p95_ms": percentile(durations, 0.95),
            "claims_per_s": finished / (closed - opened),
        }


async def read_metrics(seconds: float = 9.0, rounds: int = 3) -> dict[str, dict[str, float]]:
    """Both modes in turns (`rounds` of `seconds / rounds` each, so a noisy neighbour hits both alike);
    the median round of each."""
    samples: dict[str, list[dict[str, float]]] = {"deferred": [], "write_locked": []}
    for _ in range(rounds):
        for mode in samples:
            figures = await snapshots_per_second(seconds / rounds, reads_take_write_lock=mode == "write_locked")
            samples[mode].append(figures)
    return {
        mode: {name: statistics.median(round_[name] for round_ in rounds_) for name in rounds_[0]}
        for mode, rounds_ in samples.items()
    }


if __name__ == "__main__":
    for mode, figures in asyncio.run(read_metrics()).items():
        reads, p95, jobs = figures["snapshots_per_s"], figures["snapshot_p95_ms"], figures["claims_per_s"]
        print(f"{mode:<13} {reads:6.0f} snapshots/s (p95 {p95:.0f} ms) · runner {jobs:4.0f} jobs/s")
