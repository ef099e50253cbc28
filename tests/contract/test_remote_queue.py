"""The whole queue on the remote backends (Trellis and Vercel Blob stubs over real HTTP): results in
Blob, one submission per job across restarts, and each error class ending where the policy says."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from pathlib import Path

import pytest

from home_editor.app_wiring import Services, build_services
from home_editor.core.models import JobStatus, JobType, new_library_id
from home_editor.processing.glb import read_glb
from home_editor.settings import Settings
from tests.images import photo_bytes
from tests.stubs.blob_stub import BlobStub
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub

JOB = r"/api/v1/jobs/[0-9a-f-]{36}"


def remote_settings(tmp_path: Path, trellis: TrellisStub, blob: BlobStub, key: str = "test-trellis-key") -> Settings:
    return Settings.from_env(
        {
            "TRELLIS_API_URL": trellis.url,
            "TRELLIS_API_KEY": key,
            "BLOB_READ_WRITE_TOKEN": blob.token,
            "VERCEL_BLOB_API_URL": blob.api_url,
            "HOME_EDITOR_POLL_SECONDS": "0.2",
            "HOME_EDITOR_RETRY_BASE_SECONDS": "0.2",
            "HOME_EDITOR_LEASE_SECONDS": "2",
            "HOME_EDITOR_MEDIA_DIR": str(tmp_path / "unused-media"),
        }
    )


def services_for(tmp_path: Path, settings: Settings) -> Services:
    return build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")


async def stored_remote_id(services: Services, library: str, job_type: JobType = JobType.REMBG) -> str:
    """Wait until the store holds the running job's remote id (the processor persists it right after the
    submission), bounded, and return it."""
    async with asyncio.timeout(30):
        while True:
            jobs = (await services.library.snapshot(library)).jobs
            if remote_id := next((job.remote_id for job in jobs if job.type is job_type and job.remote_id), ""):
                return remote_id
            await asyncio.sleep(0.01)


async def upload_and_drain(services: Services, *payloads: bytes) -> tuple[str, list[str]]:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    ids = [(await services.library.add_upload(library, f"photo-{i}.jpg", data)).id for i, data in enumerate(payloads)]
    await asyncio.wait_for(services.runner.until_idle(library), 60)
    return library, ids


async def test_a_photo_becomes_a_cutout_stored_in_blob(tmp_path: Path, trellis: TrellisStub, blob: BlobStub) -> None:
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, [item_id] = await upload_and_drain(services, photo_bytes())
    done = await services.library.store.item(library, item_id)
    assert done.cutout_status is JobStatus.COMPLETED
    assert {url.split("/public/")[0] for url in done.urls.values()} == {blob.url}
    cutout_path = done.urls[done.cutout].split("/public/")[1]
    assert blob.blobs[cutout_path][1] == "image/png" and blob.blobs[cutout_path][0].startswith(b"\x89PNG")
    assert not (tmp_path / "unused-media").exists()  # nothing went to local files
    assert services.backends_label == "Processing: Trellis API · Storage: Vercel Blob"
    assert len(trellis.submissions()) == 1
    await services.runner.shutdown()


async def test_a_restarted_server_re_attaches_instead_of_resubmitting(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    settings = remote_settings(tmp_path, trellis, blob)
    first = services_for(tmp_path, settings)
    library = new_library_id()
    await first.library.store.ensure_library(library, 0)
    trellis.hold()  # the remote job stays queued until released: the restart is mid-job by construction
    item = await first.library.add_upload(library, "chair.jpg", photo_bytes())
    remote_id = await stored_remote_id(first, library)
    await first.runner.shutdown()  # the process dies mid-job; its lease will expire
    assert trellis.status_of(remote_id) == "pending"
    second = services_for(tmp_path, settings)
    trellis.release()
    second.runner.wake(library)
    await asyncio.wait_for(second.runner.until_idle(library), 60)
    done = await second.library.store.item(library, item.id)
    [job] = (await second.library.snapshot(library)).jobs
    assert done.cutout_status is JobStatus.COMPLETED and job.remote_id == remote_id
    assert len(trellis.submissions()) == 1  # re-attached, never resubmitted
    assert job.attempts == 1  # the interrupted attempt was given back
    await second.runner.shutdown()


async def test_a_wrong_key_fails_the_job_at_once_with_the_key_error(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob, key="wrong-key"))
    library, [item_id] = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts, job.error) == (JobStatus.FAILED, 1, "Trellis API rejected the key (401).")
    assert (await services.library.store.item(library, item_id)).cutout_error == job.error
    assert len(trellis.calls("POST", "/api/v1/rembg/async/")) == 1  # no retries
    await services.runner.shutdown()


async def test_two_server_errors_then_success_completes_on_the_third_attempt(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=500, times=2))
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, _ = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 3)
    posts = trellis.calls("POST", "/api/v1/rembg/async/")
    assert [p.status for p in posts] == [500, 500, 200]
    assert posts[1].at - posts[0].at >= 0.1  # a back-off, not an immediate re-run
    await services.runner.shutdown()


async def test_three_server_errors_fail_the_job(tmp_path: Path, trellis: TrellisStub, blob: BlobStub) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=503, times=5))
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, _ = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert len(trellis.calls("POST", "/api/v1/rembg/async/")) == 3
    await services.runner.shutdown()


async def test_429_is_waited_out_without_using_an_attempt(tmp_path: Path, trellis: TrellisStub, blob: BlobStub) -> None:
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=429, retry_after="1", times=2))
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, _ = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 1)
    await services.runner.shutdown()


async def test_the_same_photo_twice_is_processed_once(tmp_path: Path, trellis: TrellisStub, blob: BlobStub) -> None:
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    data = photo_bytes()
    library, [first] = await upload_and_drain(services, data)
    again = await services.library.add_upload(library, "same-again.jpg", data)
    await asyncio.wait_for(services.runner.until_idle(library), 30)
    twin = await services.library.store.item(library, again.id)
    assert twin.cutout_status is JobStatus.COMPLETED and "reused" in twin.cutout_note
    assert len(trellis.submissions()) == 1
    assert twin.cutout != (await services.library.store.item(library, first)).cutout  # its own copy
    await services.runner.shutdown()


async def test_cancelling_a_remote_job_deletes_it_upstream(tmp_path: Path, blob: BlobStub) -> None:
    trellis = TrellisStub(step_seconds=5).start()
    try:
        services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        item = await services.library.add_upload(library, "chair.jpg", photo_bytes())
        remote_id = await stored_remote_id(services, library)
        assert await services.library.cancel(library, item.id)
        await asyncio.wait_for(services.runner.until_idle(library), 10)
        assert trellis.calls("DELETE", f"/api/v1/jobs/{remote_id}") and trellis.jobs == {}
        assert (await services.library.store.item(library, item.id)).cutout_status is JobStatus.CANCELLED
        await services.runner.shutdown()
    finally:
        trellis.stop()


async def test_deleting_an_item_deletes_its_blobs(tmp_path: Path, trellis: TrellisStub, blob: BlobStub) -> None:
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, [item_id] = await upload_and_drain(services, photo_bytes())
    names = sorted(re.sub(r"-[a-z0-9]{12}\.", ".", key.rsplit("/", 1)[1]) for key in blob.blobs)
    assert names == ["cutout.png", "cutout.webp", "original.jpg", "thumb.webp"]  # the cutout and its card preview
    await services.library.delete(library, item_id)
    assert blob.blobs == {}
    await services.runner.shutdown()


def record_job_state_on_delete(trellis: TrellisStub, services: Services, library: str) -> list[tuple[str, str]]:
    """(remote id, the store's status of the job naming it) at the moment each DELETE reaches the stub."""
    seen: list[tuple[str, str]] = []

    def on_request(request) -> None:
        if request.method == "DELETE":
            remote_id = request.path.rsplit("/", 1)[1]
            jobs = services.library.store.sync.snapshot(library).jobs
            seen.append((remote_id, next((j.status.value for j in jobs if j.remote_id == remote_id), "unknown")))

    trellis.on_request = on_request
    return seen


async def test_the_remote_record_is_deleted_only_after_the_result_is_stored(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    seen = record_job_state_on_delete(trellis, services, library)
    item = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    await asyncio.wait_for(services.runner.until_idle(library), 60)
    [job] = (await services.library.snapshot(library)).jobs
    [delete] = trellis.calls("DELETE", JOB)
    [cutout_put] = [r for r in blob.calls("PUT", "/api/blob") if "/cutout-" in r.query["pathname"]][:1]
    assert job.status is JobStatus.COMPLETED and job.remote_id
    assert seen == [(job.remote_id, "completed")]  # the job was recorded completed before the DELETE arrived
    assert cutout_put.at < delete.at and trellis.jobs == {}
    assert (await services.library.store.item(library, item.id)).cutout_status is JobStatus.COMPLETED
    await services.runner.shutdown()


async def test_a_job_that_failed_for_good_has_its_remote_record_deleted(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.inject(Fault("GET", JOB + "/result", status=500, times=9))  # every download fails: 3 attempts
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    seen = record_job_state_on_delete(trellis, services, library)
    await services.library.add_upload(library, "chair.jpg", photo_bytes())
    await asyncio.wait_for(services.runner.until_idle(library), 60)
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3) and len(trellis.submissions()) == 1
    assert seen == [(job.remote_id, "failed")] and trellis.jobs == {}  # deleted once, after failing for good
    await services.runner.shutdown()


async def test_a_remote_job_past_its_deadline_uses_an_attempt_and_is_deleted_upstream(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.queue_seconds = 10**6  # every remote job stays queued for ever
    settings = dataclasses.replace(remote_settings(tmp_path, trellis, blob), trellis_cutout_deadline_minutes=0.01)
    services = services_for(tmp_path, settings)
    library, _ = await upload_and_drain(services, photo_bytes())  # bounded: without a deadline it never drains
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert job.error == "The Trellis API did not finish within 0.01 min."
    deleted = {request.path for request in trellis.calls("DELETE", JOB)}
    assert len(trellis.submissions()) == 3 and len(deleted) == 3 and trellis.jobs == {}  # each one dropped
    await services.runner.shutdown()


@pytest.mark.parametrize("lost", ["vanished", "lost_result"], ids=["status 404", "result 404"])
async def test_a_remote_job_that_is_gone_is_submitted_again_as_a_new_attempt(
    lost: str, tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.next_outcomes.append(lost)  # 404 on the job's status, or on its result (contract §7)
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, _ = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 2) and len(trellis.submissions()) == 2
    first_id = trellis.calls("GET", JOB)[0].path.rsplit("/", 1)[1]
    asked = [request.status for request in trellis.calls("GET", f"/api/v1/jobs/{first_id}(/result)?")]
    assert job.remote_id != first_id and asked[-1] == 404 and asked.count(404) == 1  # never asked again
    assert trellis.jobs == {}  # what was left of a lost result's record was dropped too
    await services.runner.shutdown()


@pytest.mark.parametrize("lost", ["vanished", "lost_result"], ids=["status 404", "result 404"])
async def test_a_remote_job_gone_on_the_last_attempt_fails_saying_so(
    lost: str, tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.next_outcomes.append(lost)
    settings = dataclasses.replace(remote_settings(tmp_path, trellis, blob), max_attempts=1)
    services = services_for(tmp_path, settings)
    library, _ = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1) and len(trellis.submissions()) == 1
    gone = {"vanished": "The Trellis job no longer exists (404).", "lost_result": "The Trellis API no longer has"}
    assert job.error.startswith(gone[lost])
    assert "retried" not in job.error and trellis.jobs == {}
    await services.runner.shutdown()


async def test_retrying_a_failed_job_deletes_its_old_remote_record(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.next_outcomes.append("failed")
    trellis.inject(Fault("DELETE", JOB, status=503))  # the DELETE when it failed is lost: the record outlives it
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, [item_id] = await upload_and_drain(services, photo_bytes())
    [failed] = (await services.library.snapshot(library)).jobs
    assert failed.status is JobStatus.FAILED and failed.remote_id in trellis.jobs
    assert await services.library.retry(library, item_id)
    assert trellis.calls("DELETE", f"/api/v1/jobs/{failed.remote_id}")[-1].status == 200
    assert failed.remote_id not in trellis.jobs
    await asyncio.wait_for(services.runner.until_idle(library), 60)
    [again] = (await services.library.snapshot(library)).jobs
    assert again.status is JobStatus.COMPLETED and len(trellis.submissions()) == 2  # a new submission
    await services.runner.shutdown()


@pytest.mark.parametrize("outcome", ["completed", "failed"])
async def test_deleting_an_item_deletes_the_remote_records_of_its_settled_jobs(
    outcome: str, tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    trellis.next_outcomes.append(outcome)
    trellis.inject(Fault("DELETE", JOB, status=503))  # the record outlives its job upstream
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library, [item_id] = await upload_and_drain(services, photo_bytes())
    [job] = (await services.library.snapshot(library)).jobs
    assert job.status.value == outcome and job.remote_id in trellis.jobs
    assert await services.library.delete(library, item_id)
    assert trellis.calls("DELETE", f"/api/v1/jobs/{job.remote_id}")[-1].status == 200
    assert trellis.jobs == {}
    await services.runner.shutdown()


async def test_a_failing_blob_store_refuses_the_upload_and_keeps_nothing(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    blob.inject(Fault("PUT", "/api/blob", status=500, times=99, retry_after="0"))
    services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
    library = new_library_id()
    with pytest.raises(Exception, match="unavailable"):
        await services.library.add_upload(library, "chair.jpg", photo_bytes())
    assert (await services.library.snapshot(library)).items == [] and blob.blobs == {}
    await services.runner.shutdown()


async def cut_out_first(services: Services) -> tuple[str, str]:
    library, [item_id] = await upload_and_drain(services, photo_bytes())
    return library, item_id


async def test_a_3d_model_comes_from_the_trellis_endpoint_upright_and_stored_in_blob(
    tmp_path: Path, blob: BlobStub
) -> None:
    trellis = TrellisStub(step_seconds=1.0).start()
    try:
        services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
        library, item_id = await cut_out_first(services)
        messages = set()
        assert await services.library.generate_model(library, item_id)
        async with asyncio.timeout(60):  # every progress report notifies the hub: each stage is seen
            while True:
                seen = services.hub.version(library)
                job = next(j for j in (await services.library.snapshot(library)).jobs if j.type is JobType.GLB)
                messages.add(job.message)
                if not job.is_active:
                    break
                await services.hub.wait(library, seen, timeout=5)
        done = await services.library.store.item(library, item_id)
        [submitted] = trellis.submissions("trellis")
        assert submitted.query == {"seed": "1"}
        cutout_path = done.urls[done.cutout].split("/public/")[1]
        assert trellis.jobs == {} and submitted.body.count(blob.blobs[cutout_path][0][:64]) == 1  # the cutout went up
        assert messages & {"Running inference...", "Extracting mesh...", "Loading TRELLIS model..."}
        assert done.model_status is JobStatus.COMPLETED and done.model.startswith("model-")
        stored, content_type = blob.blobs[done.urls[done.model].split("/public/")[1]]
        assert content_type == "model/gltf-binary"
        document, _ = read_glb(stored)
        assert document["nodes"][document["scenes"][0]["nodes"][0]]["name"] == "upright"
        await services.runner.shutdown()
    finally:
        trellis.stop()


async def test_a_3d_job_re_attaches_after_a_restart_and_cancel_deletes_upstream(
    tmp_path: Path, trellis: TrellisStub, blob: BlobStub
) -> None:
    settings = remote_settings(tmp_path, trellis, blob)
    first = services_for(tmp_path, settings)
    library, item_id = await cut_out_first(first)
    trellis.hold()  # the model stays queued upstream: the restart and the cancel are mid-job
    await first.library.generate_model(library, item_id)
    remote_id = await stored_remote_id(first, library, JobType.GLB)
    await first.runner.shutdown()
    restarted = time.monotonic()  # the stub logs arrivals on this clock
    second = services_for(tmp_path, settings)
    second.runner.wake(library)
    async with asyncio.timeout(30):  # the second process re-attaches: it follows the same remote job
        while not any(r.at > restarted for r in trellis.calls("GET", f"/api/v1/jobs/{remote_id}")):
            await asyncio.sleep(0.01)
    assert second.runner.running_count(library) == 1 and trellis.status_of(remote_id) == "pending"
    assert await second.library.cancel(library, item_id, JobType.GLB)
    await asyncio.wait_for(second.runner.until_idle(library), 10)
    [delete] = trellis.calls("DELETE", f"/api/v1/jobs/{remote_id}")
    assert delete.status == 200 and trellis.status_of(remote_id) == "gone"
    assert len(trellis.submissions("trellis")) == 1  # re-attached, never resubmitted
    assert (await second.library.store.item(library, item_id)).model_status is JobStatus.CANCELLED
    await second.runner.shutdown()


async def test_cancelling_a_3d_job_deletes_it_upstream(tmp_path: Path, blob: BlobStub) -> None:
    trellis = TrellisStub(step_seconds=5).start()
    try:
        services = services_for(tmp_path, remote_settings(tmp_path, trellis, blob))
        trellis.step_seconds = trellis.queue_seconds = 0.05  # quick cutout
        library, item_id = await cut_out_first(services)
        trellis.step_seconds = trellis.queue_seconds = 5  # a slow model
        await services.library.generate_model(library, item_id)
        remote_id = await stored_remote_id(services, library, JobType.GLB)
        assert await services.library.cancel(library, item_id, JobType.GLB)
        await asyncio.wait_for(services.runner.until_idle(library), 10)
        assert trellis.calls("DELETE", f"/api/v1/jobs/{remote_id}")
        assert (await services.library.store.item(library, item_id)).model_status is JobStatus.CANCELLED
        await services.runner.shutdown()
    finally:
        trellis.stop()
