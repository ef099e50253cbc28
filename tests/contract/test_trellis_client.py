"""The Trellis client against the contract stub: exact method, path, query, headers and body, and the
mapping of every error class."""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import pytest

from home_editor.core.errors import PermanentError, TransientError
from home_editor.processing.trellis_client import RemoteJobGone, TrellisAuthError, TrellisClient, short_reason
from tests.images import photo_bytes
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub, multipart_field_names

KEY = "test-trellis-key"


def client(http: httpx.AsyncClient, stub: TrellisStub, key: str = KEY) -> TrellisClient:
    return TrellisClient(http, base_url=stub.url + "/", key=key)


async def follow(api: TrellisClient, job_id: str):
    while not (status := await api.status(job_id)).finished:
        await asyncio.sleep(0.02)
    return status


async def test_submit_uses_the_slashed_path_query_scalars_and_a_files_part(http, trellis: TrellisStub) -> None:
    job_id = await client(http, trellis).submit_rembg(photo_bytes(), "photo", model="isnet-general-use")
    [request] = trellis.calls("POST", "/api/v1/rembg/async/")
    assert request.query == {"model": "isnet-general-use", "alpha_matting": "false"}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert multipart_field_names(request) == ["files"]  # scalars never go as form fields
    assert trellis.calls("POST", "/api/v1/rembg/async") == []  # no 307 round trip
    assert job_id in trellis.jobs


async def test_a_3d_submission_sends_the_seed_as_a_query_parameter(http, trellis: TrellisStub) -> None:
    await client(http, trellis).submit_trellis(photo_bytes(), "cutout", seed=7)
    [request] = trellis.calls("POST", "/api/v1/trellis/async/")
    assert request.query == {"seed": "7"} and multipart_field_names(request) == ["files"]


async def test_a_job_is_followed_to_its_relative_download_url_and_result(http, trellis: TrellisStub) -> None:
    api = client(http, trellis)
    job_id = await api.submit_rembg(photo_bytes(), "photo")
    seen = set()
    while not (status := await api.status(job_id)).finished:
        seen.add((status.status, status.progress, status.message))
        await asyncio.sleep(0.01)
    assert ("processing", 20, "Processing image...") in seen
    assert status.status == "completed" and status.download_url == f"/api/v1/jobs/{job_id}/result"
    png = await api.result(status.download_url)
    assert png.startswith(b"\x89PNG")
    [fetch] = trellis.calls("GET", f"/api/v1/jobs/{job_id}/result")
    assert fetch.headers["authorization"] == f"Bearer {KEY}"


async def test_delete_removes_the_remote_job(http, trellis: TrellisStub) -> None:
    api = client(http, trellis)
    job_id = await api.submit_rembg(photo_bytes(), "photo")
    await api.delete(job_id)
    assert trellis.calls("DELETE", f"/api/v1/jobs/{job_id}")[0].status == 200
    with pytest.raises(RemoteJobGone):
        await api.status(job_id)
    await api.delete(job_id)  # a second delete (404) is not an error


@pytest.mark.parametrize(("key", "text"), [("wrong-key", "rejected the key (401)")])
async def test_a_wrong_key_is_a_permanent_auth_error(http, trellis: TrellisStub, key: str, text: str) -> None:
    with pytest.raises(TrellisAuthError, match=r"rejected the key \(401\)") as caught:
        await client(http, trellis, key).submit_rembg(photo_bytes(), "photo")
    assert not caught.value.retryable and key not in str(caught.value)


async def test_an_older_api_answering_403_is_the_same_auth_error(http) -> None:
    stub = TrellisStub(old_fastapi=True, keys=("k",)).start()
    try:
        async with httpx.AsyncClient() as raw:
            response = await raw.post(stub.url + "/api/v1/rembg/async/", files={"files": b"x"})
        assert response.status_code == 403 and response.json() == {"detail": "Not authenticated"}
        stub.inject(Fault("GET", r"/api/v1/jobs/.*", status=403))
        with pytest.raises(TrellisAuthError, match=r"\(403\)"):
            await TrellisClient(http, base_url=stub.url, key="k").status("00000000-0000-0000-0000-000000000000")
    finally:
        stub.stop()


def test_an_empty_key_is_refused_before_any_call() -> None:
    with pytest.raises(PermanentError):
        TrellisClient(httpx.AsyncClient(), base_url="http://x", key="")


async def test_the_stub_answers_both_documented_401_bodies(trellis: TrellisStub) -> None:
    async with httpx.AsyncClient() as raw:
        missing = await raw.post(trellis.url + "/api/v1/rembg/async/", files={"files": b"x"})
        wrong = await raw.post(
            trellis.url + "/api/v1/rembg/async/", files={"files": b"x"}, headers={"Authorization": "Bearer nope"}
        )
        unslashed = await raw.post(trellis.url + "/api/v1/rembg/async", headers={"Authorization": f"Bearer {KEY}"})
    assert (missing.status_code, missing.json()) == (401, {"detail": "Not authenticated"})
    assert missing.headers["www-authenticate"] == "Bearer"
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid API key"})
    assert (unslashed.status_code, unslashed.headers["location"]) == (307, "/api/v1/rembg/async/")


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_refused_requests_are_permanent_with_the_reason(http, trellis: TrellisStub, status: int) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=status))
    with pytest.raises(PermanentError, match=f"refused the request \\({status}\\): injected {status}"):
        await client(http, trellis).submit_rembg(photo_bytes(), "photo")


