"""Job workers as separate processes (`bench.stub_worker`: the real runner, store and Redis bus, stub jobs)
on one SQLite database (WAL) and a private Redis:

- throughput: 100 jobs of 300 ms over 10 libraries with 1, 2 and 4 job workers (2 slots each, at most 2
  per library), from the moment the jobs fall due to the last one's end, against the ideal: the jobs
  spread perfectly over min(workers × slots, libraries × 2) lanes;
- cross-process update latency: a job ends in a worker; how long until a waiting tab in another process
  (a change hub with no poll) has woken and read the job as completed; with Redis, and with only the 2 s
  poll (no Redis) for comparison; each job queued at a random moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from bench.stats import summary
from home_editor.core.clock import now_ms
from home_editor.core.models import Item, Job, JobStatus, JobType, new_id, new_library_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.redis_bus import RedisBus
from tests.job_workers import WorkerProcess, journal_lines, shared_env
from tests.redis_server import running_redis

JOBS, JOB_SECONDS, LIBRARIES, SLOTS, PER_LIBRARY = 100, 0.3, 10, 2, 2
DUE_AFTER_MS = 3_000  # jobs are queued ahead of time and fall due at once for every worker


@dataclasses.dataclass
class Fleet:
    """Stub job workers on one working folder."""

    workdir: Path
    env: dict[str, str]
    workers: list[WorkerProcess]

    @property
    def store(self) -> AsyncLibraryStore:
        return AsyncLibraryStore(LibraryStore(create_engine(self.env["HOME_EDITOR_DB_URL"])))


@contextlib.contextmanager
def fleet(count: int, redis_url: str, job_seconds: float, **settings: str) -> Iterator[Fleet]:
    with tempfile.TemporaryDirectory(prefix="home-editor-workers-bench-") as folder:
        workdir = Path(folder)
        env = shared_env(workdir, redis_url, **settings)
        env.pop("HOME_EDITOR_POLL_SECONDS")  # the default 2 s poll: only Redis makes anything faster
        # the schema exists before several workers start at once
        LibraryStore(create_engine(env["HOME_EDITOR_DB_URL"]))
        command = ("-m", "bench.stub_worker", str(job_seconds))
        workers = [WorkerProcess(env, workdir / f"worker-{index}.log", command) for index in range(count)]
        try:
            for worker in workers:
                worker.wait_ready()
            yield Fleet(workdir, env, workers)
        finally:
            for worker in workers:
                worker.stop()


async def _enqueue(store: AsyncLibraryStore, library: str, *, due_ms: int) -> Job:
    now = now_ms()
    item = Item(id=new_id(), name="bench.jpg", created_ms=now, updated_ms=now, original="original.jpg")
    job = Job(id=new_id(), item_id=item.id, type=JobType.REMBG, created_ms=now, updated_ms=now, not_before_ms=due_ms)
    await store.add_item(library, item, job)
    return job


async def _throughput(workers: int, redis_url: str) -> dict[str, float]:
    with fleet(workers, redis_url, JOB_SECONDS, HOME_EDITOR_WORKER_SLOTS=str(SLOTS)) as jobs_fleet:
        store = jobs_fleet.store
        libraries = [new_library_id() for _ in range(LIBRARIES)]
        due = now_ms() + DUE_AFTER_MS
        for library in libraries:
            await store.ensure_library(library, now_ms())
        for index in range(JOBS):
            await _enqueue(store, libraries[index % LIBRARIES], due_ms=due)
        assert now_ms() < due, "queuing took longer than the head start"
        with redis.Redis.from_url(redis_url) as client:
            client.publish("home_editor:work", "bench ")  # the workers look for work (and wait till it is due)
        while await store.libraries_with_work():
            await asyncio.sleep(0.2)
        lines = journal_lines(Path(jobs_fleet.env["HOME_EDITOR_EXECUTION_LOG"]))
    ends = [at for at, event, _ in lines if event == "end"]
    assert len(ends) == JOBS, f"{len(ends)} of {JOBS} jobs ran"
    seconds = (max(ends) - due) / 1000
    lanes = min(workers * SLOTS, LIBRARIES * PER_LIBRARY)
    ideal = math.ceil(JOBS / lanes) * JOB_SECONDS
    ratio = seconds / ideal
    return {"workers": workers, "seconds": seconds, "ideal": ideal, "ratio": ratio, "jobs_per_s": JOBS / seconds}


async def _update_latencies(count: int, redis_url: str, *, use_redis: bool) -> list[float]:
    """Milliseconds from a job's end in a worker to a waiting tab elsewhere reading it as completed."""
    with fleet(1, redis_url if use_redis else "", 0.05) as one:
        store, hub = one.store, ChangeHub()
        bus = RedisBus(redis_url, hub) if use_redis else None
        if bus is not None:
            bus.start()
            await bus.listening.wait()
        library = new_library_id()
        await store.ensure_library(library, now_ms())
        seen_at: dict[str, float] = {}
        rng = random.Random(11)
        try:
            for _ in range(count):
                await asyncio.sleep(rng.uniform(0, 2.0))  # at a random moment: no poll's phase plays favourite
                job = await _enqueue(store, library, due_ms=0)
                if bus is not None:
                    bus.announce_work()
                while True:
                    version = hub.version(library)
                    snapshot = await store.snapshot(library)
                    if next(j for j in snapshot.jobs if j.id == job.id).status is JobStatus.COMPLETED:
                        seen_at[job.id] = time.time() * 1000
                        break
                    await hub.wait(library, version, timeout=2.0)  # the tab's 2 s poll, as in the app
        finally:
            if bus is not None:
                await bus.close()
        lines = journal_lines(Path(one.env["HOME_EDITOR_EXECUTION_LOG"]))
    ended = {job_id: at for at, event, job_id in lines if event == "end"}
    return [seen_at[job_id] - ended[job_id] for job_id in seen_at]


async def _all(quick: bool, redis_url: str) -> dict[str, object]:
    counts = (1, 2, 4)
    throughput = [await _throughput(workers, redis_url) for workers in counts]
    return {
        "throughput": throughput,
        "update_redis_ms": summary(await _update_latencies(10 if quick else 40, redis_url, use_redis=True)),
        "update_poll_ms": summary(await _update_latencies(5 if quick else 10, redis_url, use_redis=False)),
    }


def worker_figures(*, quick: bool = False) -> dict[str, object]:
    """Throughput with 1, 2 and 4 job workers, and cross-process update latency (a private Redis)."""
    with running_redis() as url:
        return asyncio.run(_all(quick, url))
