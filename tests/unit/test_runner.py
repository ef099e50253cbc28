"""The process-level runner with an in-memory executor and a real SQLite store: concurrency, wake-up,
retries, cancellation, lost claims and draining with no tab open.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from home_editor.core.errors import BadInputError, TransientError
from home_editor.core.models import Job, JobStatus, new_library_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import ClaimLostError, Outcome
from home_editor.jobs.runner import Runner
from home_editor.processing.images import AcceptedImage
from home_editor.settings import Settings
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.upload_spool import UploadGate
from home_editor.upload_intake import UploadIntake
from tests.db_probes import peak_processing, record_peak_processing
from tests.factories import item, job
from tests.store_helpers import claim_next_async, stored_job_async
from tests.unit import runner_process

FAST = Settings(poll_seconds=0.05, retry_base_seconds=0.01, lease_seconds=5)
# A runner the test steps by hand with `tick()` and an injected clock: nothing wakes a drain of its own.
STEPPED = Settings(poll_seconds=1, renew_seconds=1, lease_seconds=3, retry_base_seconds=0.01, wake_on_enqueue=False)


class FakeClock:
    """Milliseconds that move only when the test moves them."""

    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class ScriptedExecutor:
    """Runs jobs by script: each run pops the next step for the job (an exception, or success);
    `gate` holds every run until released, so tests decide when work finishes."""

    def __init__(self) -> None:
        self.steps: dict[str, list[BaseException | None]] = {}
        self.started: list[str] = []
        self.running = 0
        self.peak = 0
        self.running_by_job: collections.Counter[str] = collections.Counter()
        self.peak_per_job = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.stopping = asyncio.Event()  # a cancelled run ends only once this is set (it cleans up first)
        self.stopping.set()
        self.changed = asyncio.Condition()
        self.discarded: list[list[str]] = []
        self.remote_cancels: list[str] = []
        self.claims: dict[str, object] = {}  # the last claim each job's run was handed

    async def run(self, library_id: str, job: Job, claim) -> Outcome:
        self.claims[job.id] = claim
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.running_by_job[job.id] += 1
        self.peak_per_job = max(self.peak_per_job, self.running_by_job[job.id])
        try:
            await claim.report(50, "half way")
            async with self.changed:
                self.started.append(job.id)
                self.changed.notify_all()
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                await self.stopping.wait()
                raise
            steps = self.steps.get(job.id, [])
            step = steps.pop(0) if steps else None
            if step is not None:
                raise step
            return Outcome(name="cutout-abcdefghijkm.png", url="u", note="", keys=[f"key-{job.id}"])
        finally:
            self.running -= 1
            self.running_by_job[job.id] -= 1

    async def discard(self, keys: list[str]) -> None:
        self.discarded.append(keys)

    async def cancel_remote(self, job: Job) -> None:
        self.remote_cancels.append(job.remote_id)


@pytest.fixture
def env(tmp_path: Path):
    store = AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'runner.db'}")))
    executor = ScriptedExecutor()
    hub = ChangeHub()

    def make(settings: Settings = FAST, clock: FakeClock | None = None) -> Runner:
        settings = dataclasses.replace(settings, execution_log=tmp_path / "journal.log")
        if clock is None:
            return Runner(store, executor, hub, settings=settings)
        return Runner(store, executor, hub, settings=settings, clock=clock)

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
    return await stored_job_async(store, queued.id)


async def until_started(executor: ScriptedExecutor, count: int) -> None:
    """Wait until `count` runs have started and reported progress (so their claims are in use)."""
    async with executor.changed:
        await executor.changed.wait_for(lambda: len(executor.started) >= count)


async def step_until_settled(runner: Runner, library: str, clock: FakeClock) -> None:
    """Tick (a poll apart) and let the claimed jobs finish, until a tick finds nothing to do."""
    while await runner.tick(library) or runner.running_count(library):
        await runner.until_jobs_done(library)
        clock.now += 1_000


def journal_starts(tmp_path: Path) -> list[str]:
    """The job ids of every execution start, as the journal has them."""
    lines = (tmp_path / "journal.log").read_text().splitlines()
    return [line.split()[2] for line in lines if line.split()[1] == "start"]


async def statuses(store: AsyncLibraryStore, library: str) -> list[JobStatus]:
    return [j.status for j in sorted((await store.snapshot(library)).jobs, key=lambda j: j.created_ms)]


async def test_drains_every_job_at_most_two_at_once(env) -> None:
    store, executor, _, make, tmp_path = env
    clock = FakeClock()
    runner = make(STEPPED, clock)
    library = new_library_id()
    jobs = await queue(store, library, 6)
    executor.gate.clear()
    assert len(await runner.tick(library)) == 2
    await until_started(executor, 2)
    for _ in range(3):  # several polls: a third must not start while two are held
        clock.now += 1_000
        assert await runner.tick(library) == []
    assert len(executor.started) == 2
    executor.gate.set()
    await step_until_settled(runner, library, clock)
    assert await statuses(store, library) == [JobStatus.COMPLETED] * 6
    assert sorted(executor.started) == sorted(j.id for j in jobs)  # each exactly once
    assert executor.peak == 2
    assert sorted(journal_starts(tmp_path)) == sorted(j.id for j in jobs)


async def test_a_slow_tick_never_reclaims_the_process_s_own_running_job(env) -> None:
    """The clock jumps past the lease between two ticks (a busy database, a pause): the runner renews
    its own job's lease instead of taking it for abandoned, and the job runs exactly once."""
    store, executor, _, make, tmp_path = env
    clock = FakeClock()
    runner = make(STEPPED, clock)
    library = new_library_id()
    [queued] = await queue(store, library, 1)
    executor.gate.clear()
    assert [j.id for j in await runner.tick(library)] == [queued.id]
    await until_started(executor, 1)
    clock.now += 3 * STEPPED.lease_ms
    assert await runner.tick(library) == []
    executor.gate.set()
    await step_until_settled(runner, library, clock)
    done = await stored_job_async(store, queued.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 1)
    assert journal_starts(tmp_path) == [queued.id]


