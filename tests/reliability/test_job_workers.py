"""The scaled-out shape with real processes on one machine: job workers (`python -m home_editor.worker`)
and a web-role process share a SQLite database (WAL) and a real Redis. The test process itself plays the
web process (HOME_EDITOR_ROLE=web: it takes uploads, queues work and watches like a tab); executions are
counted from outside, from the execution journals the processes write."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from home_editor.app_wiring import Services, build_services
from home_editor.core.clock import now_ms
from home_editor.core.models import JobStatus, Snapshot, new_library_id
from home_editor.settings import Settings
from tests.images import photo_bytes
from tests.job_workers import WorkerProcess, peak_running, shared_env, starts

NO_POLL = 3600  # a tab that waits only for change notices: without Redis it would never wake
NOTICE_TIMEOUT = 25  # bounds a failure only


@contextlib.asynccontextmanager
async def web_process(env: dict[str, str], journal: Path) -> AsyncIterator[Services]:
    """This process as a web process: the shared settings, role web, its own execution journal."""
    settings = Settings.from_env({**env, "HOME_EDITOR_ROLE": "web", "HOME_EDITOR_EXECUTION_LOG": str(journal)})
    services = build_services(settings, db_url=env["HOME_EDITOR_DB_URL"], public_base_url="http://app.test")
    services.start_background()
    if services.bus is not None:
        await asyncio.wait_for(services.bus.listening.wait(), NOTICE_TIMEOUT)
    try:
        yield services
    finally:
        await services.runner.shutdown()
        if services.bus is not None:
            await services.bus.close()


async def drop(services: Services, library: str, count: int, first_size: int = 200) -> None:
    """Upload `count` distinct photos through the real intake (each queues its cutout)."""
    await services.library.store.ensure_library(library, now_ms())
    files = [(f"photo-{index}.jpg", photo_bytes("plain", "ellipse", first_size + index)) for index in range(count)]
    results = services.library.intake(library, files)
    while (result := await asyncio.wait_for(results.get(), 60)) is not None:
        assert result.item is not None, result.problem


async def watch_until_settled(services: Services, library: str) -> Snapshot:
    """A tab's loop with no poll: it wakes only when a change notice arrives (from Redis, since the work
    runs in other processes), until every job has settled."""
    while True:
        seen = services.hub.version(library)
        snapshot = await services.library.snapshot(library)
        if snapshot.jobs and all(not job.is_active for job in snapshot.jobs):
            return snapshot
        await asyncio.wait_for(services.hub.wait(library, seen, timeout=NO_POLL), NOTICE_TIMEOUT)


def start_workers(env: dict[str, str], workdir: Path, count: int) -> list[WorkerProcess]:
    workers = [WorkerProcess(env, workdir / f"worker-{index}.log") for index in range(count)]
    return [worker.wait_ready() for worker in workers]


@pytest.mark.reliability(
    "F3 web and job worker processes", "a job worker runs what a web process queues; the web process never claims"
)
async def test_a_worker_process_runs_what_a_web_process_queues_and_the_web_process_never_claims(
    tmp_path: Path,
    redis_url: str,
) -> None:
    env = shared_env(tmp_path, redis_url)
    web_journal = tmp_path / "web-executions.log"
    library = new_library_id()
    async with web_process(env, web_journal) as web:
        await drop(web, library, 4)
        for _ in range(5):  # five tab polls, each waking the runner, as LibraryState.watch_library does
            await web.hub.wait(library, web.hub.version(library), timeout=0.1)
            web.runner.wake(library)
        queued = await web.library.snapshot(library)
        assert [job.status for job in queued.jobs] == [JobStatus.PENDING] * 4  # nobody claimed them
        workers = await asyncio.to_thread(start_workers, env, tmp_path, 1)
        try:
            settled = await watch_until_settled(web, library)
        finally:
            workers[0].stop()
    assert {item.cutout_status for item in settled.items} == {JobStatus.COMPLETED}
    assert all(item.cutout and (tmp_path / "media").exists() for item in settled.items)
    assert starts(Path(env["HOME_EDITOR_EXECUTION_LOG"])) == {job.id: 1 for job in settled.jobs}
    assert not web_journal.exists()  # the web process never started a job


@pytest.mark.reliability(
    "F3 three job workers, one library", "every job runs once, never more than 2 at once (counted from outside)"
)
async def test_three_workers_hammering_one_library_never_run_a_job_twice_or_exceed_its_cap(
    tmp_path: Path,
    redis_url: str,
) -> None:
    env = shared_env(tmp_path, redis_url, HOME_EDITOR_LOCAL_DELAY_SECONDS="0.3", HOME_EDITOR_POLL_SECONDS="0.2")
    library = new_library_id()
    workers = await asyncio.to_thread(start_workers, env, tmp_path, 3)
    try:
        async with web_process(env, tmp_path / "web-executions.log") as web:
            await drop(web, library, 24)
            settled = await watch_until_settled(web, library)
    finally:
        for worker in workers:
            worker.stop()
    journal = Path(env["HOME_EDITOR_EXECUTION_LOG"])
    assert [job.status for job in settled.jobs] == [JobStatus.COMPLETED] * 24
    assert starts(journal) == {job.id: 1 for job in settled.jobs}  # each job ran once
    assert peak_running(journal) == 2  # the per-library cap (2), reached and never passed


@pytest.mark.reliability(
    "F4 job worker killed (SIGKILL) mid-job", "nothing lost; its lease hands the job to another worker"
)
async def test_a_worker_killed_mid_job_loses_nothing_and_the_lease_hands_the_job_over(
    tmp_path: Path,
    redis_url: str,
) -> None:
    hold = tmp_path / "hold-local-jobs"  # a local job that starts waits at its end while this exists
    hold.touch()
    env = shared_env(
        tmp_path,
        redis_url,
        HOME_EDITOR_TEST_HOLD_FILE=str(hold),
        HOME_EDITOR_LEASE_SECONDS="3",
        HOME_EDITOR_RENEW_SECONDS="0.5",
        HOME_EDITOR_POLL_SECONDS="0.5",
    )
    journal = Path(env["HOME_EDITOR_EXECUTION_LOG"])
    library = new_library_id()
    [doomed] = await asyncio.to_thread(start_workers, env, tmp_path, 1)
    async with web_process(env, tmp_path / "web-executions.log") as web:
        await drop(web, library, 1)
        while sum(starts(journal).values()) == 0:  # the job provably runs (held at its end) in the worker
            await web.hub.wait(library, web.hub.version(library), timeout=0.1)
        doomed.kill()
        [job] = (await web.library.snapshot(library)).jobs
        assert job.status is JobStatus.PROCESSING  # claimed by the dead worker, lease still running
        hold.unlink()
        heir = await asyncio.to_thread(WorkerProcess(env, tmp_path / "heir.log").wait_ready)
        try:
            settled = await watch_until_settled(web, library)
        finally:
            heir.stop()
    [item], [job] = settled.items, settled.jobs
    assert job.status is JobStatus.COMPLETED and item.cutout_status is JobStatus.COMPLETED
    assert job.attempts == 2 and starts(journal) == {job.id: 2}  # the killed run, then the heir's, once
    assert item.cutout and item.original  # nothing lost


@pytest.mark.reliability(
    "F3 change in another process", "a change made in a job worker wakes a waiting tab through Redis, before any poll"
)
async def test_a_change_made_in_a_worker_wakes_a_waiting_tab_in_another_process_through_redis(
    tmp_path: Path,
    redis_url: str,
) -> None:
    env = shared_env(tmp_path, redis_url)
    library = new_library_id()
    [worker] = await asyncio.to_thread(start_workers, env, tmp_path, 1)
    try:
        async with web_process(env, tmp_path / "web-executions.log") as web:
            await drop(web, library, 1)
            seen = web.hub.version(library)
            woken = 0
            while (await web.library.snapshot(library)).jobs[0].is_active:
                await asyncio.wait_for(web.hub.wait(library, seen, timeout=NO_POLL), NOTICE_TIMEOUT)
                seen, woken = web.hub.version(library), woken + 1
    finally:
        worker.stop()
    assert woken >= 1  # each wake came from a notice the worker published: this process ran nothing
