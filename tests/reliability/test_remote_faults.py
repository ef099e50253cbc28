"""Every remote fault the stubs can inject, through the real queue: each job ends in the documented
state within the retry policy, and none stays pending or processing."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from home_editor.app_wiring import build_services
from home_editor.core.models import JobStatus, JobType, new_library_id
from home_editor.settings import Settings
from tests.images import photo_bytes
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub

SUBMIT = "/api/v1/rembg/async/"
STATUS = r"/api/v1/jobs/[0-9a-f-]{36}"
RESULT = r"/api/v1/jobs/[0-9a-f-]{36}/result"


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    faults: tuple[Fault, ...]
    status: JobStatus
    attempts: int
    error: str = ""
    submissions: int | None = None
    not_png: int = 0
    note: str = ""


CASES = [
    Case("401 on submit", (Fault("POST", SUBMIT, status=401),), JobStatus.FAILED, 1, "rejected the key (401)", 0),
    Case("403 on submit", (Fault("POST", SUBMIT, status=403),), JobStatus.FAILED, 1, "rejected the key (403)", 0),
    Case("401 while following", (Fault("GET", STATUS, status=401),), JobStatus.FAILED, 1, "rejected the key (401)", 1),
    Case("404 on poll (job gone)", (Fault("GET", STATUS, status=404),), JobStatus.COMPLETED, 2, "", 2),
    Case("429 with Retry-After", (Fault("POST", SUBMIT, status=429, retry_after="1", times=2),),
         JobStatus.COMPLETED, 1, "", 1),
    Case("429 without Retry-After", (Fault("POST", SUBMIT, status=429, times=2),), JobStatus.COMPLETED, 1, "", 1),
    Case("500 burst, then fine", (Fault("POST", SUBMIT, status=500, times=2),), JobStatus.COMPLETED, 3, "", 1),
    Case("500 burst, lasting", (Fault("POST", SUBMIT, status=500, times=9),),
         JobStatus.FAILED, 3, "had an error (500)", 0),
    Case("502s while following", (Fault("GET", STATUS, status=502, times=2),), JobStatus.COMPLETED, 1, "", 1),
    # The hung submit is accepted upstream after the client gave up: without an idempotency key in the
    # API that orphan cannot be found, so one duplicate submission is the documented cost.
    Case("hang beyond the timeout", (Fault("POST", SUBMIT, hang_seconds=3),), JobStatus.COMPLETED, 2, "", 2,
         note="; the hung submit was accepted upstream, so one duplicate submission (the API has no idempotency key)"),
    Case("connection reset", (Fault("POST", SUBMIT, drop=True),), JobStatus.COMPLETED, 2, "", 1),
    Case("malformed JSON on submit", (Fault("POST", SUBMIT, malformed=True),), JobStatus.COMPLETED, 2, "", 2),
    Case("malformed JSON while following", (Fault("GET", STATUS, malformed=True),), JobStatus.COMPLETED, 1, "", 1),
    Case("500 on the result download", (Fault("GET", RESULT, status=500, times=9),),
         JobStatus.FAILED, 3, "had an error (500)"),
    Case("a result that is not a PNG", (), JobStatus.FAILED, 3, "not a PNG image", 3, not_png=3),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_remote_fault_ends_in_the_documented_state(
    case: Case, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    promise = f"{case.status.value} after {case.attempts} attempt{'s' if case.attempts > 1 else ''}"
    request.node.add_marker(
        pytest.mark.reliability(f"F5 {case.name}", promise + (f": “{case.error}”" if case.error else "") + case.note)
    )
    stub = TrellisStub(step_seconds=0.05).start()
    try:
        for fault in case.faults:
            stub.inject(dataclasses.replace(fault))
        stub.next_results.extend([b"<html>not a png</html>"] * case.not_png)
        settings = Settings.from_env(
            {
                "TRELLIS_API_URL": stub.url,
                "TRELLIS_API_KEY": "test-trellis-key",
                "HOME_EDITOR_MEDIA_DIR": str(tmp_path / "media"),
                "HOME_EDITOR_RETRY_BASE_SECONDS": "0.2",
                "HOME_EDITOR_TRELLIS_TIMEOUT_SECONDS": "1",
            }
        )
        services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        await services.library.add_upload(library, "chair.jpg", photo_bytes())
        await asyncio.wait_for(services.runner.until_idle(library), 120)
        [job] = (await services.library.snapshot(library)).jobs
        await services.runner.shutdown()
    finally:
        stub.stop()
    assert job.type is JobType.REMBG and not job.is_active
    assert (job.status, job.attempts) == (case.status, case.attempts), job.error
    assert case.error in job.error
    if case.submissions is not None:
        assert len(stub.submissions()) == case.submissions


@pytest.mark.reliability("F5 a 3D result that is not a GLB", "failed after 3 attempts, each a new submission")
async def test_a_3d_result_that_is_not_a_glb(tmp_path: Path) -> None:
    stub = TrellisStub(step_seconds=0.05).start()
    try:
        settings = Settings.from_env(
            {
                "TRELLIS_API_URL": stub.url,
                "TRELLIS_API_KEY": "test-trellis-key",
                "HOME_EDITOR_MEDIA_DIR": str(tmp_path / "media"),
                "HOME_EDITOR_RETRY_BASE_SECONDS": "0.2",
            }
        )
        services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        item = await services.library.add_upload(library, "chair.jpg", photo_bytes())
        await asyncio.wait_for(services.runner.until_idle(library), 60)
        stub.next_results.extend([b"glTF but not really"] * 3)
        await services.library.generate_model(library, item.id)
        await asyncio.wait_for(services.runner.until_idle(library), 60)
        model = next(job for job in (await services.library.snapshot(library)).jobs if job.type is JobType.GLB)
        await services.runner.shutdown()
    finally:
        stub.stop()
    assert (model.status, model.attempts) == (JobStatus.FAILED, 3) and "not a valid GLB" in model.error
    assert len(stub.submissions("trellis")) == 3