async def test_a_job_taken_over_elsewhere_is_stopped_before_this_process_claims_it_again(env) -> None:
    """Another runner expired this process's lease: the process stops its execution (which takes a while
    to clean up) and claims the job again only once that execution has ended, so it never runs one job
    twice at once and its own bookkeeping never loses a running job."""
    store, executor, _, make, _ = env
    clock = FakeClock()
    runner = make(STEPPED, clock)
    library = new_library_id()
    [queued] = await queue(store, library, 1)
    executor.gate.clear()
    executor.stopping.clear()
    await runner.tick(library)
    await until_started(executor, 1)
    clock.now += 3 * STEPPED.lease_ms
    await store.expire_leases(now_ms=clock.now, max_attempts=3, library_id=library)  # another runner's view
    assert await runner.tick(library) == []  # its execution is still stopping: not claimed again yet
    assert runner.running_count(library) == executor.running == 1
    executor.stopping.set()
    await runner.until_jobs_done(library)
    assert runner.running_count(library) == executor.running == 0
    executor.gate.set()
    await step_until_settled(runner, library, clock)
    assert (await stored_job_async(store, queued.id)).status is JobStatus.COMPLETED
    assert executor.peak_per_job == 1


async def test_a_wake_starts_a_job_without_waiting_for_the_poll(env) -> None:
    store, _executor, _, make, _ = env
    runner = make(dataclasses.replace(FAST, poll_seconds=30))
    library = new_library_id()
    await queue(store, library, 1)
    runner.wake(library)
    await asyncio.wait_for(runner.until_idle(library), 5)  # a 30 s poll was never waited for
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


async def test_an_unexpected_failure_says_retry_is_automatic_only_while_it_is(env) -> None:
    """While attempts remain the text says what happened (the job's message says when it retries);
    once the job has failed for good it never promises a retry and points to the Retry button."""
    store, executor, _, make, _ = env
    clock = FakeClock()
    runner = make(dataclasses.replace(STEPPED, max_attempts=2), clock)
    library = new_library_id()
    [queued] = await queue(store, library, 1)
    executor.steps[queued.id] = [KeyError("/secret/path")] * 2
    texts = []
    for _ in range(2):
        await runner.tick(library)
        await runner.until_jobs_done(library)
        settled = await stored_job_async(store, queued.id)
        texts.append((settled.status, settled.error))
        clock.now += 60_000  # past any back-off
    assert texts == [
        (JobStatus.PENDING, "Processing failed unexpectedly (KeyError)."),
        (JobStatus.FAILED, "Processing failed unexpectedly (KeyError). Press Retry to try again."),
    ]
    failed_item = await store.item(library, queued.item_id)
    assert "will be retried" not in failed_item.cutout_error and "Press Retry" in failed_item.cutout_error


