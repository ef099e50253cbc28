"""The queue's pure rules: claims, settling, back-off, lease expiry, user actions and cleanup."""

from __future__ import annotations

import random

import pytest

from home_editor.core import scheduler
from home_editor.core.models import JobStatus, Priority
from tests.factories import codes, job

NOW = 1_000_000


def claim_all(statuses: str, *, concurrency: int = 2) -> str:
    jobs = [job(code, created_ms=index) for index, code in enumerate(statuses)]
    picked = {j.id for j in scheduler.pick_claims(jobs, now_ms=NOW, concurrency=concurrency)}
    after = [scheduler.claimed(j, now_ms=NOW, token="t", lease_ms=10) if j.id in picked else j for j in jobs]
    return codes(after)


@pytest.mark.parametrize(
    ("before", "after"),
    [("PPP", "RRP"), ("RPP", "RRP"), ("RRP", "RRP"), ("FP", "FR"), ("CXFP", "CXFR"), ("", ""), ("RRR", "RRR")],
)
def test_claims_keep_at_most_two_running(before: str, after: str) -> None:
    assert claim_all(before) == after


def test_concurrency_setting_is_the_limit() -> None:
    assert claim_all("PPPPP", concurrency=3) == "RRRPP"
    assert claim_all("PPPPP", concurrency=1) == "RPPPP"


def test_oldest_first_within_a_priority_and_higher_priority_first() -> None:
    old = job("P", created_ms=1)
    new = job("P", created_ms=2)
    urgent = job("P", created_ms=3, priority=Priority.USER)
    batch = job("P", created_ms=0, priority=Priority.BATCH)
    picked = scheduler.pick_claims([batch, new, urgent, old], now_ms=NOW, concurrency=4)
    assert [j.id for j in picked] == [urgent.id, old.id, new.id, batch.id]


def test_a_held_back_job_is_not_claimed_until_due() -> None:
    held = job("P", not_before_ms=NOW + 1)
    assert scheduler.pick_claims([held], now_ms=NOW, concurrency=2) == []
    assert scheduler.pick_claims([held], now_ms=NOW + 1, concurrency=2) == [held]


def test_a_claim_counts_an_attempt_and_takes_a_lease() -> None:
    claimed = scheduler.claimed(job("P", attempts=1), now_ms=NOW, token="abc", lease_ms=15_000)
    assert (claimed.status, claimed.attempts, claimed.lease_token, claimed.lease_until_ms) == (
        JobStatus.PROCESSING,
        2,
        "abc",
        NOW + 15_000,
    )


def test_success_completes_and_releases_the_lease() -> None:
    done = scheduler.succeeded(job("R", lease_token="abc", progress=40), now_ms=NOW, note="low confidence")
    assert (done.status, done.progress, done.lease_token, done.message) == (
        JobStatus.COMPLETED,
        100,
        "",
        "low confidence",
    )


@pytest.mark.parametrize(
    ("attempts", "retryable", "status"),
    [
        (1, True, JobStatus.PENDING),
        (2, True, JobStatus.PENDING),
        (3, True, JobStatus.FAILED),
        (1, False, JobStatus.FAILED),
    ],
)
def test_failures_retry_transient_errors_up_to_three_attempts(
    attempts: int, retryable: bool, status: JobStatus
) -> None:
    settled = scheduler.failed(
        job("R", attempts=attempts), error="boom", retryable=retryable, now_ms=NOW, rng=random.Random(1)
    )
    assert settled.status is status
    assert settled.error == "boom"
    assert settled.lease_token == ""
    if status is JobStatus.PENDING:
        assert settled.not_before_ms > NOW  # a back-off, never an immediate re-run


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 10])
def test_backoff_is_exponential_with_jitter_and_capped(attempts: int) -> None:
    ceiling = min(2_000 * 2 ** (attempts - 1), scheduler.BACKOFF_CAP_MS)
    delays = {scheduler.backoff_ms(attempts, random.Random(seed)) for seed in range(50)}
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(delays) > 10  # jittered: two clients that failed together do not retry together


def test_backoff_grows_with_attempts() -> None:
    first = scheduler.backoff_ms(1, random.Random(3))
    third = scheduler.backoff_ms(3, random.Random(3))
    assert third == pytest.approx(4 * first, abs=4)  # same jitter draw, four times the ceiling


def test_expired_lease_sends_the_job_back_to_pending_at_once() -> None:
    stuck = job("R", attempts=1, lease_token="old", lease_until_ms=NOW - 1)
    assert scheduler.lease_expired(stuck, NOW)
    assert not scheduler.lease_expired(job("R", lease_until_ms=NOW + 1), NOW)
    back = scheduler.recovered(stuck, now_ms=NOW)
    assert (back.status, back.lease_token, back.not_before_ms, back.error) == (
        JobStatus.PENDING,
        "",
        NOW,
        scheduler.INTERRUPTED_ERROR,
    )


def test_expired_lease_on_the_last_attempt_fails_the_job() -> None:
    back = scheduler.recovered(job("R", attempts=3, lease_until_ms=0), now_ms=NOW)
    assert back.status is JobStatus.FAILED


@pytest.mark.parametrize(
    ("before", "cancellable"), [("P", True), ("R", True), ("C", False), ("F", False), ("X", False)]
)
def test_cancel_only_stops_active_jobs(before: str, cancellable: bool) -> None:
    after = scheduler.cancelled(job(before, lease_token="t"), now_ms=NOW)
    assert (after is not None) is cancellable
    if after is not None:
        assert (after.status, after.lease_token) == (JobStatus.CANCELLED, "")


@pytest.mark.parametrize(("before", "retryable"), [("F", True), ("X", True), ("P", False), ("R", False), ("C", False)])
def test_retry_requeues_failed_or_cancelled_with_fresh_attempts(before: str, retryable: bool) -> None:
    after = scheduler.retried(job(before, attempts=3, error="bad", not_before_ms=NOW + 5), now_ms=NOW)
    assert (after is not None) is retryable
    if after is not None:
        assert (after.status, after.attempts, after.error, after.not_before_ms) == (JobStatus.PENDING, 0, "", 0)


DAY = 24 * 3_600_000


@pytest.mark.parametrize(
    ("status", "age", "expired"),
    [
        ("C", DAY + 1, True),
        ("F", DAY + 1, True),
        ("X", DAY + 1, True),
        ("C", DAY - 1, False),
        ("P", 10 * DAY, False),
        ("R", 10 * DAY, False),
    ],
)
def test_cleanup_removes_only_old_settled_jobs(status: str, age: int, expired: bool) -> None:
    old = job(status, updated_ms=NOW + 10 * DAY - age)
    assert scheduler.is_expired(old, now_ms=NOW + 10 * DAY, ttl_ms=DAY) is expired


def test_an_expired_lease_of_a_remote_job_gives_the_attempt_back_and_keeps_the_remote_id() -> None:
    stuck = job("R", attempts=3, remote_id="abc", lease_until_ms=NOW - 1)
    back = scheduler.recovered(stuck, now_ms=NOW)
    assert (back.status, back.attempts, back.remote_id) == (JobStatus.PENDING, 2, "abc")
    again = scheduler.claimed(back, now_ms=NOW, token="t", lease_ms=10)
    assert again.attempts == 3  # re-attaching costs nothing


def test_a_user_retry_forgets_the_remote_job() -> None:
    assert scheduler.retried(job("F", remote_id="abc"), now_ms=NOW).remote_id == ""
