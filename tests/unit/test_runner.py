"""The process-level runner with an in-memory executor and a real SQLite store: concurrency, wake-up,
retries, cancellation, lost claims and draining with no tab open.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from home_editor.core.errors import BadInputError, TransientError
from home_editor.core.models import Job, JobStatus, new_library_id
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executors import Outcome
from home_editor.jobs.runner import Runner
from home_editor.settings import Settings
from home_editor.store.async_store import AsyncLibraryStore
from home_editor.store.library_store import LibraryStore
from home_editor.store.schema import create_engine
from tests.factories import item, job

FAST = Settings(poll_seconds=0.05, retry_base_seconds=0.01, lease_seconds=5)


class ScriptedExecutor:
    """Runs jobs by script: each run pops the next step for the job (an exception, or success);
    `gate` holds every run until released, so tests decide when work finishes."""

    def __init__(self) -> None:
        self.steps: dict[str, list[BaseException | None]] = {}
        self.started: list[str] = []
        self.running = 0
        self.peak = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.discarded: list[list[str]] = []
        self.remote_cancels: list[str] = []

    async def run(self, library_id: str, job: Job, hooks) -> Outcome:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await hooks.report(50, "half way")
            self.started.append(job.id)
            await self.gate.wait()
            steps = self.steps.get(job.id, [])
            step = steps.pop(0) if steps else None
            if step is not None:
                raise step
            return Outcome(name="cutout-abcdefghijkm.png", url="u", note="", keys=[f"key-{job.id}"])
        finally:
            self.running -= 1

    async def discard(self, keys: list[str]) -> None:
        self.discarded.append(keys)

    async def cancel_remote(self, job: Job) -> None:
        self.remote_cancels.append(job.remote_id)


@pytest.fixture
def env(tmp_path: Path):
    store = AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'runner.db'}")))
    executor = ScriptedExecutor()
    hub = ChangeHub()

    def make(settings: Settings = FAST) -> Runner:
        return Runner(
            store, executor, hub, settings=dataclasses.replace(settings, execution_log=tmp_path / "journal.log")
        )

    return store, executor, hub, make, tmp_path


async def queue(store: AsyncLibraryStore, library: str, count: int) -> list[Job]:
    await store.ensure_library(library, 0)
    jobs = []
    for index in range(count):
        new_item = item(created_ms=index)
        new_job = job("P", item_id=new_item.id, created_ms=index)
        await store.add_item(library, new_item, new_job)
        jobs.append(new_job)
    return jobs


async def drain_one(env, *steps: BaseException) -> Job:
    """Queue one job whose runs follow `steps` (then succeed), drain, and return the settled job."""
    store, executor, _, make, _ = env
    runner = make()
    library = new_library_id()
    [queued] = await queue(store, library, 1)
    executor.steps[queued.id] = list(steps)
    runner.wake(library)
    await asyncio.wait_for(runner.until_idle(library), 10)
    return await store.job(queued.id)


async def until_started(executor: ScriptedExecutor, count: int) -> None:
    """Wait until `count` runs have started and reported progress (so their claims are in use)."""
    while len(executor.started) < count:
        await asyncio.sleep(0.01)


async def statuses(store: AsyncLibraryStore, library: str) -> list[JobStatus]:
    return [j.status for j in sorted((await store.snapshot(library)).jobs, key=lambda j: j.created_ms)]


async def test_drains_every_job_at_most_two_at_once(env) -> None:
    store, executor, _, make, tmp_path = env
    runner = make()
    library = new_library_id()
    jobs = await queue(store, library, 6)
    executor.gate.clear()
    runner.wake(library)
    await until_started(executor, 2)
    await asyncio.sleep(0.2)  # several polls: a third must not start while two are held
    assert len(executor.started) == 2
    executor.gate.set()
    await asyncio.wait_for(runner.until_idle(library), 10)
    assert await statuses(store, library) == [JobStatus.COMPLETED] * 6
    assert sorted(executor.started) == sorted(j.id for j in jobs)  # each exactly once
    assert executor.peak == 2
    journal = (tmp_path / "journal.log").read_text().split("\n")
    assert sum(" start " in line for line in journal) == 6


async def test_a_wake_starts_a_job_without_waiting_for_the_poll(env) -> None:
    store, _executor, _, make, _ = env
    runner = make(dataclasses.replace(FAST, poll_seconds=30))
    library = new_library_id()
    await queue(store, library, 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    runner.wake(library)
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert loop.time() - started < 2  # a 30 s poll was never waited for
    assert await statuses(store, library) == [JobStatus.COMPLETED]


async def test_a_job_queued_while_two_run_starts_when_a_slot_frees(env) -> None:
    store, executor, _, make, _ = env
    runner = make(dataclasses.replace(FAST, poll_seconds=30))
    library = new_library_id()
    executor.gate.clear()
    await queue(store, library, 3)
    runner.wake(library)
    await until_started(executor, 2)
    assert len(executor.started) == 2
    executor.gate.set()
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert len(executor.started) == 3


async def test_transient_errors_retry_with_backoff_and_succeed_on_the_third_attempt(env) -> None:
    done = await drain_one(env, TransientError("busy"), TransientError("busy"))
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 3)


async def test_three_transient_failures_fail_the_job_with_the_error_kept(env) -> None:
    done = await drain_one(env, *[TransientError("busy")] * 3)
    assert (done.status, done.attempts, done.error) == (JobStatus.FAILED, 3, "busy")


async def test_bad_input_fails_at_once_without_retrying(env) -> None:
    done = await drain_one(env, BadInputError("not an image"))
    assert (done.status, done.attempts) == (JobStatus.FAILED, 1)
    assert env[1].started.count(done.id) == 1


async def test_unexpected_errors_are_retried_and_shown_without_internals(env) -> None:
    done = await drain_one(env, *[KeyError("/secret/path")] * 3)
    assert done.status is JobStatus.FAILED and done.attempts == 3
    assert "secret" not in done.error and "KeyError" in done.error


async def test_cancelling_a_running_job_stops_it_and_discards_nothing_recorded(env) -> None:
    store, executor, _, make, _ = env
    runner = make()
    library = new_library_id()
    executor.gate.clear()
    [running] = await queue(store, library, 1)
    runner.wake(library)
    await until_started(executor, 1)
    stopped = await store.cancel(library, running.item_id, now_ms=running.created_ms + 1)
    await runner.stop(stopped)
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert await statuses(store, library) == [JobStatus.CANCELLED]


async def test_a_result_finished_after_a_cancel_is_discarded(env) -> None:
    store, executor, _, make, _ = env
    runner = make()
    library = new_library_id()
    executor.gate.clear()
    [running] = await queue(store, library, 1)
    runner.wake(library)
    await until_started(executor, 1)
    await store.cancel(library, running.item_id, now_ms=running.created_ms + 1)  # another worker's cancel
    executor.gate.set()
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert await statuses(store, library) == [JobStatus.CANCELLED]
    assert executor.discarded == [[f"key-{running.id}"]]


async def test_a_second_runner_in_another_process_never_runs_the_same_job(env) -> None:
    store, executor, _hub, make, _ = env
    first, second = make(), make()
    library = new_library_id()
    jobs = await queue(store, library, 8)
    first.wake(library)
    second.wake(library)
    await asyncio.wait_for(asyncio.gather(first.until_idle(library), second.until_idle(library)), 10)
    assert sorted(executor.started) == sorted(j.id for j in jobs)
    assert executor.peak <= 2  # the limit is per library, across runners


async def test_a_job_left_processing_by_a_dead_runner_is_recovered_and_run_again(env) -> None:
    store, _executor, _, make, _ = env
    library = new_library_id()
    [orphan] = await queue(store, library, 1)
    await store.claim_next(library, token="dead", now_ms=1, lease_ms=1, concurrency=2)  # lease long expired
    runner = make()
    runner.wake(library)
    await asyncio.wait_for(runner.until_idle(library), 5)
    done = await store.job(orphan.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 2)


async def test_tabs_are_told_about_every_change(env) -> None:
    store, _executor, hub, make, _ = env
    runner = make()
    library = new_library_id()
    await queue(store, library, 1)
    before = hub.version(library)
    runner.wake(library)
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert hub.version(library) >= before + 3  # claimed, progress, settled


async def test_the_janitor_resumes_libraries_with_work_and_cleans_up(env) -> None:
    store, _executor, _, make, _ = env
    runner = make(dataclasses.replace(FAST, job_ttl_hours=0, cleanup_interval_seconds=0.01))
    library = new_library_id()
    await queue(store, library, 2)
    runner.start_janitor()
    for _ in range(200):
        if not (await store.snapshot(library)).jobs:
            break
        await asyncio.sleep(0.02)
    await runner.shutdown()
    snapshot = await store.snapshot(library)
    assert snapshot.jobs == []  # completed by the resumed drain, then cleaned up
    assert len(snapshot.items) == 2 and all(i.cutout_status is JobStatus.COMPLETED for i in snapshot.items)
