"""The job queue as the runner drives it: claiming due jobs, a running job's lease and progress, settling
a run, recovering jobs whose runner stopped, and removing old settled jobs. Each transition applies a decision
of `core.scheduler` with compare-and-set (see `store_base`) and mirrors the job's new status into its item in
the same transaction. What a user asks of an item's jobs (queue, cancel, retry) is in `item_operations`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Self, TypeVar

import sqlalchemy as sa

from home_editor.core import scheduler
from home_editor.core.models import Job, JobStatus
from home_editor.database.records import job_from_row
from home_editor.database.schema import jobs
from home_editor.database.store_base import ACTIVE, TERMINAL, StoreBase

R = TypeVar("R")


@dataclasses.dataclass(frozen=True)
class ClaimRequest:
    """What a runner asks of `claim` (see `claim_due`): one token per free slot it has for the library."""

    library_id: str
    tokens: Sequence[str]
    now_ms: int
    lease_ms: int
    concurrency: int
    still_running: Collection[str] = ()


class QueueTransitions(StoreBase):
    """Every change the runner makes to a job's status, and what it reads to decide when to look again."""

    # ---- reads -------------------------------------------------------------------------------

    def libraries_with_work(self) -> list[str]:
        """Libraries that have pending or processing jobs."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(jobs.c.library_id).where(jobs.c.status.in_(ACTIVE)).distinct())
            return [row[0] for row in rows]

    def queue_state(self, library_id: str, now_ms: int) -> tuple[int, int | None]:
        """How many of the library's jobs are active, and when the earliest held-back one is due."""
        with self._engine.connect() as conn:
            active = conn.execute(_ACTIVE_COUNT, {"library_id": library_id}).scalar_one()
            next_due = conn.execute(_NEXT_DUE, {"library_id": library_id, "now_ms": now_ms}).scalar_one()
            return active, next_due

    # ---- claiming ----------------------------------------------------------------------------

    def claiming(self, request: ClaimRequest | None, write: Callable[[Self], R]) -> tuple[R, list[Job]]:
        """Queue work and start it in one transaction: `write(self)` (store calls that queue jobs), then,
        with a `request`, the claim of the library's due jobs, as `claim_due` does it. One call, so from
        queuing to starting a job takes one trip to the store's thread. The library is locked first, as a
        claim does, so writers and claimers of a library always take their locks in the same order.

        Returns:
            What `write` returned, and the jobs claimed (none without a request).
        """
        if request is None:
            return write(self), []
        with self._write() as conn:
            self._lock_library(conn, request.library_id, request.now_ms)
            result = write(self)
            claimed = self._claim_locked(conn, request)
        return result, claimed

    def claim_due(
        self,
        library_id: str,
        *,
        tokens: Sequence[str],
        now_ms: int,
        lease_ms: int,
        concurrency: int,
        still_running: Collection[str] = (),
    ) -> list[Job]:
        """Atomically claim the library's best due pending jobs (one per token) while fewer than
        `concurrency` run, in one transaction. Jobs the caller `still_running` are not claimed again.

        Claimers of one library are serialised, so the running count cannot be exceeded: on Postgres by a
        lock on the library's row (FOR UPDATE; created first if the library has jobs but no row), which
        never holds up claims in other libraries; SQLite write transactions are IMMEDIATE (one writer).
        """
        return self.claim(
            ClaimRequest(
                library_id=library_id,
                tokens=tokens,
                now_ms=now_ms,
                lease_ms=lease_ms,
                concurrency=concurrency,
                still_running=still_running,
            )
        )

    def claim(self, request: ClaimRequest) -> list[Job]:
        """`claim_due`, asked as a runner asks it."""
        with self._write() as conn:
            self._lock_library(conn, request.library_id, request.now_ms)
            return self._claim_locked(conn, request)

    def _claim_locked(self, conn: sa.Connection, request: ClaimRequest) -> list[Job]:
        """`claim` in a transaction that holds the library's lock."""
        rows = conn.execute(_ACTIVE_JOBS, {"library_id": request.library_id}).mappings()
        active = [job_from_row(row) for row in rows]
        picked = scheduler.pick_claims(
            active, now_ms=request.now_ms, concurrency=request.concurrency, still_running=request.still_running
        )
        claims: list[Job] = []
        for job, token in zip(picked, request.tokens, strict=False):
            claimed = scheduler.claimed(job, now_ms=request.now_ms, token=token, lease_ms=request.lease_ms)
            if self._compare_and_set(conn, job, claimed):
                self._sync_item(conn, claimed)
                claims.append(claimed)
        return claims

    # ---- a running job -----------------------------------------------------------------------

    def renew_lease(self, job_id: str, token: str, *, until_ms: int) -> bool:
        """Extend a running job's lease; False when the claim is gone (cancelled, or taken over)."""
        return self._update_claimed(job_id, token, lease_until_ms=until_ms)

    def set_remote_id(self, job_id: str, token: str, remote_id: str) -> bool:
        """Persist a provider job id the moment it is issued; False when the claim is gone."""
        return self._update_claimed(job_id, token, remote_id=remote_id)

    def report_progress(self, job_id: str, token: str, *, progress: int, message: str, now_ms: int) -> bool:
        """Record a running job's progress; False when the claim is gone."""
        return self._update_claimed(
            job_id, token, progress=max(0, min(progress, 99)), message=message[:200], updated_ms=now_ms
        )

    def _update_claimed(self, job_id: str, token: str, **values: object) -> bool:
        """Write to a job only while the claim `token` still holds it."""
        with self._write() as conn:
            result = conn.execute(_UPDATE_CLAIMED, {"claimed_id": job_id, "claimed_token": token, **values})
            return result.rowcount == 1

    # ---- settling ----------------------------------------------------------------------------

    def complete(
        self,
        job_id: str,
        token: str,
        *,
        now_ms: int,
        result: str = "",
        url: str = "",
        note: str = "",
        more_urls: Mapping[str, str] | None = None,
    ) -> Job | None:
        """Settle a running job as completed and write its result into the item (one transaction).
        `more_urls` are the URLs of files stored with the result (a cutout's preview).

        Returns:
            The completed job, or None when the claim is gone (the result must then be discarded).
        """
        with self._write() as conn:
            job = self._claimed_job(conn, job_id, token)
            if job is None:
                return None
            done = scheduler.succeeded(job, now_ms=now_ms, note=note)
            if not self._compare_and_set(conn, job, done):
                return None
            self._sync_item(conn, done, result=result, url=url, note=note, more_urls=more_urls)
            return done

    def fail(
        self,
        job_id: str,
        token: str,
        *,
        error: str,
        retryable: bool,
        now_ms: int,
        max_attempts: int,
        backoff_base_ms: int,
    ) -> Job | None:
        """Settle a running job's failed attempt: back-off and retry, or failed for good.

        Returns:
            The settled job, or None when the claim is gone.
        """
        with self._write() as conn:
            job = self._claimed_job(conn, job_id, token)
            if job is None:
                return None
            settled = scheduler.failed(
                job,
                error=error,
                retryable=retryable,
                now_ms=now_ms,
                rng=self._rng,
                max_attempts=max_attempts,
                backoff_base_ms=backoff_base_ms,
            )
            if not self._compare_and_set(conn, job, settled):
                return None
            self._sync_item(conn, settled)
            return settled

    @staticmethod
    def _claimed_job(conn: sa.Connection, job_id: str, token: str) -> Job | None:
        row = conn.execute(_CLAIMED_JOB, {"claimed_id": job_id, "claimed_token": token}).mappings().first()
        return job_from_row(row) if row else None

    # ---- recovery and cleanup ----------------------------------------------------------------

    def expire_leases(
        self, *, now_ms: int, max_attempts: int, library_id: str | None = None, keep: Collection[str] = ()
    ) -> list[Job]:
        """Return processing jobs whose runner stopped renewing them (a restart) to the queue; the jobs in
        `keep` are the caller's own running jobs, which it renews itself, and are never expired by it.

        Returns:
            The recovered jobs (pending again, or failed when out of attempts).
        """
        recovered = []
        with self._write() as conn:
            query = sa.select(jobs).where(jobs.c.status == JobStatus.PROCESSING.value, jobs.c.lease_until_ms < now_ms)
            if library_id is not None:
                query = query.where(jobs.c.library_id == library_id)
            if keep:
                query = query.where(jobs.c.id.not_in(list(keep)))
            for row in conn.execute(query.order_by(jobs.c.id)).mappings().all():
                job = job_from_row(row)
                back = scheduler.recovered(job, now_ms=now_ms, max_attempts=max_attempts)
                if self._compare_and_set(conn, job, back):
                    self._sync_item(conn, back)
                    recovered.append(back)
        return recovered

    def cleanup(self, *, now_ms: int, ttl_ms: int) -> int:
        """Delete settled jobs older than the time to live (items are never removed).

        Returns:
            How many jobs were removed.
        """
        with self._write() as conn:
            result = conn.execute(
                sa.delete(jobs).where(jobs.c.status.in_(TERMINAL), jobs.c.updated_ms < now_ms - ttl_ms)
            )
            return result.rowcount


# Built once (see `store_base`): the statements of every queue transition and of the drain's look at its queue.
_ACTIVE_JOBS = sa.select(jobs).where(jobs.c.library_id == sa.bindparam("library_id"), jobs.c.status.in_(ACTIVE))
_ACTIVE_COUNT = sa.select(sa.func.count()).where(
    jobs.c.library_id == sa.bindparam("library_id"), jobs.c.status.in_(ACTIVE)
)
_NEXT_DUE = sa.select(sa.func.min(jobs.c.not_before_ms)).where(
    jobs.c.library_id == sa.bindparam("library_id"),
    jobs.c.status == JobStatus.PENDING.value,
    jobs.c.not_before_ms > sa.bindparam("now_ms"),
)
_IS_CLAIMED = sa.and_(
    jobs.c.id == sa.bindparam("claimed_id"),
    jobs.c.lease_token == sa.bindparam("claimed_token"),
    jobs.c.status == JobStatus.PROCESSING.value,
)
_CLAIMED_JOB = sa.select(jobs).where(_IS_CLAIMED)
_UPDATE_CLAIMED = sa.update(jobs).where(_IS_CLAIMED)  # the other parameters are the columns to set
