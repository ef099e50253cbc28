"""The queue's rules as pure functions: which job runs next, and what a claim, a success, a failure,
an expired lease, a cancel or a retry does to a job. The store applies these decisions atomically.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Collection, Iterable

from home_editor.core.models import TERMINAL_STATUSES, Job, JobStatus

MAX_ATTEMPTS = 3
BACKOFF_BASE_MS = 2_000
BACKOFF_CAP_MS = 60_000
INTERRUPTED_ERROR = "The server stopped while this job was running."


def claim_order(job: Job) -> tuple[int, int, str]:
    """Sort key: higher priority first, then oldest first (id breaks ties so the order is total)."""
    return (-job.priority, job.created_ms, job.id)


def is_due(job: Job, now_ms: int) -> bool:
    """Whether a pending job may start now (its retry back-off, if any, is over)."""
    return job.status is JobStatus.PENDING and job.not_before_ms <= now_ms


def pick_claims(
    jobs: Iterable[Job], *, now_ms: int, concurrency: int, still_running: Collection[str] = ()
) -> list[Job]:
    """The jobs to start now: due pending jobs in claim order, up to the free slots.

    Args:
        jobs: All jobs of one library.
        now_ms: The current time.
        concurrency: How many jobs of the library may run at once.
        still_running: Ids of jobs the claiming runner still executes (their claim was taken away and
            they have not stopped yet): never claimed again until they have, and they hold their slot.

    Returns:
        The jobs to claim, best first (not yet changed).
    """
    jobs = list(jobs)
    running = sum(job.status is JobStatus.PROCESSING or job.id in still_running for job in jobs)
    free = max(concurrency - running, 0)
    due = sorted((job for job in jobs if is_due(job, now_ms) and job.id not in still_running), key=claim_order)
    return due[:free]


def claimed(job: Job, *, now_ms: int, token: str, lease_ms: int) -> Job:
    """A pending job turned processing under a new lease; the claim counts as an attempt."""
    return dataclasses.replace(
        job,
        status=JobStatus.PROCESSING,
        attempts=job.attempts + 1,
        progress=0,
        message="Starting…",
        lease_token=token,
        lease_until_ms=now_ms + lease_ms,
        started_ms=now_ms,
        updated_ms=now_ms,
    )


def succeeded(job: Job, *, now_ms: int, note: str = "") -> Job:
    """A processing job that produced its result."""
    return dataclasses.replace(
        job,
        status=JobStatus.COMPLETED,
        progress=100,
        message=note or "Done",
        error="",
        lease_token="",
        lease_until_ms=0,
        updated_ms=now_ms,
    )


def backoff_ms(attempts: int, rng: random.Random, *, base_ms: int = BACKOFF_BASE_MS) -> int:
    """Delay before the next attempt: exponential in the attempts made, with jitter in [50 %, 100 %].

    Args:
        attempts: Attempts made so far (1 after the first failure).
        rng: Source of jitter (seeded in tests).
        base_ms: The ceiling after the first failure; it doubles with each further one (capped).

    Returns:
        Milliseconds to wait.
    """
    ceiling = min(base_ms * 2 ** max(attempts - 1, 0), BACKOFF_CAP_MS)
    return int(ceiling * (0.5 + 0.5 * rng.random()))


def will_retry(job: Job, *, retryable: bool, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Whether a failed attempt of this claimed job is followed by another (else it fails for good)."""
    return retryable and job.attempts < max_attempts


def failed(
    job: Job,
    *,
    error: str,
    retryable: bool,
    now_ms: int,
    rng: random.Random,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_ms: int = BACKOFF_BASE_MS,
) -> Job:
    """A job whose attempt failed: back to pending after a back-off while attempts remain and the error
    is retryable, otherwise failed for good. The error text is kept either way.
    """
    common = {"error": error, "progress": 0, "lease_token": "", "lease_until_ms": 0, "updated_ms": now_ms}
    if will_retry(job, retryable=retryable, max_attempts=max_attempts):
        delay = backoff_ms(job.attempts, rng, base_ms=backoff_base_ms)
        when = f"in {delay / 1000:.0f} s" if delay >= 1000 else "now"
        message = f"Attempt {job.attempts} of {max_attempts} failed; retrying {when}"
        return dataclasses.replace(
            job, status=JobStatus.PENDING, not_before_ms=now_ms + delay, message=message, **common
        )
    return dataclasses.replace(job, status=JobStatus.FAILED, message="Failed", **common)


def lease_expired(job: Job, now_ms: int) -> bool:
    """Whether a processing job's runner has stopped renewing its claim (e.g. the server restarted)."""
    return job.status is JobStatus.PROCESSING and job.lease_until_ms < now_ms


def recovered(job: Job, *, now_ms: int, max_attempts: int = MAX_ATTEMPTS) -> Job:
    """A processing job whose lease expired, queued again at once (the lease time already delayed it).

    Local work was lost with its runner: that attempt counts (the job fails if it was the last). Remote
    work goes on at the provider: the attempt is given back and the next claim re-attaches to it.
    """
    if job.remote_id:
        return dataclasses.replace(
            job,
            status=JobStatus.PENDING,
            attempts=max(job.attempts - 1, 0),
            message="Re-attaching to the running remote job…",
            lease_token="",
            lease_until_ms=0,
            not_before_ms=now_ms,
            updated_ms=now_ms,
        )
    return failed(
        job,
        error=INTERRUPTED_ERROR,
        retryable=True,
        now_ms=now_ms,
        rng=random.Random(0),
        max_attempts=max_attempts,
        backoff_base_ms=0,
    )


def cancelled(job: Job, *, now_ms: int) -> Job | None:
    """A pending or processing job cancelled by the user; None when the job is already settled."""
    if job.status in TERMINAL_STATUSES:
        return None
    return dataclasses.replace(
        job,
        status=JobStatus.CANCELLED,
        message="Cancelled",
        progress=0,
        lease_token="",
        lease_until_ms=0,
        updated_ms=now_ms,
    )


def retried(job: Job, *, now_ms: int) -> Job | None:
    """A failed or cancelled job queued again by the user with a fresh set of attempts; None otherwise."""
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    return dataclasses.replace(
        job,
        status=JobStatus.PENDING,
        attempts=0,
        progress=0,
        message="Queued",
        error="",
        not_before_ms=0,
        remote_id="",
        updated_ms=now_ms,
    )


def is_expired(job: Job, *, now_ms: int, ttl_ms: int) -> bool:
    """Whether cleanup removes the job: settled and untouched for longer than the time to live."""
    return job.status in TERMINAL_STATUSES and job.updated_ms < now_ms - ttl_ms
