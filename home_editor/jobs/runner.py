"""The process-level runner: one drain task per library claims jobs from the store (at most
`concurrency` at once, atomically, so tabs and workers never run a job twice) and executes them in
tasks of its own. Tabs only wake it and watch; a reload, a second tab or a closed tab changes nothing
about the work, which goes on until the library's queue is empty.

Beside it: `attempt.py` runs one claimed job and settles it, `janitor.py` finds libraries with work that
no tab woke, and `executor.py` is the contract with the work itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Callable
from typing import TypeVar

from home_editor.core.clock import now_ms
from home_editor.core.models import Job
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import ClaimRequest, LibraryStore
from home_editor.jobs.attempt import Attempts
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import JobExecutor
from home_editor.jobs.janitor import Janitor
from home_editor.settings import Settings

logger = logging.getLogger(__name__)
JOB_TASK_PREFIX = "job-"  # names the task of each job's execution (`asyncio.Task.get_name`)
R = TypeVar("R")


@dataclasses.dataclass
class _Running:
    library_id: str
    job: Job
    task: asyncio.Task[None]
    renewed_ms: int


class Runner:
    """Drains each library's queue in this process. Create one per process."""

    def __init__(
        self,
        store: AsyncLibraryStore,
        executor: JobExecutor,
        hub: ChangeHub,
        *,
        settings: Settings,
        clock: Callable[[], int] = now_ms,
        announce_work: Callable[[], None] | None = None,
    ) -> None:
        """Args:
        store, executor, hub, settings: The queue's store, the work, the change hub, the settings.
        clock: Wall-clock milliseconds (tests step it).
        announce_work: Tells job workers in other processes that work was queued (Redis), if any.
        """
        self._store = store
        self._hub = hub
        self._settings = settings
        self._clock = clock
        self._attempts = Attempts(store, executor, hub, settings=settings, clock=clock, settle=self._settle)
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._wakes: dict[str, asyncio.Event] = {}
        self._running: dict[str, _Running] = {}
        self._expired_at: dict[str, int] = {}
        self._shut_down = False
        self._poll_only = not settings.wake_on_enqueue  # the original app's behaviour, kept for measuring
        self._claims = settings.claims_jobs  # False in a web-only process: the job workers run everything
        self._announce_work = announce_work
        self._reserved = 0  # slots held by claims in progress (the per-process cap counts them)
        self._janitor = Janitor(
            store, settings=settings, clock=clock, wake=self.wake, before_sweep=self._drop_stale_expiry_marks
        )

    # ---- what tabs and handlers call ---------------------------------------------------------

    def wake(self, library_id: str) -> None:
        """Look at the library's queue now (a job was queued, a tab polled); starts draining if idle.
        A web-only process never claims, so there this does nothing."""
        if self._shut_down or not self._claims:
            return
        self._wakes.setdefault(library_id, asyncio.Event()).set()
        self._keep_draining(library_id)

    def _keep_draining(self, library_id: str) -> None:
        """Make sure the library has a drain task (it claims when woken, and ticks every poll)."""
        drain = self._drains.get(library_id)
        if drain is None or drain.done():
            self._drains[library_id] = asyncio.create_task(self._drain(library_id), name=f"drain-{library_id[:6]}")

    async def enqueue(self, library_id: str, write: Callable[[LibraryStore], R]) -> R:
        """Queue work and, when this process has a slot free for the library, start it in the same trip
        to the store: `write(store)` runs the store calls that queue it on the store's thread, and the
        library's due jobs are claimed in the same transaction (one hand-off from queuing to starting).
        Without a free slot (or in a web-only process) the work is noticed as `notice_new_work` does.

        Returns:
            What `write` returned.
        """
        free = 0 if self._shut_down or self._poll_only or not self._claims else self._free_slots(library_id)
        if free <= 0:
            result = await self._store.run(write)
            self.notice_new_work(library_id)
            return result
        self._reserved += free
        try:
            result, claimed = await self._store.claiming(self._claim_request(library_id, free), write)
        finally:
            self._reserved -= free
        if not claimed and self._announce_work is not None:
            self._announce_work()  # every slot is held elsewhere: the job workers hear of it
        if not self._shut_down:  # else the claims expire and are recovered later
            self._start_claimed(library_id, claimed)
            self._keep_draining(library_id)  # not woken: it renews the leases and looks at its next tick
        return result

    def notice_new_work(self, library_id: str) -> None:
        """A job was queued: claim it now if a slot is free. (With `wake_on_enqueue` off, as in the
        original app, new work waits for the next poll; kept as a switch to measure the difference.)
        Job workers in other processes hear of it too, when there is a way to tell them (Redis)."""
        if self._announce_work is not None and not self._poll_only:
            self._announce_work()
        if not self._claims:
            return
        if self._poll_only:
            self.start_janitor()
        else:
            self.wake(library_id)

    async def stop(self, jobs: list[Job]) -> None:
        """Stop jobs the store has just cancelled: their local executions, and their remote work.
        Returns once the local executions have ended, so a result file being written when the cancel
        came has been written and discarded before the caller goes on (e.g. removes the item's files)."""
        stopping = [running.task for job in jobs if (running := self._running.get(job.id)) is not None]
        for task in stopping:
            task.cancel()
        if stopping:
            await asyncio.wait(stopping)
        await self.forget_remote(jobs)

    async def forget_remote(self, jobs: list[Job]) -> None:
        """Delete the provider's records of jobs that are settled or stopped (best effort)."""
        await self._attempts.forget_remote(jobs)

    def running_count(self, library_id: str | None = None) -> int:
        """Jobs executing in this process (of one library, or all)."""
        return sum(library_id in (None, running.library_id) for running in self._running.values())

    async def until_idle(self, library_id: str) -> None:
        """Wait until the library's drain task has finished (tests and shutdown)."""
        while (drain := self._drains.get(library_id)) is not None and not drain.done():
            await asyncio.wait({drain})

    async def until_jobs_done(self, library_id: str) -> None:
        """Wait until the library's jobs running in this process have finished (tests step with it)."""
        tasks = [running.task for running in self._running.values() if running.library_id == library_id]
        if tasks:
            await asyncio.wait(tasks)

    def look_for_work(self) -> None:
        """Another process queued work: wake every library that has some (one look at a time; a notice
        during a look makes one more, so nothing queued meanwhile waits for the poll)."""
        if self._shut_down or not self._claims:
            return
        self._janitor.look_now()

    def start_janitor(self) -> None:
        """Start the periodic sweep (resume libraries with work, e.g. after a restart; drop old jobs).
        A web-only process has none: the job workers sweep."""
        if not self._claims:
            return
        self._janitor.start()

    async def sweep(self) -> None:
        """One janitor step: wake libraries that have work (e.g. after a restart); drop old settled jobs."""
        await self._janitor.sweep()

    async def shutdown(self) -> None:
        """Cancel every task of this runner (their claims expire and are recovered later)."""
        self._shut_down = True  # an execution ending now wakes no new drain
        tasks = [*self._drains.values(), *(running.task for running in self._running.values())]
        tasks += self._janitor.tasks()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- draining ----------------------------------------------------------------------------

    async def _drain(self, library_id: str) -> None:
        try:
            await self._drain_until_idle(library_id)
        finally:
            self._forget_library(library_id)

    def _forget_library(self, library_id: str) -> None:
        """The library's drain ended (idle, or shut down): drop what this process kept for it, so a
        long-lived server does not grow with every library it has served. A later wake starts afresh."""
        if self._drains.get(library_id) is not asyncio.current_task():
            return
        del self._drains[library_id]
        self._wakes.pop(library_id, None)
        self._hub.forget(library_id)
        self._drop_stale_expiry_marks()

    def _drop_stale_expiry_marks(self) -> None:
        """Forget when libraries last expired leases once that no longer holds anything back."""
        now, poll_ms = self._clock(), self._settings.poll_seconds * 1000
        self._expired_at = {key: at for key, at in self._expired_at.items() if now - at < poll_ms}

    def tracked_libraries(self) -> int:
        """How many libraries this runner keeps anything for (tests of its memory use)."""
        return len(self._drains.keys() | self._wakes.keys() | self._expired_at.keys())

    async def _drain_until_idle(self, library_id: str) -> None:
        """Woken (work queued, a slot freed, a tab's poll) or when a held-back job is due, it only claims;
        every poll it ticks (renews this process's leases, recovers expired ones, claims). A drain started
        without a wake (its jobs were claimed as they were queued) waits first. It ends when the library
        has no active job and none of its jobs runs here."""
        wake = self._wakes.setdefault(library_id, asyncio.Event())
        poll_ms = int(self._settings.poll_seconds * 1000)
        tick_at = self._clock() + poll_ms
        timeout = self._settings.poll_seconds
        while True:
            if not wake.is_set() and self._clock() < tick_at:
                await self._rest(wake, timeout)
            wake.clear()
            try:
                if self._clock() >= tick_at:
                    tick_at = self._clock() + poll_ms
                    await self.tick(library_id)
                else:
                    await self._claim(library_id)
                active, next_due = await self._store.queue_state(library_id, self._clock())
            except Exception:
                logger.exception("Queue tick failed for a library; trying again")
                active, next_due = 1, None
            if active == 0 and self.running_count(library_id) == 0 and not wake.is_set():
                return  # no awaits between this check and the return: a wake() now starts a new drain
            now = self._clock()
            timeout = max((tick_at - now) / 1000, 0.01)
            if next_due is not None:
                timeout = min(timeout, max((next_due - now) / 1000, 0.01))

    async def _rest(self, wake: asyncio.Event, timeout: float) -> None:
        """Wait for a wake (or, polling only, just wait) at most `timeout` seconds."""
        if self._poll_only:
            await asyncio.sleep(timeout)
            return
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives as the wake comes, and
        # the drain would outlive `shutdown()`, which would then wait for it forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await wake.wait()

    async def tick(self, library_id: str) -> list[Job]:
        """The library's periodic step (the drain runs it every poll; tests step the runner with it):
        renew this process's leases first, then return other runners' expired jobs to the queue, then
        claim due jobs for the free slots. Jobs this process runs are never taken for abandoned by it.
        A wake only claims: renewing and expiring leases is never on the way from queuing to starting.

        Returns:
            The jobs claimed and started by this step.
        """
        await self._renew_leases(library_id)
        await self._expire_abandoned(library_id)
        return await self._claim(library_id)

    async def _renew_leases(self, library_id: str) -> None:
        now = self._clock()
        for running in list(self._running.values()):
            if running.library_id != library_id or now - running.renewed_ms < self._settings.renew_ms:
                continue
            if await self._store.renew_lease(
                running.job.id, running.job.lease_token, until_ms=now + self._settings.lease_ms
            ):
                running.renewed_ms = now
            else:
                running.task.cancel()  # cancelled, or taken over by another runner: stop working on it

    async def _expire_abandoned(self, library_id: str) -> None:
        now = self._clock()
        if now - self._expired_at.get(library_id, 0) < self._settings.poll_seconds * 1000:
            return  # once a poll is enough: a lease lasts many polls
        self._expired_at[library_id] = now
        recovered = await self._store.expire_leases(
            now_ms=now, max_attempts=self._settings.max_attempts, library_id=library_id, keep=self._own_job_ids()
        )
        if recovered:
            self._hub.notify(library_id)

    def _free_slots(self, library_id: str) -> int:
        """Jobs of the library this process may claim now (its share of the library's concurrency, within
        the process's own cap over all libraries, which counts claims under way)."""
        free = self._settings.concurrency - self.running_count(library_id)
        if self._settings.worker_slots:
            free = min(free, self._settings.worker_slots - self.running_count() - self._reserved)
        return free

    def _claim_request(self, library_id: str, free: int) -> ClaimRequest:
        return ClaimRequest(
            library_id=library_id,
            tokens=[secrets.token_hex(8) for _ in range(free)],
            now_ms=self._clock(),
            lease_ms=self._settings.lease_ms,
            concurrency=self._settings.concurrency,
            still_running=self._own_job_ids(),
        )

    async def _claim(self, library_id: str) -> list[Job]:
        free = self._free_slots(library_id)
        if free <= 0:
            return []
        self._reserved += free  # other libraries' drains claim meanwhile: they see these slots as taken
        try:
            claimed = await self._store.claim(self._claim_request(library_id, free))
        finally:
            self._reserved -= free
        self._start_claimed(library_id, claimed)
        return claimed

    def _start_claimed(self, library_id: str, claimed: list[Job]) -> None:
        for job in claimed:
            self._start(library_id, job)
        if claimed:
            self._hub.notify(library_id)

    def _start(self, library_id: str, job: Job) -> None:
        if job.id in self._running:  # cannot happen (own jobs are never claimed again): never run one twice
            logger.error("Job %s was claimed while this process still runs it; leaving the new claim", job.id)
            return
        task = asyncio.create_task(self._execute(library_id, job), name=f"{JOB_TASK_PREFIX}{job.id}")
        self._running[job.id] = _Running(library_id, job, task, renewed_ms=self._clock())

    def _own_job_ids(self) -> list[str]:
        return list(self._running)

    async def _execute(self, library_id: str, job: Job) -> None:
        try:
            await self._attempts.run(library_id, job)
        finally:
            self._forget_running(job)  # no await from here on: the drain sees the slot free and woken
            self._hub.notify(library_id)
            if not self._poll_only:
                self.wake(library_id)
                if self._settings.worker_slots:  # a slot of the process is free: any library may take it
                    for other in list(self._drains):
                        self.wake(other)

    async def _settle(self, library_id: str, write: Callable[[LibraryStore], R]) -> R:
        """Settle an attempt with `write` and hand its slot on: the library's next due jobs are claimed in
        the same store call, so from one job's end to the next one's start is one hand-off. Not with a
        process-wide cap (`worker_slots`): there a freed slot goes to whichever library takes it first."""
        if self._shut_down or self._poll_only or self._settings.worker_slots:
            return await self._store.run(write)
        free = self._free_slots(library_id) + 1  # the settling job's own slot (it still counts as running)
        # Its id stays in `still_running`: a retry that is due at once is not claimed while it still ends here.
        result, claimed = await self._store.claiming(self._claim_request(library_id, free), write)
        if not self._shut_down:
            self._start_claimed(library_id, claimed)
        return result

    def _forget_running(self, job: Job) -> None:
        """Remove this execution's entry, and only its own (never a later claim's of the same job)."""
        entry = self._running.get(job.id)
        if entry is not None and entry.job.lease_token == job.lease_token:
            del self._running[job.id]