async def test_cancelling_a_running_job_stops_it_and_discards_nothing_recorded(env) -> None:
    """The running execution is cancelled by `stop` itself (the stepped runner's clock stands still, so
    no lease renewal notices the cancel for it), the job ends cancelled, the item records no result, and
    there is nothing to discard because no result was made."""
    store, executor, _, make, tmp_path = env
    runner = make(STEPPED, FakeClock())
    library = new_library_id()
    executor.gate.clear()  # never opened: only the cancel can end this run
    [running] = await queue(store, library, 1)
    await runner.tick(library)
    await until_started(executor, 1)
    stopped = await store.cancel(library, running.item_id, now_ms=running.created_ms + 1)
    assert [j.id for j in stopped] == [running.id]
    await runner.stop(stopped)
    assert executor.running == 0 and runner.running_count(library) == 0
    assert await statuses(store, library) == [JobStatus.CANCELLED]
    cancelled_item = await store.item(library, running.item_id)
    assert (cancelled_item.cutout, cancelled_item.cutout_status) == ("", JobStatus.CANCELLED)
    assert executor.discarded == []
    assert journal_starts(tmp_path) == [running.id]


async def test_the_write_backs_of_a_claim_that_is_gone_raise_and_store_nothing(env) -> None:
    """The work's progress and the provider's job id are stored while its claim holds; once the claim is
    gone (here cancelled by another process, which this runner has not noticed yet) both raise
    `ClaimLostError`, so the work stops, and neither reaches the job."""
    store, executor, _, make, _ = env
    runner = make(STEPPED, FakeClock())
    library = new_library_id()
    executor.gate.clear()
    [running] = await queue(store, library, 1)
    await runner.tick(library)
    await until_started(executor, 1)
    claim = executor.claims[running.id]
    await claim.remember_remote_id("remote-1")
    held = await stored_job_async(store, running.id)
    assert (held.progress, held.message, held.remote_id) == (50, "half way", "remote-1")
    await store.cancel(library, running.item_id, now_ms=running.created_ms + 1)
    with pytest.raises(ClaimLostError):
        await claim.report(70, "later")
    with pytest.raises(ClaimLostError):
        await claim.remember_remote_id("remote-2")
    gone = await stored_job_async(store, running.id)
    assert gone.status is JobStatus.CANCELLED
    assert gone.progress != 70 and gone.message != "later" and gone.remote_id != "remote-2"
    executor.gate.set()
    await runner.until_jobs_done(library)


async def test_stop_returns_only_once_the_stopped_execution_has_ended(env) -> None:
    """A cancelled execution may need a moment to end (a file being written is let finish): whoever
    stops it (a delete about to remove the item's files) goes on only after that."""
    store, executor, _, make, _ = env
    runner = make()
    library = new_library_id()
    executor.gate.clear()
    executor.stopping.clear()  # the cancelled run ends only when the test says
    [running] = await queue(store, library, 1)
    runner.wake(library)
    await until_started(executor, 1)
    stopping = asyncio.create_task(runner.stop(await store.cancel(library, running.item_id, now_ms=1)))
    await asyncio.sleep(0)  # one loop step: stop has sent the cancel
    assert not stopping.done() and executor.running == 1
    executor.stopping.set()
    await stopping
    assert executor.running == 0 and runner.running_count(library) == 0
    await asyncio.wait_for(runner.until_idle(library), 5)


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


