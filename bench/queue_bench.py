"""Metrics 1, 1b and 2: the runner's pick-up latency (wake-up vs. the original's 2 s polling, same run)
and the makespan of 20 × 300 ms jobs at concurrency 2. A real store, SQLite or Postgres (a fresh database per
run, from `new_url`); executors that do nothing (or sleep) stand in for processing, so only the queue is
measured."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import math
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from home_editor.core.clock import now_ms
from home_editor.core.models import Item, Job, JobType, new_id, new_library_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import Outcome
from home_editor.jobs.runner import Runner
from home_editor.settings import Settings


class TimedExecutor:
    """Records when each job started; sleeps `seconds` to stand for the work."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}
        self.before_end: Callable[[], Awaitable[object]] | None = None  # holds the work back (the hand-off bench)

    async def run(self, library_id: str, job: Job, claim: object) -> Outcome:
        self.started[job.id] = time.perf_counter()
        self.events.setdefault(job.id, asyncio.Event()).set()
        if self.seconds:
            await asyncio.sleep(self.seconds)
        if self.before_end is not None:
            await self.before_end()
        self.ended[job.id] = time.perf_counter()
        return Outcome(name=f"cutout-{new_id()}.png", url="u", note="", keys=[])

    async def discard(self, keys: list[str]) -> None:
        return None

    async def cancel_remote(self, job: Job) -> None:
        return None


NewUrl = Callable[[], str]
"""Gives the URL of a new empty database."""


@contextlib.contextmanager
def sqlite_databases() -> Iterator[NewUrl]:
    """New SQLite databases in a temporary folder (removed at the end)."""
    with tempfile.TemporaryDirectory(prefix="he-queue-bench-") as folder:
        names = itertools.count()
        yield lambda: sqlite_url(Path(folder) / str(next(names)))


def sqlite_url(folder: str | Path) -> str:
    """The URL of a SQLite database in `folder`."""
    return f"sqlite:///{Path(folder) / 'bench.db'}"


async def _setup(url: str, **settings: object) -> tuple[AsyncLibraryStore, Runner, TimedExecutor, str]:
    engine = await asyncio.to_thread(create_engine, url)
    store = AsyncLibraryStore(LibraryStore(engine))
    executor = TimedExecutor(float(settings.pop("work_seconds", 0.0)))
    runner = Runner(store, executor, ChangeHub(), settings=dataclasses.replace(Settings(), **settings))
    library = new_library_id()
    await store.ensure_library(library, now_ms())
    return store, runner, executor, library


def _new_work() -> tuple[Item, Job]:
    now = now_ms()
    item = Item(id=new_id(), name="bench.jpg", created_ms=now, updated_ms=now, original="original.jpg")
    return item, Job(id=new_id(), item_id=item.id, type=JobType.REMBG, created_ms=now, updated_ms=now)


async def _queue_and_start(runner: Runner, library: str) -> Job:
    """Add an item and its job the way the app queues work: claimed at once when a slot is free."""
    item, job = _new_work()
    await runner.enqueue(library, lambda store: store.add_item(library, item, job))
    return job


async def pickup_latencies(count: int, *, wake_on_enqueue: bool, new_url: NewUrl) -> list[float]:
    """Queue jobs one by one, each with a free slot, at random moments (so a poll's phase plays no
    favourite); milliseconds from queuing to the job starting."""
    rng = random.Random(7)
    _store, runner, executor, library = await _setup(new_url(), wake_on_enqueue=wake_on_enqueue)
    latencies = []
    for _ in range(count):
        await asyncio.sleep(rng.uniform(0, 2.0))
        started = time.perf_counter()
        job = await _queue_and_start(runner, library)
        await asyncio.wait_for(executor.events.setdefault(job.id, asyncio.Event()).wait(), 30)
        latencies.append((executor.started[job.id] - started) * 1000)
        while runner.running_count(library):
            await asyncio.sleep(0.001)
    await runner.shutdown()
    return latencies


async def makespan(
    new_url: NewUrl, jobs: int = 20, seconds: float = 0.3, concurrency: int = 2, runs: int = 5
) -> dict[str, object]:
    """Queue `jobs` jobs of `seconds` each at once, as the app queues a batch ("Generate 3D for all": one
    trip to the store, which claims the first jobs); the time until the last ends, over the ideal. One run
    is 3 s, and one hiccup of the host moves its ratio by a hundredth: the median of `runs` runs, and each."""
    spans = [await _one_makespan(new_url, jobs, seconds, concurrency) for _ in range(runs)]
    ideal = math.ceil(jobs / concurrency) * seconds
    middle = statistics.median(spans)
    return {"seconds": middle, "ideal": ideal, "ratio": middle / ideal, "ratios": [span / ideal for span in spans]}


async def _one_makespan(new_url: NewUrl, jobs: int, seconds: float, concurrency: int) -> float:
    _store, runner, executor, library = await _setup(new_url(), work_seconds=seconds, concurrency=concurrency)
    batch = [_new_work() for _ in range(jobs)]
    started = time.perf_counter()
    await runner.enqueue(library, lambda store: [store.add_item(library, item, job) for item, job in batch])
    await asyncio.wait_for(runner.until_idle(library), 120)
    elapsed = max(executor.ended.values()) - started
    await runner.shutdown()
    return elapsed
