"""The Trellis processor against the stub: submit once and persist the id at once, follow the
progress, re-attach instead of resubmitting, clean up upstream, and classify every failure."""

from __future__ import annotations

import asyncio
import itertools
import math

import httpx
import pytest

from home_editor.core.errors import PermanentError, TransientError
from home_editor.processing.base import JobContext
from home_editor.processing.trellis_client import RemoteJobGone, TrellisAuthError, TrellisClient
from home_editor.processing.trellis_processor import RemoteDeadlineError, TrellisProcessor
from tests.images import photo_bytes
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub


class Recorder:
    """A job context that records what the processor reports and persists."""

    def __init__(self, remote_id: str = "") -> None:
        self.progress: list[tuple[int, str]] = []
        self.remembered: list[str] = []
        self.loads = 0
        self.context = JobContext(
            report=self.report, load_image=self.load, remote_id=remote_id, remember_remote_id=self.remember
        )

    async def report(self, progress: int, message: str) -> None:
        self.progress.append((progress, message))

    async def load(self) -> bytes:
        self.loads += 1
        return photo_bytes()

    async def remember(self, remote_id: str) -> None:
        self.remembered.append(remote_id)


def processor(http: httpx.AsyncClient, stub: TrellisStub, key: str = "test-trellis-key") -> TrellisProcessor:
    """A processor polling every 0.1 s, so tests of everything but the pacing run fast."""
    return TrellisProcessor(TrellisClient(http, base_url=stub.url, key=key), poll_floor=0.1)


async def test_a_cutout_is_submitted_once_followed_and_handed_back_with_its_remote_record_kept(http) -> None:
    stub = TrellisStub(step_seconds=1.2).start()
    try:
        job = Recorder()
        real_pacing = TrellisProcessor(TrellisClient(http, base_url=stub.url, key="test-trellis-key"))
        cutout = await real_pacing.remove_background(job.context)
    finally:
        stub.stop()
    assert len(stub.submissions()) == 1
    remote_id = job.remembered[0]
    assert cutout.png.startswith(b"\x89PNG") and job.loads == 1
    assert remote_id and len(job.remembered) == 1  # persisted the moment it was issued
    assert stub.calls("DELETE", r".*") == [] and remote_id in stub.jobs  # deleted only once the result is stored
    assert (20, "Processing image...") in job.progress  # the stage reaches the card
    polls = [request.at for request in stub.status_calls()]
    assert len(polls) >= 2 and min(b - a for a, b in itertools.pairwise(polls)) >= 1.9


async def test_an_existing_remote_id_is_re_attached_never_resubmitted(http, trellis: TrellisStub) -> None:
    client = TrellisClient(http, base_url=trellis.url, key="test-trellis-key")
    remote_id = await client.submit_rembg(photo_bytes(), "photo")  # an earlier attempt's submission
    resumed = Recorder(remote_id=remote_id)
    cutout = await processor(http, trellis).remove_background(resumed.context)
    assert cutout.png == trellis.jobs[remote_id].result  # that remote job's own result
    assert len(trellis.submissions()) == 1 and resumed.loads == 0 and resumed.remembered == []  # nothing sent again
    followed = {request.path for request in trellis.calls("GET", r"/api/v1/jobs/.*")}
    assert followed == {f"/api/v1/jobs/{remote_id}", f"/api/v1/jobs/{remote_id}/result"}


async def test_a_vanished_remote_job_is_forgotten_so_the_next_attempt_resubmits(http, trellis: TrellisStub) -> None:
    job = Recorder(remote_id="22222222-2222-2222-2222-222222222222")
    with pytest.raises(RemoteJobGone) as caught:
        await processor(http, trellis).remove_background(job.context)
    assert caught.value.retryable and job.remembered == [""]
    assert trellis.submissions() == []


async def test_a_result_that_is_gone_is_dropped_and_forgotten_so_the_next_attempt_resubmits(
    http, trellis: TrellisStub
) -> None:
    trellis.next_outcomes.append("lost_result")  # completed, but 404 "Result file not found"
    job = Recorder()
    with pytest.raises(RemoteJobGone) as caught:
        await processor(http, trellis).remove_background(job.context)
    [remote_id, forgotten] = job.remembered
    assert caught.value.retryable and forgotten == ""  # the next attempt submits again, never re-fetches
    assert len(trellis.calls("GET", f"/api/v1/jobs/{remote_id}/result")) == 1
    assert trellis.calls("DELETE", f"/api/v1/jobs/{remote_id}") and trellis.jobs == {}


async def test_a_failed_remote_job_is_permanent_with_a_short_reason(http, trellis: TrellisStub) -> None:
    trellis.next_outcomes.append("failed")
    job = Recorder()
    with pytest.raises(PermanentError, match=r"CUDA out of memory$"):
        await processor(http, trellis).remove_background(job.context)
    assert trellis.calls("DELETE", r".*") == [] and job.remembered[0] in trellis.jobs  # deleted once recorded failed