def test_a_second_runner_in_another_process_never_runs_the_same_job(tmp_path: Path) -> None:
    """Two runners in two real processes share one SQLite file and step the same library, each claiming
    while the other's jobs still run: one after the other, then at the same moment (racing for the
    slots). The shared execution journal, read from outside, shows each job started exactly once; a
    trigger in the database shows that no more than two were ever processing at once."""
    db = tmp_path / "shared.db"
    store = LibraryStore(create_engine(f"sqlite:///{db}"))
    record_peak_processing(str(db))
    library = new_library_id()
    store.ensure_library(library, 0)
    jobs = [job("P", item_id=new_item.id, created_ms=i) for i, new_item in enumerate(item() for _ in range(12))]
    for queued in jobs:
        store.add_item(library, item(id=queued.item_id, created_ms=queued.created_ms), queued)
    runners = runner_process.RunnerProcesses(f"sqlite:///{db}", library, tmp_path / "journal.log")
    try:
        runners.step(0, 1, together=False)
        runners.step(1, 0, together=False)
        while runners.step(0, 1, together=True) + runners.step(1, 0, together=True):
            pass
    finally:
        runners.close()
    claimed_by = runners.claimed
    assert sorted(journal_starts(tmp_path)) == sorted(j.id for j in jobs)  # every job, each exactly once
    assert sorted(claimed_by[0] + claimed_by[1]) == sorted(j.id for j in jobs)
    assert claimed_by[0] and claimed_by[1]
    assert peak_processing(str(db)) <= 2  # the limit is per library, across processes
    assert [j.status for j in store.snapshot(library).jobs] == [JobStatus.COMPLETED] * len(jobs)


async def test_a_job_left_processing_by_a_dead_runner_is_recovered_and_run_again(env) -> None:
    store, _executor, _, make, _ = env
    library = new_library_id()
    [orphan] = await queue(store, library, 1)
    await claim_next_async(store, library, token="dead", now_ms=1, lease_ms=1, concurrency=2)  # lease long expired
    runner = make()
    runner.wake(library)
    await asyncio.wait_for(runner.until_idle(library), 5)
    done = await stored_job_async(store, orphan.id)
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
    clock = FakeClock()
    runner = make(dataclasses.replace(FAST, job_ttl_hours=0, cleanup_interval_seconds=1), clock)
    library = new_library_id()
    await queue(store, library, 2)
    await runner.sweep()  # finds the library's work and starts draining it
    await asyncio.wait_for(runner.until_idle(library), 5)
    snapshot = await store.snapshot(library)
    assert [j.status for j in snapshot.jobs] == [JobStatus.COMPLETED] * 2
    clock.now += 1_000
    await runner.sweep()  # a cleanup interval later: the settled jobs are past their time to live
    snapshot = await store.snapshot(library)
    assert snapshot.jobs == []
    assert len(snapshot.items) == 2 and all(i.cutout_status is JobStatus.COMPLETED for i in snapshot.items)
    await runner.shutdown()


async def test_a_shut_down_runner_starts_no_new_drain(env) -> None:
    """A job cancelled by the shutdown wakes its library as it ends: that must not leave a new drain
    task behind (it would outlive the event loop)."""
    store, executor, _, make, _ = env
    runner = make()
    library = new_library_id()
    executor.gate.clear()
    await queue(store, library, 1)
    runner.wake(library)
    await until_started(executor, 1)
    await runner.shutdown()
    runner.wake(library)
    assert [task for task in asyncio.all_tasks() if task.get_name().startswith("drain-")] == []
    assert runner.running_count() == 0


async def test_shutdown_ends_a_drain_that_is_woken_as_it_is_cancelled(env) -> None:
    """A job ending wakes its library's drain; a shutdown cancelling that drain in the same instant must
    still end it (asyncio.wait_for on Python 3.11 swallowed such a cancel, and shutdown waited forever)."""
    store, executor, _, make, _ = env
    runner = make()
    library = new_library_id()
    executor.gate.clear()
    await queue(store, library, 1)
    runner.wake(library)
    await until_started(executor, 1)
    await until_parked(runner, library)
    runner.wake(library)  # the wake and the cancel below land in one turn of the loop
    async with asyncio.timeout(30):  # bounds the failure only
        await runner.shutdown()
    assert [task for task in asyncio.all_tasks() if task.get_name().startswith("drain-")] == []


async def until_parked(runner: Runner, library: str) -> None:
    """Until the library's drain waits for its next wake (a turn of the loop at a time, no clock)."""
    while not runner._wakes[library]._waiters:
        await asyncio.sleep(0)


