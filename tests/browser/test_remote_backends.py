"""The app on the remote backends, in Chromium: the Trellis API and Vercel Blob are loopback stubs that
speak their documented contracts; everything else is the real app."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from home_editor.core.models import JobStatus
from tests.browser.app_server import AppServer
from tests.browser.conftest import BLOB_TOKEN, TRELLIS_KEY
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, statuses, wait_for
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub

pytestmark = pytest.mark.browser


def only_job(app: AppServer, page: Page):
    [job] = app.store.snapshot(local_storage(page)["library"]).jobs
    return job


def submissions_since(trellis: TrellisStub, start: int) -> int:
    return sum(1 for request in trellis.submissions()[start:])


def test_a_photo_is_cut_out_by_the_api_and_stored_in_blob(
    remote_app: AppServer, stubs, page: Page, images: dict[str, Path]
) -> None:
    trellis, blob = stubs
    before = len(trellis.submissions())
    open_app(page, remote_app)
    expect(page.get_by_test_id("backends")).to_have_text("Processing: Trellis API · Storage: Vercel Blob")
    page.set_input_files(DROP, [images["chair.jpg"]])
    thumbnail = page.get_by_test_id("item-thumbnail")
    wait_for(page, lambda p: "processing" in statuses(p).values(), what="the remote job to start")
    stages = ("Job queued for processing", "Processing image...", "Saving result...")
    wait_for(page, lambda p: any(stage in p.inner_text("body") for stage in stages), what="the API's own stage")
    wait_for(page, all_completed(1), what="the remote cutout")
    src = thumbnail.get_attribute("src")
    assert src.startswith(f"{blob.url}/public/") and "/cutout-" in src
    assert src.split("/public/")[1] in blob.blobs
    expect(thumbnail).to_have_js_property("naturalWidth", 512)  # the browser loaded the preview from Blob
    assert src.endswith(".webp") and src.replace(".webp", ".png").split("/public/")[1] in blob.blobs
    assert submissions_since(trellis, before) == 1


@pytest.mark.reliability(
    "F4 server killed (SIGKILL) mid-job, remote",
    "killed while the remote job was still queued upstream (stub held); re-attached to the same remote job:"
    " one submission, no attempt used",
)
def test_reloads_and_a_restart_re_attach_to_the_remote_job_never_resubmit(
    remote_app: AppServer, stubs, page: Page, images: dict[str, Path]
) -> None:
    trellis, _ = stubs
    open_app(page, remote_app)
    trellis.hold()  # the remote job cannot finish until released: the kill below is mid-job by construction
    page.set_input_files(DROP, [images["lamp.png"]])
    wait_for(page, lambda p: "processing" in statuses(p).values(), what="the remote job to start")
    wait_for(page, lambda p: only_job(remote_app, p).remote_id, what="the remote id to be stored")
    remote_id = only_job(remote_app, page).remote_id
    page.reload()
    page.wait_for_selector("[data-ready=true]")
    assert trellis.status_of(remote_id) in ("pending", "processing")
    remote_app.kill()
    killed = time.monotonic()  # the stub logs arrivals on the same clock
    assert trellis.status_of(remote_id) in ("pending", "processing")  # still running upstream at the kill
    remote_app.start()
    followed = f"/api/v1/jobs/{remote_id}"
    wait_for(page, lambda p: any(r.at > killed for r in trellis.calls("GET", followed)), timeout=60,
             what="the restarted app to follow the same remote job")  # fmt: skip
    trellis.release()
    wait_for(page, all_completed(1), timeout=60, what="the re-attached job")
    assert len(trellis.submissions()) == 1  # the log starts empty for each test
    job = only_job(remote_app, page)
    assert (job.attempts, job.remote_id) == (1, remote_id)


@pytest.mark.reliability("S a rejected key is reported, not retried", "failed after 1 attempt with the key error")
def test_a_rejected_key_fails_the_job_at_once_and_says_so(
    remote_app: AppServer, stubs, page: Page, images: dict[str, Path]
) -> None:
    trellis, _ = stubs
    trellis.keys = ("a-different-key",)
    open_app(page, remote_app)
    page.set_input_files(DROP, [images["sofa.jpg"]])
    wait_for(page, lambda p: set(statuses(p).values()) == {"failed"}, what="the failure")
    expect(page.get_by_test_id("item-error")).to_have_text("Trellis API rejected the key (401).")
    expect(page.get_by_test_id("retry-button")).to_be_visible()
    job = only_job(remote_app, page)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)


def test_two_server_errors_then_success_complete_after_three_attempts(
    remote_app: AppServer, stubs, page: Page, images: dict[str, Path]
) -> None:
    trellis, _ = stubs
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=500, times=2))
    open_app(page, remote_app)
    page.set_input_files(DROP, [images["table.webp"]])
    wait_for(page, all_completed(1), timeout=60, what="completion after retries")
    assert only_job(remote_app, page).attempts == 3


def test_429_is_waited_out_without_using_an_attempt(
    remote_app: AppServer, stubs, page: Page, images: dict[str, Path]
) -> None:
    trellis, _ = stubs
    trellis.inject(Fault("POST", "/api/v1/rembg/async/", status=429, retry_after="2"))
    open_app(page, remote_app)
    started = time.monotonic()
    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), timeout=60, what="completion after the 429")
    assert time.monotonic() - started >= 2
    assert only_job(remote_app, page).attempts == 1


@pytest.mark.reliability(
    "S no secret reaches the browser", "keys absent from page HTML, JS bundles, state deltas and localStorage"
)
def test_no_secret_reaches_the_browser(remote_app: AppServer, page: Page, images: dict[str, Path]) -> None:
    frames: list[str] = []
    scripts: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    page.on(
        "response",
        lambda response: scripts.append(response.url) if response.request.resource_type == "script" else None,
    )
    open_app(page, remote_app)
    page.set_input_files(DROP, [images["notes.png"], images["lamp.png"]])
    wait_for(page, all_completed(1), timeout=60, what="a cutout")
    bundles = [httpx.get(url, timeout=10).text for url in scripts]
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    everything = "\n".join([page.content(), stored, *frames, *bundles])
    assert len(frames) > 5 and len(bundles) > 3  # the state deltas and the bundles were really captured
    for secret in (TRELLIS_KEY, BLOB_TOKEN, BLOB_TOKEN.rsplit("_", 1)[1]):
        assert secret not in everything


def test_a_3d_model_from_the_api_shows_its_stages_and_opens_in_the_viewer(
    remote_app: AppServer, stubs, page: Page, images: dict[str, Path]
) -> None:
    trellis, blob = stubs
    before = len(trellis.submissions("trellis"))
    open_app(page, remote_app)
    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), timeout=30, what="the cutout")
    item = page.get_by_test_id("item-card")
    item.get_by_test_id("generate-3d-button").click()
    stages = ("Loading TRELLIS model...", "Running inference...", "Extracting mesh...", "Saving result...")
    wait_for(page, lambda p: any(stage in p.inner_text("body") for stage in stages), what="a TRELLIS stage")
    expect(item.get_by_test_id("model-status")).to_have_text("completed", timeout=30_000)
    expect(item.get_by_text("2.5D preview")).to_have_count(0)  # a real reconstruction is not labelled 2.5D
    glb_url = item.get_attribute("data-glb-url")
    assert glb_url.startswith(f"{blob.url}/public/") and glb_url.split("/public/")[1] in blob.blobs
    item.get_by_test_id("view-3d-button").click()
    expect(page.get_by_test_id("model-viewer")).to_have_js_property("loaded", True, timeout=20_000)
    assert submissions_since_type(trellis, "trellis", before) == 1


def submissions_since_type(trellis: TrellisStub, job_type: str, start: int) -> int:
    return len(trellis.submissions(job_type)[start:])