async def test_404_on_submit_is_permanent_but_404_on_a_job_means_gone(http, trellis: TrellisStub) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=404))
    with pytest.raises(PermanentError) as caught:
        await client(http, trellis).submit_rembg(photo_bytes(), "photo")
    assert not isinstance(caught.value, RemoteJobGone)
    unknown = "11111111-1111-1111-1111-111111111111"
    with pytest.raises(RemoteJobGone, match="no longer exists") as gone:
        await client(http, trellis).status(unknown)
    with pytest.raises(RemoteJobGone, match="no longer has the job's result"):
        await client(http, trellis).result(f"/api/v1/jobs/{unknown}/result")
    assert gone.value.retryable and not isinstance(gone.value, TransientError)  # a new attempt, never a re-poll
    await client(http, trellis).delete(unknown)  # already gone is what a DELETE wants: no error


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_transient(http, trellis: TrellisStub, status: int) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=status))
    with pytest.raises(TransientError, match=f"\\({status}\\)") as caught:
        await client(http, trellis).submit_rembg(photo_bytes(), "photo")
    assert caught.value.retryable


async def test_429_is_waited_out_honouring_retry_after(http, trellis: TrellisStub) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=429, retry_after="1", times=2))
    started = time.monotonic()
    job_id = await client(http, trellis).submit_rembg(photo_bytes(), "photo")
    assert time.monotonic() - started >= 2.0
    assert job_id and len(trellis.calls("POST", "/api/v1/rembg/async/")) == 3


async def test_endless_429_ends_as_a_transient_error(http, trellis: TrellisStub) -> None:
    trellis.inject(Fault("GET", r"/api/v1/jobs/.*", status=429, retry_after="1", times=10))
    patient_but_not_forever = TrellisClient(http, base_url=trellis.url, key=KEY, max_rate_limit_wait=1.5)
    with pytest.raises(TransientError, match="429"):
        await patient_but_not_forever.status("11111111-1111-1111-1111-111111111111")


class RecordedSleeps(list):
    """An injected `sleep` that records each wait instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


ABSURD_RETRY_AFTER = ["nan", "inf", "-inf", "-5", "1e9", "2.5", "999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "x" * 200]


@pytest.mark.parametrize("header", ABSURD_RETRY_AFTER)
async def test_an_absurd_retry_after_becomes_a_finite_bounded_wait(http, trellis: TrellisStub, header: str) -> None:
    trellis.inject(Fault("GET", r"/api/v1/jobs/.*", status=429, retry_after=header))
    trellis.queue_seconds = 600
    sleeps = RecordedSleeps()
    api = TrellisClient(http, base_url=trellis.url, key=KEY, sleep=sleeps)
    job_id = await api.submit_rembg(photo_bytes(), "photo")
    assert (await api.status(job_id)).status == "pending"  # the 429 was waited out, then the call went through
    [wait] = sleeps
    assert math.isfinite(wait) and 0 <= wait <= 60


async def test_retry_after_zero_for_ever_ends_as_a_transient_error(http, trellis: TrellisStub) -> None:
    trellis.inject(Fault("GET", r"/api/v1/jobs/.*", status=429, retry_after="0", times=1000))
    sleeps = RecordedSleeps()
    api = TrellisClient(http, base_url=trellis.url, key=KEY, sleep=sleeps)
    with pytest.raises(TransientError, match="429"):
        await api.status("11111111-1111-1111-1111-111111111111")
    assert len(sleeps) < 20 and len(trellis.status_calls()) == len(sleeps) + 1


@pytest.mark.parametrize("progress", [float("nan"), float("inf"), -7, 1e300, "50", None, True])
async def test_an_odd_progress_value_reads_as_a_percentage(http, trellis: TrellisStub, progress: object) -> None:
    trellis.status_extra = {"progress": progress}  # JSON's NaN and Infinity are what Python's json reads too
    trellis.queue_seconds = 600
    api = client(http, trellis)
    status = await api.status(await api.submit_rembg(photo_bytes(), "photo"))
    assert status.status == "pending" and 0 <= status.progress <= 100


@pytest.mark.parametrize(
    "location",
    ["/api/v1/jobs/../../admin/result", "/api/v1/jobs/x/result?y=1", "https://elsewhere/api/v1/jobs/x/result"],
)
async def test_a_result_location_other_than_the_contracts_is_refused(http, trellis: TrellisStub, location: str) -> None:
    with pytest.raises(TransientError, match="unexpected result location"):
        await client(http, trellis).result(location)
    assert trellis.requests == []


async def test_timeouts_dropped_connections_and_garbage_are_transient(http, trellis: TrellisStub) -> None:
    api = TrellisClient(http, base_url=trellis.url, key=KEY, timeout=httpx.Timeout(0.5))
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", hang_seconds=2))
    with pytest.raises(TransientError, match="in time"):
        await api.submit_rembg(photo_bytes(), "photo")
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", drop=True))
    with pytest.raises(TransientError, match="reach"):
        await api.submit_rembg(photo_bytes(), "photo")
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", malformed=True))
    with pytest.raises(TransientError, match="unreadable"):
        await api.submit_rembg(photo_bytes(), "photo")


async def test_a_failed_remote_job_reports_its_error_without_the_traceback(http, trellis: TrellisStub) -> None:
    trellis.next_outcomes.append("failed")
    api = client(http, trellis)
    status = await follow(api, await api.submit_rembg(photo_bytes(), "photo"))
    assert status.status == "failed" and status.error == "CUDA out of memory"


def test_short_reason_drops_tracebacks_and_long_text() -> None:
    assert short_reason("boom\nTraceback (most recent call last):\n  secret") == "boom"
    assert len(short_reason("x" * 1000)) == 200
    assert short_reason(None) == ""