class RecordingStore:
    """The store, recording which of its methods the runner calls (each call is one hand-off to its thread)."""

    def __init__(self, store: AsyncLibraryStore) -> None:
        self._store = store
        self.calls: list[str] = []
        self.returned: collections.defaultdict[str, asyncio.Event] = collections.defaultdict(asyncio.Event)

    def __getattr__(self, name: str):
        method = getattr(self._store, name)

        async def call(*args, **kwargs):
            self.calls.append(name)
            try:
                return await method(*args, **kwargs)
            finally:
                self.returned[name].set()

        return call


class StoreCallsAtStart(ScriptedExecutor):
    """Notes the store calls made before each job's execution began."""

    def __init__(self, recording: RecordingStore) -> None:
        super().__init__()
        self.recording = recording
        self.calls_before: dict[str, list[str]] = {}

    async def run(self, library_id: str, job: Job, claim) -> Outcome:
        self.calls_before[job.id] = list(self.recording.calls)
        return await super().run(library_id, job, claim)


def recorded_runner(env, settings: Settings, clock: FakeClock | None = None):
    store, _, hub, _, tmp_path = env
    recording = RecordingStore(store)
    executor = StoreCallsAtStart(recording)
    settings = dataclasses.replace(settings, execution_log=tmp_path / "journal.log")
    runner = Runner(recording, executor, hub, settings=settings, clock=clock or FakeClock())
    return runner, recording, executor


def adding(library: str, count: int = 1) -> tuple[list[Job], Callable]:
    """New items with their jobs, and the store write that adds them."""
    pairs = [
        (new_item := item(created_ms=index), job("P", item_id=new_item.id, created_ms=index)) for index in range(count)
    ]

    def write(sync_store) -> None:
        for new_item, new_job in pairs:
            sync_store.add_item(library, new_item, new_job)

    return [new_job for _, new_job in pairs], write


async def test_queuing_with_a_free_slot_starts_the_job_in_one_trip_to_the_store(env) -> None:
    runner, recording, executor = recorded_runner(env, dataclasses.replace(FAST, poll_seconds=30))
    library = new_library_id()
    await recording.ensure_library(library, 0)
    recording.calls.clear()
    [queued], write = adding(library)
    await runner.enqueue(library, write)
    await until_started(executor, 1)
    assert executor.calls_before[queued.id] == ["claiming"]  # queued and claimed together: no wake, no tick
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert (await stored_job_async(recording, queued.id)).status is JobStatus.COMPLETED


async def test_an_uploaded_photo_is_added_and_its_cutout_started_in_one_trip_to_the_store(env) -> None:
    runner, recording, executor = recorded_runner(env, dataclasses.replace(FAST, poll_seconds=30))
    tmp_path = env[4]
    library = new_library_id()
    await recording.ensure_library(library, 0)
    recording.calls.clear()
    told: list[str] = []
    intake = UploadIntake(
        runner,
        LocalFileStorage(tmp_path / "media", base_url="http://app/media"),
        _accept_any_photo,
        UploadGate(2),
        spool_dir=tmp_path / "spool",
        limits=Settings().upload_limits,
        added=told.append,
    )
    added = await intake.add_upload(library, "chair.jpg", b"photo")
    await until_started(executor, 1)
    [started] = executor.started
    assert (await stored_job_async(recording, started)).item_id == added.id
    assert executor.calls_before[started] == ["claiming"]  # added and claimed together: no wake, no claim after
    assert told == [library]  # the tabs are told once the item is in
    await asyncio.wait_for(runner.until_idle(library), 5)


async def _accept_any_photo(data: bytes, streamed: object = None) -> tuple[AcceptedImage, str]:
    accepted = AcceptedImage(extension="jpg", width=4, height=3, thumbnail=b"thumbnail", original=data)
    return accepted, "hash"


