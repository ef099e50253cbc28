"""One claimed attempt of a job, from start to settled: the executor does the work with write-backs
bound to the claim, then the result is recorded (or its files discarded when the claim is gone), or the
failure is recorded with its retry. The runner decides which jobs to claim and when; this runs each one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from home_editor.core import scheduler
from home_editor.core.errors import HomeEditorError
from home_editor.core.models import Job, JobStatus
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import Claim, ClaimLostError, JobExecutor, Outcome
from home_editor.jobs.journal import ExecutionJournal
from home_editor.settings import Settings
from home_editor.storage.base import finish_even_if_cancelled

logger = logging.getLogger(__name__)

Settle = Callable[[str, Callable[[LibraryStore], Any]], Awaitable[Any]]
"""Runs a store write that settles an attempt of a library's job (and may hand its slot on); returns what
the write returned."""


def user_message(error: BaseException, *, retried: bool) -> str:
    """Text safe to show: our own errors say what happened; anything else is named, not dumped. An
    unexpected failure that is not retried by itself (the last attempt) says that Retry is the way on."""
    if isinstance(error, HomeEditorError):
        return str(error) or type(error).__name__
    happened = f"Processing failed unexpectedly ({type(error).__name__})."
    return happened if retried else f"{happened} Press Retry to try again."


class Attempts:
    """Runs claimed attempts in this process and settles each one (one per runner)."""

    def __init__(
        self,
        store: AsyncLibraryStore,
        executor: JobExecutor,
        hub: ChangeHub,
        *,
        settings: Settings,
        clock: Callable[[], int],
        settle: Settle,
    ) -> None:
        """Args:
        store, executor, hub, settings, clock: The runner's.
        settle: How the runner writes an attempt's end (it claims the library's next jobs in the same call).
        """
        self._store = store
        self._executor = executor
        self._hub = hub
        self._settings = settings
        self._clock = clock
        self._settle = settle
        self._journal = ExecutionJournal(settings.execution_log)

    async def run(self, library_id: str, job: Job) -> None:
        """Execute the claimed job and settle it. Returns quietly when the attempt is cancelled or its claim
        is lost (nothing to record); raises only when recording a failure fails."""
        self._journal.record("start", job.id, job.type.value)
        try:
            try:
                outcome = await self._executor.run(library_id, job, self.claim_of(library_id, job))
            finally:  # the work has ended before the store frees its slot, so the journal never shows
                self._journal.record("end", job.id, job.type.value)  # a claim by another process overlapping it
            await finish_even_if_cancelled(self._record(library_id, job, outcome))
        except (asyncio.CancelledError, ClaimLostError):
            pass  # cancelled by the user, or the claim moved on: nothing to record
        except Exception as error:
            await self._record_failure(library_id, job, error)

    def claim_of(self, library_id: str, job: Job) -> Claim:
        """The write-backs of one claimed attempt: progress and the provider's job id, each stored only
        while the claim holds (else they raise `ClaimLostError`)."""

        async def report(progress: int, message: str) -> None:
            if not await self._store.report_progress(
                job.id, job.lease_token, progress=progress, message=message, now_ms=self._clock()
            ):
                raise ClaimLostError
            self._hub.notify(library_id)

        async def remember_remote_id(remote_id: str) -> None:
            if not await self._store.set_remote_id(job.id, job.lease_token, remote_id):
                raise ClaimLostError

        return Claim(report=report, remember_remote_id=remember_remote_id, remote_id=job.remote_id)

    async def forget_remote(self, jobs: list[Job]) -> None:
        """Delete the provider's records of jobs that are settled or stopped (best effort)."""
        for job in jobs:
            if job.remote_id:
                await self._executor.cancel_remote(job)

    async def _record(self, library_id: str, job: Job, outcome: Outcome) -> None:
        """Record a result on the job and its item, or discard its files when the claim is gone (never
        neither: a cancel meanwhile waits for this to end)."""
        now = self._clock()  # read here: the write runs on the store's thread
        done = await self._settle(
            library_id,
            lambda store: store.complete(
                job.id,
                job.lease_token,
                now_ms=now,
                result=outcome.name,
                url=outcome.url,
                note=outcome.note,
                more_urls=outcome.more_urls,
            ),
        )
        if done is None:
            await self._executor.discard(outcome.keys)
        else:
            await self.forget_remote([done])  # only now, with the result recorded (contract §9)

    async def _record_failure(self, library_id: str, job: Job, error: Exception) -> None:
        if not isinstance(error, HomeEditorError):
            logger.exception("Job %s failed", job.id)
        retryable = getattr(error, "retryable", True)  # our permanent errors say False; the unknown may pass
        max_attempts = self._settings.max_attempts
        now = self._clock()
        message = user_message(error, retried=scheduler.will_retry(job, retryable=retryable, max_attempts=max_attempts))
        settled = await self._settle(
            library_id,
            lambda store: store.fail(
                job.id,
                job.lease_token,
                error=message,
                retryable=retryable,
                now_ms=now,
                max_attempts=max_attempts,
                backoff_base_ms=int(self._settings.retry_base_seconds * 1000),
            ),
        )
        if settled is not None and settled.status is JobStatus.FAILED:
            await self.forget_remote([settled])  # failed for good: no attempt will re-attach to it