async def test_a_result_that_is_not_a_png_is_transient(http, trellis: TrellisStub) -> None:
    trellis.next_results.append(b"<html>oops</html>")
    with pytest.raises(TransientError, match="not a PNG"):
        await processor(http, trellis).remove_background(Recorder().context)


async def test_a_wrong_key_fails_at_once(http, trellis: TrellisStub) -> None:
    with pytest.raises(TrellisAuthError, match=r"rejected the key \(401\)"):
        await processor(http, trellis, key="bad").remove_background(Recorder().context)


async def test_a_stopped_task_leaves_the_remote_job_running_for_the_next_runner(http) -> None:
    stub = TrellisStub(step_seconds=5).start()
    try:
        job = Recorder()
        task = asyncio.create_task(processor(http, stub).remove_background(job.context))
        async with asyncio.timeout(30):  # until the remote id is kept, bounded
            while not job.remembered:
                await asyncio.sleep(0.01)
        task.cancel()  # a shutdown looks just like this
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stub.calls("DELETE", r".*") == [] and job.remembered[0] in stub.jobs
        await processor(http, stub).cancel_remote(job.remembered[0])  # the user's cancel does delete
        assert stub.jobs == {}
    finally:
        stub.stop()


async def test_a_job_cancelled_before_its_remote_id_was_kept_is_deleted_upstream(http, trellis: TrellisStub) -> None:
    async def claim_gone(remote_id: str) -> None:
        raise asyncio.CancelledError

    context = Recorder().context
    context = context.__class__(report=context.report, load_image=context.load_image, remember_remote_id=claim_gone)
    with pytest.raises(asyncio.CancelledError):
        await processor(http, trellis).remove_background(context)
    assert len(trellis.submissions()) == 1 and trellis.jobs == {}


async def test_brief_status_errors_are_ridden_out(http, trellis: TrellisStub) -> None:
    trellis.inject(Fault("GET", r"/api/v1/jobs/[0-9a-f-]{36}", status=502, times=2))
    cutout = await processor(http, trellis).remove_background(Recorder().context)
    assert cutout.png.startswith(b"\x89PNG") and len(trellis.submissions()) == 1


class SteppedTime:
    """An injected monotonic clock that only moves when the code under test sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert math.isfinite(seconds) and seconds >= 0
        self.now += seconds
        await asyncio.sleep(0)


def stepped_processor(http: httpx.AsyncClient, stub: TrellisStub, stepped: SteppedTime) -> TrellisProcessor:
    return TrellisProcessor(
        TrellisClient(http, base_url=stub.url, key="test-trellis-key", sleep=stepped.sleep),
        status_calls_per_minute=60_000,  # the key's budget is not what this tests
        cutout_deadline_seconds=60,
        model_deadline_seconds=180,
        clock=stepped.clock,
        sleep=stepped.sleep,
    )


@pytest.mark.parametrize(("kind", "minutes"), [("cutout", 1), ("model", 3)])
async def test_a_remote_job_that_never_finishes_gives_up_at_its_deadline(
    http, trellis: TrellisStub, kind: str, minutes: int
) -> None:
    trellis.queue_seconds = 10**6  # queued upstream for ever
    stepped = SteppedTime()
    job = Recorder()
    work = stepped_processor(http, trellis, stepped)
    run = work.remove_background if kind == "cutout" else work.generate_model
    started = stepped.now
    with pytest.raises(RemoteDeadlineError, match=f"^The Trellis API did not finish within {minutes} min.$") as caught:
        await asyncio.wait_for(run(job.context), 30)  # bounded: without a deadline this would poll for ever
    assert caught.value.retryable  # it fails the attempt (counted); the next one submits again
    assert stepped.now - started == minutes * 60  # one last status call exactly at the deadline, never past it
    [remote_id, forgotten] = job.remembered
    assert forgotten == "" and trellis.calls("DELETE", f"/api/v1/jobs/{remote_id}") and trellis.jobs == {}


@pytest.mark.parametrize("header", ["nan", "inf", "-1", "1e400", "99999999999"])
async def test_an_absurd_retry_after_while_following_cannot_stall_the_job(
    http, trellis: TrellisStub, header: str
) -> None:
    trellis.inject(Fault("GET", r"/api/v1/jobs/[0-9a-f-]{36}", status=429, retry_after=header, times=1000))
    stepped = SteppedTime()
    job = Recorder()
    with pytest.raises(TransientError):  # the 429s end the attempt (or the deadline does); nothing hangs
        await asyncio.wait_for(stepped_processor(http, trellis, stepped).remove_background(job.context), 30)
    assert stepped.now - 1000.0 <= 60 + 180  # within the deadline plus one call's bounded 429 wait