async def test_work_queued_while_every_slot_is_taken_starts_when_one_frees(env) -> None:
    runner, recording, executor = recorded_runner(env, dataclasses.replace(FAST, poll_seconds=30))
    library = new_library_id()
    await recording.ensure_library(library, 0)
    executor.gate.clear()
    _, write = adding(library, 2)
    await runner.enqueue(library, write)
    await until_started(executor, 2)
    [third], write = adding(library)
    await runner.enqueue(library, write)
    assert (await stored_job_async(recording, third.id)).status is JobStatus.PENDING
    executor.gate.set()
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert executor.started[2] == third.id and executor.peak == 2


async def test_a_web_only_process_queues_without_claiming(env) -> None:
    runner, recording, _ = recorded_runner(env, dataclasses.replace(FAST, role="web"))
    library = new_library_id()
    await recording.ensure_library(library, 0)
    [queued], write = adding(library)
    await runner.enqueue(library, write)
    assert "claiming" not in recording.calls and runner.running_count() == 0
    assert (await stored_job_async(recording, queued.id)).status is JobStatus.PENDING


async def test_a_wake_only_claims_and_the_periodic_tick_recovers_expired_leases(env) -> None:
    """Expiring leases is the tick's work, once a poll (stepped here by the test's clock), never a wake's."""
    clock = FakeClock()
    runner, recording, _executor = recorded_runner(env, FAST, clock)
    library = new_library_id()
    [orphan] = await queue(recording, library, 1)
    await claim_next_async(recording, library, token="dead", now_ms=1, lease_ms=1, concurrency=2)  # its runner died
    recording.calls.clear()
    runner.wake(library)
    await recording.returned["queue_state"].wait()  # the woken drain has looked once
    assert recording.calls == ["claim", "queue_state"]
    assert (await stored_job_async(recording, orphan.id)).lease_token == "dead"  # not recovered by a wake
    clock.now += int(FAST.poll_seconds * 1000)  # a poll later the drain ticks
    await asyncio.wait_for(runner.until_idle(library), 5)
    assert "expire_leases" in recording.calls
    done = await stored_job_async(recording, orphan.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 2)


async def test_a_job_started_as_it_was_queued_has_its_lease_renewed_by_the_tick(env) -> None:
    clock = FakeClock()
    settings = dataclasses.replace(FAST, lease_seconds=3, renew_seconds=1, poll_seconds=0.05)
    runner, recording, executor = recorded_runner(env, settings, clock)
    library = new_library_id()
    await recording.ensure_library(library, 0)
    executor.gate.clear()
    [queued], write = adding(library)
    await runner.enqueue(library, write)
    await until_started(executor, 1)
    first_lease = (await stored_job_async(recording, queued.id)).lease_until_ms
    clock.now += 1_000  # the renewal is due at the next tick
    await asyncio.wait_for(recording.returned["renew_lease"].wait(), 5)
    assert (await stored_job_async(recording, queued.id)).lease_until_ms == first_lease + 1_000
    executor.gate.set()
    await asyncio.wait_for(runner.until_idle(library), 5)


async def test_a_finished_job_hands_its_slot_to_the_next_in_the_same_store_call(env) -> None:
    runner, recording, executor = recorded_runner(env, dataclasses.replace(FAST, concurrency=1, poll_seconds=30))
    library = new_library_id()
    await recording.ensure_library(library, 0)
    executor.gate.clear()
    [_, second], write = adding(library, 2)
    await runner.enqueue(library, write)
    await until_started(executor, 1)
    ended_at = len(recording.calls)
    executor.gate.set()
    await asyncio.wait_for(runner.until_idle(library), 5)
    # the first's result is recorded and the second claimed in one call: no wake, no second trip
    assert executor.calls_before[second.id][ended_at:] == ["claiming"]
    assert await statuses(recording, library) == [JobStatus.COMPLETED, JobStatus.COMPLETED]


async def test_a_failed_attempt_due_again_at_once_is_not_claimed_while_it_still_ends(env) -> None:
    runner, recording, executor = recorded_runner(env, dataclasses.replace(FAST, retry_base_seconds=0))
    library = new_library_id()
    await recording.ensure_library(library, 0)
    [retried], write = adding(library)
    executor.steps[retried.id] = [TransientError("busy")]
    await runner.enqueue(library, write)
    await asyncio.wait_for(runner.until_idle(library), 5)
    done = await stored_job_async(recording, retried.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 2)
    assert executor.peak_per_job == 1
